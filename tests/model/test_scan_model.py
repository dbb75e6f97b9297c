"""A model-based test of one scan's ownership, driven by Hypothesis.

A ``RuleBasedStateMachine`` drives the real runtime pieces (the Lua scripts
through LeaseStore, Publisher and Mailbox; ScanActor and its fold) against a
real redis-server, with several would-be owners that acquire, renew, pause,
lose their lease, crash and restart, hand over, while strategy attempts report,
retry their reports, and report late as zombies. After every rule the
invariants of docs/architecture.md are checked against what Redis holds and against
a small reference model of the fold written independently here.

Leases never lapse by wall-clock time in this test (their TTL outlasts any
example); only the rules make them lapse, so every example replays exactly.
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from redis.asyncio import Redis

from config.settings import Settings
from coordinator.actor.fold import ScanView
from coordinator.actor.lease import Lease, LeaseStore
from coordinator.actor.mailbox import Entry, Mailbox
from coordinator.actor.publisher import Publisher
from coordinator.actor.scan_actor import ActorDeps, ScanActor
from coordinator.errors import LeaseLost
from coordinator.service.scans import Scans
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.codec import (
    actor_state_decoder,
    results_decoder,
    snapshot_decoder,
    timeline_events,
)
from coordinator.store.generation import GenerationGuard
from coordinator.store.records import (
    TERMINAL_SCAN_STATUSES,
    TERMINAL_STRATEGY_STATUSES,
    Cancel,
    MailboxMessage,
    Report,
    ScanStatus,
    Started,
    StrategyStatus,
)
from coordinator.store.redis_client import connect
from strategies.opportunity import Opportunity
from tests.support import StaticProvider, diagnostic_registry, make_settings, sample_opportunity

T = TypeVar("T")

# `make test` runs the short profile (well under a minute); MODEL_PROFILE=long
# (used by `make chaos`) explores far more interleavings.
# The short profile is derandomized: the same interleavings on every run, so CI
# and the mutation script (tests/mutation) get a stable verdict. The mutation
# profile is the short one without shrinking: it only needs to know "red".
PROFILES = {
    "short": {"max_examples": 100, "stateful_step_count": 50, "derandomize": True, "shrink": True},
    "long": {"max_examples": 1000, "stateful_step_count": 80, "derandomize": False, "shrink": True},
    "mutation": {
        "max_examples": 100,
        "stateful_step_count": 50,
        "derandomize": True,
        "shrink": False,
    },
}
PROFILE = PROFILES[os.environ.get("MODEL_PROFILE", "short")]
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
# Longer than any example runs, so a lease lapses only when a rule says so.
MODEL_LEASE_TTL_MS = 600_000
# Likewise no example lives long enough for the scan's deadline to end it.
MODEL_SCAN_DEADLINE_S = 3600.0
WORKERS = ("w0:100", "w1:101", "w2:102")
STRATEGIES = ("noop", "sleep_100ms")
USER = "model-user"
# Attempts a strategy may be restarted to (a reclaimed task is a new attempt).
MAX_ATTEMPT = 3
# A cancel only once this much mail went in, so most examples reach a report-driven end.
CANCEL_AFTER_APPENDS = 8
REPORT_STATUSES = (StrategyStatus.COMPLETED, StrategyStatus.FAILED)


@dataclass(frozen=True, slots=True)
class WriteAttempt:
    """One owner write attempt: who, at which epoch, who held the lease, the outcome."""

    worker: str
    epoch: int
    token: str
    holder_token: str | None  # the lease token in Redis just before the write
    version: int | None  # the version written; None when fenced
    reason: str = ""


class RecordingPublisher(Publisher):
    """The real publisher, with every attempt appended to the history."""

    def __init__(self, redis: Redis, settings: Settings, history: list[WriteAttempt]) -> None:
        super().__init__(settings, AutoPipeline(redis))
        self.redis = redis
        self.worker = settings.worker_id
        self.history = history

    async def publish(self, lease: Lease, view: ScanView) -> int:
        raw = await self.redis.hget(keys.lease(lease.scan_id), "token")
        holder = raw.decode() if raw is not None else None
        try:
            version = await super().publish(lease, view)
        except LeaseLost as exc:
            self.history.append(
                WriteAttempt(self.worker, lease.epoch, lease.token, holder, None, exc.reason)
            )
            raise
        self.history.append(WriteAttempt(self.worker, lease.epoch, lease.token, holder, version))
        return version


class InterleavingMailbox(Mailbox):
    """The owners' mailbox, through which a rule can make mail land between an
    owner's read and its publish, as a strategy's concurrent append does."""

    def __init__(self, redis: Redis) -> None:
        super().__init__(redis)
        self.arriving: list[MailboxMessage] = []
        self.landed: list[tuple[str, MailboxMessage]] = []

    async def read_after(self, scan_id: str, cursor: str) -> list[Entry]:
        entries = await super().read_after(scan_id, cursor)
        while self.arriving:
            message = self.arriving.pop(0)
            entry_id = await self.append(scan_id, message)
            if entry_id is not None:
                self.landed.append((entry_id, message))
        return entries


@dataclass
class StrategyModel:
    status: StrategyStatus = StrategyStatus.PENDING
    attempt: int = 0


@dataclass
class ReferenceFold:
    """What the published snapshot must say after folding a prefix of the mailbox."""

    strategies: dict[str, StrategyModel] = field(
        default_factory=lambda: {name: StrategyModel() for name in STRATEGIES}
    )
    applied: list[str] = field(default_factory=list)  # report ids with an opportunity
    applied_ids: set[str] = field(default_factory=set)
    status: ScanStatus = ScanStatus.RUNNING

    def apply(self, message: MailboxMessage) -> None:
        if self.status in TERMINAL_SCAN_STATUSES:
            return
        match message:
            case Started(strategy=name, attempt=attempt):
                item = self.strategies[name]
                if item.status not in TERMINAL_STRATEGY_STATUSES and attempt > item.attempt:
                    item.status, item.attempt = StrategyStatus.RUNNING, attempt
            case Report(report_id=report_id, strategy=name, attempt=attempt):
                item = self.strategies[name]
                if report_id in self.applied_ids or item.status in TERMINAL_STRATEGY_STATUSES:
                    return
                if attempt < item.attempt:
                    return
                self.applied_ids.add(report_id)
                item.status, item.attempt = message.status, attempt
                if message.opportunities:
                    self.applied.append(report_id)
            case Cancel():
                for item in self.strategies.values():
                    if item.status not in TERMINAL_STRATEGY_STATUSES:
                        item.status = StrategyStatus.CANCELLED
                self.status = ScanStatus.CANCELLED
        self.settle()

    def settle(self) -> None:
        if self.status in TERMINAL_SCAN_STATUSES:
            return
        items = self.strategies.values()
        if all(item.status in TERMINAL_STRATEGY_STATUSES for item in items):
            completed = any(item.status == StrategyStatus.COMPLETED for item in items)
            self.status = ScanStatus.COMPLETED if completed else ScanStatus.FAILED


def stream_id(entry_id: str) -> tuple[int, int]:
    millis, _, sequence = entry_id.partition("-")
    return int(millis), int(sequence)


def opportunity_for(report_id: str) -> Opportunity:
    """One opportunity per applied report, named by it, so a double apply shows."""
    return sample_opportunity(strategy=report_id.split(":")[0], rationale=report_id)


class ScanOwnershipModel(RuleBasedStateMachine):
    def __init__(self, redis_url: str, seen: collections.Counter[str]) -> None:
        super().__init__()
        self.seen = seen  # what the exploration reached, across examples
        self.loop = asyncio.new_event_loop()
        self.redis = connect(redis_url)
        self.settings = make_settings(
            redis_url=redis_url,
            lease_ttl_ms=MODEL_LEASE_TTL_MS,
            scan_deadline_s=MODEL_SCAN_DEADLINE_S,
            # A step publishes what it folded: the model's outcomes must not depend
            # on the wall clock (held-back publishes are tested in test_scan_actor).
            publish_min_interval_ms=0,
        )
        self.mailbox = Mailbox(self.redis)
        self.owners_mailbox = InterleavingMailbox(self.redis)
        self.scan_id = ""
        self.actors: dict[str, ScanActor] = {}
        self.history: list[WriteAttempt] = []
        self.epochs_acquired: list[int] = []
        self.acked: list[tuple[str, MailboxMessage]] = []
        self.sent_reports: dict[str, Report] = {}
        self.attempts = dict.fromkeys(STRATEGIES, 0)
        self.highest_version = 0
        self.terminal_status: ScanStatus | None = None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        try:
            self.run(self.redis.aclose())
        finally:
            self.loop.close()

    # ---- setup ----

    @initialize()
    def create_scan(self) -> None:
        self.run(self.redis.flushall())
        guard = GenerationGuard(self.redis)
        self.run(guard.establish())
        scans = Scans(
            self.redis, self.settings, diagnostic_registry(), StaticProvider().symbols(), guard
        )
        created = self.run(scans.create(USER, list(STRATEGIES), None, None))
        self.scan_id = created.snapshot.scan_id
        self.highest_version = created.snapshot.version

    def settings_of(self, worker: str) -> Settings:
        return msgspec.structs.replace(self.settings, worker_id=worker)

    def store(self, worker: str) -> LeaseStore:
        return LeaseStore(self.redis, self.settings_of(worker))

    # ---- owners ----

    @rule(worker=st.sampled_from(WORKERS))
    def acquire(self, worker: str) -> None:
        """A worker's sweeper tries to adopt the scan (refused while a lease is held)."""
        if worker in self.actors:
            return  # a coordinator never runs two actors for one scan
        held = self.run(self.redis.exists(keys.lease(self.scan_id)))
        acquired = self.run(self.store(worker).acquire(self.scan_id))
        if acquired is None:
            assert held or self.terminal_status is not None, "acquire refused a free lease"
            return
        assert not held, "acquired a lease someone else held"
        epoch = acquired.lease.epoch
        assert all(epoch > earlier for earlier in self.epochs_acquired), "epoch did not grow"
        self.epochs_acquired.append(epoch)
        self.seen["takeovers" if epoch > 1 else "first acquisitions"] += 1
        settings = self.settings_of(worker)
        publisher = RecordingPublisher(self.redis, settings, self.history)
        autopipe = AutoPipeline(self.redis)
        deps = ActorDeps(self.redis, autopipe, self.owners_mailbox, publisher, settings)
        self.actors[worker] = ScanActor(acquired, deps, on_exit=lambda actor: None)

    @precondition(lambda self: self.actors)
    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """An owner folds its mailbox and publishes (fenced if it is no longer the owner)."""
        worker = data.draw(st.sampled_from(sorted(self.actors)))
        actor = self.actors[worker]
        try:
            terminal = self.run(actor.step())
        except LeaseLost as exc:
            self.seen[f"fenced: {exc.reason}"] += 1
            del self.actors[worker]  # a fenced actor stops, as ScanActor.run does
            return
        if terminal:
            self.seen[f"ended {actor.view.snapshot.status.value}"] += 1
            self.run(actor.retire())
            del self.actors[worker]

    @precondition(lambda self: self.actors)
    @rule(data=st.data())
    def renew(self, data: st.DataObject) -> None:
        worker = data.draw(st.sampled_from(sorted(self.actors)))
        lease = self.actors[worker].lease
        lost = self.run(self.store(worker).renew_all([lease]))
        if lost:
            lease.local_deadline = 0.0  # as the coordinator does: fence every later write

    @precondition(lambda self: self.actors)
    @rule(data=st.data())
    def pause(self, data: st.DataObject) -> None:
        """An owner stalls past its lease: Redis lets the lease go, its own clock
        passes its deadline, and it resumes believing nothing happened."""
        worker = data.draw(st.sampled_from(sorted(self.actors)))
        lease = self.actors[worker].lease
        self.run(self.expire_if_held_by(lease))
        lease.local_deadline = time.monotonic() - 1.0

    @rule()
    def expire(self) -> None:
        """The lease lapses early (a clock jump, a partition): its owner is not told."""
        self.run(self.redis.pexpire(keys.lease(self.scan_id), 0))

    @rule(worker=st.sampled_from(WORKERS))
    def takeover(self, worker: str) -> None:
        self.expire()
        self.acquire(worker)

    @rule(worker=st.sampled_from(WORKERS))
    def restart(self, worker: str) -> None:
        """The worker process dies (no release) and comes back: a new actor is
        rebuilt from the last snapshot plus the mailbox after its cursor."""
        actor = self.actors.pop(worker, None)
        if actor is not None:
            self.run(self.expire_if_held_by(actor.lease))
        self.acquire(worker)

    @precondition(lambda self: self.actors)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        """Graceful shutdown: the lease is handed back at once."""
        worker = data.draw(st.sampled_from(sorted(self.actors)))
        actor = self.actors.pop(worker)
        self.run(self.store(worker).release(actor.lease))

    async def expire_if_held_by(self, lease: Lease) -> None:
        raw = await self.redis.hget(keys.lease(self.scan_id), "token")
        if raw is not None and raw.decode() == lease.token:
            await self.redis.pexpire(keys.lease(self.scan_id), 0)

    # ---- strategy attempts and clients ----

    def append(self, message: MailboxMessage) -> None:
        entry_id = self.run(self.mailbox.append(self.scan_id, message))
        if entry_id is not None:  # acknowledged
            self.acked.append((entry_id, message))
            self.seen["acknowledged appends"] += 1

    @rule(strategy=st.sampled_from(STRATEGIES))
    def start_attempt(self, strategy: str) -> None:
        """A strategy task is (re)delivered: a new attempt starts."""
        if self.attempts[strategy] >= MAX_ATTEMPT:
            return
        self.attempts[strategy] += 1
        self.append(
            Started(strategy=strategy, attempt=self.attempts[strategy], worker="s:1", at_ms=1)
        )

    @rule(
        strategy=st.sampled_from(STRATEGIES),
        attempts_back=st.integers(0, MAX_ATTEMPT - 1),
        status=st.sampled_from(REPORT_STATUSES),
    )
    def report(self, strategy: str, attempts_back: int, status: StrategyStatus) -> None:
        """An attempt reports; with attempts_back > 0 it is a zombie of an older attempt."""
        self.append(self.report_of(strategy, attempts_back, status))

    def report_of(self, strategy: str, attempts_back: int, status: StrategyStatus) -> Report:
        attempt = max(1, self.attempts[strategy] - attempts_back)
        report_id = f"{strategy}:{attempt}"
        report = self.sent_reports.get(report_id) or Report(
            report_id=report_id,
            strategy=strategy,
            attempt=attempt,
            status=status,
            worker="s:1",
            at_ms=1,
            duration_ms=1.0,
            opportunities=[opportunity_for(report_id)]
            if status == StrategyStatus.COMPLETED
            else [],
        )
        self.sent_reports[report_id] = report
        return report

    @precondition(lambda self: self.actors)
    @rule(data=st.data(), strategy=st.sampled_from(STRATEGIES), copies=st.integers(1, 2))
    def step_while_mail_lands(self, data: st.DataObject, strategy: str, copies: int) -> None:
        """A report (and maybe its retry) lands after the owner read its mailbox and
        before it publishes: the trim in that publish must keep it."""
        report = self.report_of(strategy, 0, StrategyStatus.COMPLETED)
        self.owners_mailbox.arriving.extend([report] * copies)
        try:
            self.step(data)
        finally:
            self.owners_mailbox.arriving.clear()
            self.acked.extend(self.owners_mailbox.landed)
            self.seen["mail landed mid-step"] += len(self.owners_mailbox.landed)
            self.owners_mailbox.landed.clear()

    @precondition(lambda self: self.sent_reports)
    @rule(data=st.data())
    def retry_report(self, data: st.DataObject) -> None:
        """A client retries an append whose reply it lost: the same report again."""
        report_id = data.draw(st.sampled_from(sorted(self.sent_reports)))
        self.append(self.sent_reports[report_id])
        self.seen["retried reports"] += 1

    @precondition(lambda self: len(self.acked) >= CANCEL_AFTER_APPENDS)
    @rule()
    def cancel(self) -> None:
        self.append(Cancel(by=USER, at_ms=1))

    # ---- invariants ----

    @invariant()
    def accepted_writes_come_from_one_owner_at_a_time(self) -> None:
        accepted = [write for write in self.history if write.version is not None]
        for write in accepted:
            assert write.holder_token == write.token, f"a non-owner's write was accepted: {write}"
        epochs = [write.epoch for write in accepted]
        assert epochs == sorted(epochs), f"accepted epochs went backwards: {epochs}"
        writer_of: dict[int, str] = {}
        for write in accepted:
            assert writer_of.setdefault(write.epoch, write.worker) == write.worker
        versions = [write.version for write in accepted]
        first = versions[0] if versions else 0
        assert versions == list(range(first, first + len(versions))), versions

    @invariant()
    def version_never_decreases_and_terminal_is_final(self) -> None:
        if not self.scan_id:
            return
        snapshot = self.published()
        assert snapshot.version >= self.highest_version, "the published version went down"
        self.highest_version = snapshot.version
        if self.terminal_status is not None:
            assert snapshot.status == self.terminal_status, "a terminal scan changed state"
        elif snapshot.status in TERMINAL_SCAN_STATUSES:
            self.terminal_status = snapshot.status
            finishes = self.run(self.lifecycle_events("finished"))
            assert finishes == 1, f"{finishes} 'finished' events"

    @invariant()
    def snapshot_is_the_reference_fold_of_the_mailbox_up_to_its_cursor(self) -> None:
        if not self.scan_id:
            return
        raw = self.run(self.redis.hmget(keys.scan(self.scan_id), ["snap", "state"]))
        snapshot = snapshot_decoder.decode(raw[0])
        cursor = actor_state_decoder.decode(raw[1]).cursor
        reference = ReferenceFold()
        for entry_id, message in self.acked:
            if stream_id(entry_id) <= stream_id(cursor):
                reference.apply(message)
        if snapshot.version == 1:
            return  # still the queued snapshot the handler wrote
        assert snapshot.status == reference.status
        for item in snapshot.strategies:
            expected = reference.strategies[item.name]
            assert (item.status, item.attempt) == (expected.status, expected.attempt), item
        results_raw = self.run(self.redis.get(keys.results(self.scan_id)))
        results = results_decoder.decode(results_raw) if results_raw else []
        applied = sorted(opportunity.rationale for opportunity in results)
        assert applied == sorted(reference.applied), "a report was not applied exactly once"
        assert snapshot.progress.opportunities_found_so_far == len(results)

    @invariant()
    def nothing_unfolded_is_trimmed(self) -> None:
        if not self.scan_id:
            return
        status, state = self.run(self.redis.hmget(keys.scan(self.scan_id), ["status", "state"]))
        if ScanStatus(status.decode()) in TERMINAL_SCAN_STATUSES:
            return  # a finished scan folds nothing more: its mailbox may be emptied
        cursor = actor_state_decoder.decode(state).cursor
        kept = self.run(self.redis.xrange(keys.mailbox(self.scan_id), min=f"({cursor}"))
        unfolded = [
            entry_id for entry_id, _ in self.acked if stream_id(entry_id) > stream_id(cursor)
        ]
        assert [entry_id.decode() for entry_id, _ in kept] == unfolded, "unfolded mail was lost"

    def published(self):  # type: ignore[no-untyped-def]
        return snapshot_decoder.decode(self.run(self.redis.hget(keys.scan(self.scan_id), "snap")))

    async def lifecycle_events(self, name: str) -> int:
        entries = await self.redis.xrange(keys.lifecycle(self.scan_id))
        events = [event for _id, fields in entries for event in timeline_events(fields)]
        return sum(1 for event in events if event.event == name)


# What the short profile must reach at least once, or the test proves nothing.
MUST_REACH = (
    "takeovers",
    "mail landed mid-step",
    "retried reports",
    "fenced: lease token no longer ours",
    "fenced: local lease deadline passed",
    "ended completed",
)


def test_scan_ownership_model(shared_redis_server) -> None:  # type: ignore[no-untyped-def]
    seen: collections.Counter[str] = collections.Counter()
    run_state_machine_as_test(
        lambda: ScanOwnershipModel(shared_redis_server.url, seen),
        settings=settings(
            max_examples=PROFILE["max_examples"],
            stateful_step_count=PROFILE["stateful_step_count"],
            derandomize=PROFILE["derandomize"],
            phases=PHASES if PROFILE["shrink"] else [p for p in PHASES if p != Phase.shrink],
            database=None,  # no example database: a run depends on the profile alone
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    print(f"\nmodel {PROFILE}: {dict(sorted(seen.items()))}")
    missing = [name for name in MUST_REACH if not seen[name]]
    assert not missing, f"the exploration never reached {missing}: {dict(seen)}"
