"""The public face of the runtime for the web layer: commands and reads.

Handlers never compute scan state. A read is one Redis round trip for the
published snapshot plus an ownership check; a command is a message (creating a
scan writes its queued snapshot and work before returning its id; cancelling
appends to the mailbox).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from config.errors import SettingsError
from config.settings import Settings
from coordinator.actor.fold import progress_of
from coordinator.actor.mailbox import Mailbox
from coordinator.errors import InvalidScanRequest, ScanExpired, ScanNotFound, TooManyScans
from coordinator.process.clock import MS_PER_S, iso, now_ms
from coordinator.process.metrics import SCANS_STARTED
from coordinator.service.new_scan import NewScanClaimer, plan_new_scan
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline, same_reply
from coordinator.store.codec import (
    json_encoder,
    timeline_events,
    tombstone_decoder,
)
from coordinator.store.generation import GenerationGuard
from coordinator.store.records import (
    TERMINAL_SCAN_STATUSES,
    ActorState,
    Cancel,
    LifecycleEvent,
    ScanSnapshot,
    ScanStatus,
    StrategyState,
)
from coordinator.store.redis_client import runs_in_order
from coordinator.store.scripts.user import ClaimUserScan, TakeStartSlot
from coordinator.store.work import WorkQueue
from strategies.errors import UnknownStrategy
from strategies.registry import Registry

SUPERSEDED_REASON = "superseded by a concurrent request for the same user"


@dataclass(frozen=True, slots=True)
class SnapshotRead:
    """A snapshot exactly as published (raw JSON bytes, never re-encoded)."""

    scan_id: str
    body: bytes
    version: int
    status: ScanStatus


@dataclass(frozen=True, slots=True)
class Created:
    snapshot: SnapshotRead
    created: bool  # False: the user's active scan or an idempotent retry came back
    claimed: bool = False  # this process took the new scan's lease as it created it


SNAPSHOT_FIELDS = ("snap", "user", "version", "status")


def queue_snapshot_read(pipe: Pipeline, scan_id: str, _asking: Sequence[None]) -> None:
    pipe.hmget(keys.scan(scan_id), SNAPSHOT_FIELDS)


def is_scan_id(text: str) -> bool:
    """Ids are 32 lowercase hex digits; anything else cannot name a scan."""
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


class Scans:
    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        registry: Registry,
        symbols: Sequence[str],
        generation: GenerationGuard,
        autopipe: AutoPipeline | None = None,
        claimer: NewScanClaimer | None = None,
    ) -> None:
        self._redis = redis
        self._claimer = claimer
        self._settings = settings
        self._registry = registry
        self._symbols = tuple(symbols)
        self._generation = generation
        unknown = [name for name in settings.default_strategies if name not in registry.names()]
        if unknown:
            # Caught at startup, not blamed on every client as a 422 later.
            raise SettingsError("DEFAULT_STRATEGIES", f"unknown strategies: {', '.join(unknown)}")
        # Concurrent requests' commands share round trips (with the process's
        # coordinator, when it passes its auto-pipeline).
        self._autopipe = autopipe or AutoPipeline(redis)
        self._mailbox = Mailbox(redis, self._autopipe)
        self._work = WorkQueue(redis, settings, self._autopipe)

    # ---- validation ----

    def strategies_for(self, requested: Sequence[str] | None) -> tuple[str, ...]:
        names = requested or self._settings.default_strategies or self._registry.defaults()
        try:
            return self._registry.validate(names)
        except UnknownStrategy as exc:
            raise InvalidScanRequest(
                "strategies", f"unknown strategies: {', '.join(exc.names)}", exc.valid
            ) from None

    def symbols_for(self, requested: Sequence[str] | None) -> tuple[str, ...]:
        if not requested:
            return self._symbols
        unknown = [symbol for symbol in requested if symbol not in self._symbols]
        if unknown:
            raise InvalidScanRequest(
                "symbols", f"unknown symbols: {', '.join(unknown)}", self._symbols
            )
        if len(requested) > self._settings.max_symbols_per_scan:
            raise InvalidScanRequest(
                "symbols", f"at most {self._settings.max_symbols_per_scan} symbols per scan"
            )
        return tuple(dict.fromkeys(requested))

    # ---- commands ----

    async def create(
        self,
        user_id: str,
        strategies: Sequence[str] | None,
        symbols: Sequence[str] | None,
        idempotency_key: str | None,
    ) -> Created:
        """Start a scan, or return the user's active scan / the idempotent original."""
        self._generation.ensure_ok()
        names = self.strategies_for(strategies)
        chosen = self.symbols_for(symbols)
        existing, stale_active = await self.existing_scan(user_id, idempotency_key)
        if existing is not None:
            return Created(existing, created=False)
        await self.take_start_slot(user_id)
        snapshot, state = self.new_scan(user_id, names, chosen)
        claimed = await self.write_new_scan(snapshot, state)
        winner_id = await self.claim_user_scan(
            user_id, snapshot.scan_id, idempotency_key, stale_active
        )
        if winner_id != snapshot.scan_id:
            # Another request of this user won the race; ours must not run.
            await self._mailbox.append(
                snapshot.scan_id, Cancel(by=user_id, at_ms=now_ms(), reason=SUPERSEDED_REASON)
            )
            return Created(await self.read(winner_id, user_id), created=False)
        SCANS_STARTED.inc()
        body = json_encoder.encode(snapshot)
        return Created(
            SnapshotRead(snapshot.scan_id, body, snapshot.version, snapshot.status),
            created=True,
            claimed=claimed,
        )

    async def take_start_slot(self, user_id: str) -> None:
        s = self._settings
        slot = await self._autopipe.call(
            TakeStartSlot(
                user_id=user_id,
                limit=s.scan_starts_per_window,
                window_ms=s.rate_window_s * MS_PER_S,
            )
        )
        if not slot.allowed:
            raise TooManyScans(
                user_id, s.scan_starts_per_window, s.rate_window_s, slot.retry_after_ms
            )

    async def existing_scan(
        self, user_id: str, idempotency_key: str | None
    ) -> tuple[SnapshotRead | None, str | None]:
        """The scan a retry or a second POST should get back, and a stale active pointer."""

        def queue(pipe: Pipeline) -> None:
            # The marker rides along: a worker that has not yet noticed Redis came
            # back empty must not start a scan on it.
            pipe.get(keys.GENERATION_KEY)
            pipe.get(keys.user_active(user_id))
            if idempotency_key:
                pipe.get(keys.user_idempotency(user_id, idempotency_key))

        replies = await self._autopipe.run(queue)
        await self._generation.judge(replies[0])
        self._generation.ensure_ok()
        active = replies[1].decode() if replies[1] else None
        original = replies[2].decode() if len(replies) > 2 and replies[2] else None
        for candidate in (original, active):
            if candidate is None:
                continue
            found = await self.peek(candidate, user_id)
            if found is not None and (
                candidate == original or found.status not in TERMINAL_SCAN_STATUSES
            ):
                return found, None
        return None, active

    def new_scan(
        self, user_id: str, strategies: Sequence[str], symbols: Sequence[str]
    ) -> tuple[ScanSnapshot, ActorState]:
        created = now_ms()
        deadline = created + int(self._settings.scan_deadline_s * MS_PER_S)
        states = [StrategyState(name=name) for name in strategies]
        snapshot = ScanSnapshot(
            scan_id=uuid.uuid4().hex,
            user_id=user_id,
            status=ScanStatus.QUEUED,
            version=1,
            progress=progress_of(states, 0),
            strategies=states,
            symbols=list(symbols),
            created_at=iso(created),
            deadline_at=iso(deadline),
            updated_at=iso(created),
        )
        return snapshot, ActorState(deadline_ms=deadline)

    async def write_new_scan(self, snapshot: ScanSnapshot, state: ActorState) -> bool:
        """Write the queued snapshot, timeline, tombstone, index entry and work: all before
        the id is returned. Whether this process's coordinator claimed the scan too.

        The snapshot must exist before any worker can take its work. One Redis runs a
        pipeline in order, so both go in one round trip (were the create refused, the
        work would find no scan and be dropped unrun), and this process claims the scan
        in it too, taking the scan's work as it adds it, as far as it has free slots
        (the work stays in the shared stream and pending list, so anyone reclaims it if
        this process dies): its reports then stay here. A Cluster pipeline's commands
        to different nodes run in any order, so there it takes two round trips, and the
        claim comes after (adopt_soon)."""
        plan = plan_new_scan(snapshot, state, self._settings)
        if not runs_in_order(self._redis):
            await self._autopipe.call(plan.create)
            _indexed, _enqueued, marker = await self._autopipe.run(
                lambda pipe: plan.queue_work(pipe, self._work)
            )
            await self.judge_generation(marker)
            return False
        replies = await self._autopipe.run(
            lambda pipe: plan.queue_all(pipe, self._work, self._claimer)
        )
        written = plan.written(replies, self._work)
        await self.judge_generation(written.marker)
        return plan.claim is not None and plan.claim(written.claim_replies, written.taken)

    async def judge_generation(self, marker: bytes | None) -> None:
        """Refuse to go on (GenerationLost) if the marker read says Redis lost its data."""
        await self._generation.judge(marker)
        self._generation.ensure_ok()

    async def claim_user_scan(
        self, user_id: str, scan_id: str, idempotency_key: str | None, stale_active: str | None
    ) -> str:
        """Point the user's active (and idempotency) key at the new scan, once it is
        written and the marker said Redis kept its data; the id of the scan holding
        the pointer: ours, or a concurrent request's."""
        s = self._settings
        return await self._autopipe.call(
            ClaimUserScan(
                user_id=user_id,
                scan_id=scan_id,
                idempotency_key=idempotency_key,
                stale_active=stale_active,
                created_ms=now_ms(),
                history_limit=s.user_history_limit,
                ttl_ms=keys.user_keys_ttl_ms(s),
            )
        )

    async def owner_of(self, scan_id: str) -> str:
        """The user a scan belongs to (operators only); ScanNotFound when unknown."""
        self._generation.ensure_ok()
        owner = await self._redis.hget(keys.scan(scan_id), "user") if is_scan_id(scan_id) else None
        if owner is None:
            raise ScanNotFound(scan_id)
        return str(owner.decode())

    async def cancel(self, scan_id: str, user_id: str, by: str) -> SnapshotRead:
        """Ask the owner to cancel; a scan that already ended is returned as it is."""
        current = await self.read(scan_id, user_id)
        if current.status not in TERMINAL_SCAN_STATUSES:
            reason = "cancelled by user" if by == user_id else f"cancelled by {by}"
            await self._mailbox.append(scan_id, Cancel(by=by, at_ms=now_ms(), reason=reason))
        return current

    # ---- reads ----

    async def peek(self, scan_id: str, user_id: str) -> SnapshotRead | None:
        """The published snapshot if it exists and is this user's, else None."""
        # Concurrent reads of one scan share one HMGET (a popular scan is read by many).
        body, owner, version, status = await self._autopipe.run_grouped(
            queue_snapshot_read, same_reply, scan_id, None
        )
        if body is None or owner is None or owner.decode() != user_id:
            return None
        return SnapshotRead(scan_id, body, int(version), ScanStatus(status.decode()))

    async def read(self, scan_id: str, user_id: str) -> SnapshotRead:
        """The snapshot; ScanExpired / ScanNotFound / GenerationLost otherwise."""
        self._generation.ensure_ok()
        found = await self.peek(scan_id, user_id) if is_scan_id(scan_id) else None
        if found is None:
            await self.explain_missing(scan_id, user_id)
            raise ScanNotFound(scan_id)
        return found

    async def explain_missing(self, scan_id: str, user_id: str) -> None:
        """Raise ScanExpired for the owner of an expired scan, or GenerationLost."""
        if not is_scan_id(scan_id):
            return
        raw = await self._redis.get(keys.tombstone(scan_id))
        if raw is not None:
            tomb = tombstone_decoder.decode(raw)
            if tomb.user_id == user_id:
                raise ScanExpired(scan_id, tomb.status, tomb.finished_at)
        await self._generation.verify()

    async def read_results(self, scan_id: str, user_id: str) -> tuple[SnapshotRead, bytes]:
        """The snapshot and the raw JSON list of opportunities found so far."""
        self._generation.ensure_ok()
        if is_scan_id(scan_id):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hmget(keys.scan(scan_id), SNAPSHOT_FIELDS)
                pipe.get(keys.results(scan_id))
                (body, owner, version, status), results = await pipe.execute()
            if body is not None and owner is not None and owner.decode() == user_id:
                found = SnapshotRead(scan_id, body, int(version), ScanStatus(status.decode()))
                return found, results or b"[]"
        await self.explain_missing(scan_id, user_id)
        raise ScanNotFound(scan_id)

    async def lifecycle(self, scan_id: str, user_id: str) -> list[LifecycleEvent]:
        await self.read(scan_id, user_id)
        raw = await self._redis.xrange(keys.lifecycle(scan_id))
        events = [event for _id, fields in raw for event in timeline_events(fields)]
        # Strategy events are recorded when folded; order the timeline by when they happened.
        return sorted(events, key=lambda event: event.at)

    async def recent(self, user_id: str, limit: int) -> list[bytes]:
        """The user's recent scans, newest first, as published snapshots."""
        self._generation.ensure_ok()
        ids = await self._redis.zrevrange(keys.user_scans(user_id), 0, limit - 1)
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for raw in ids:
                pipe.hget(keys.scan(raw.decode()), "snap")
            bodies = await pipe.execute()
        return [body for body in bodies if body is not None]
