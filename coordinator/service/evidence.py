"""Evidence shared by every worker: each evaluation computed once, read by all.

A strategy's evaluation is keyed by (source, data version, strategy, rule
fingerprint). The first worker whose scans need one that Redis lacks takes its
lock (SET NX with a TTL, refreshed while it computes; a crashed worker's lock
lapses and another takes over) and computes it in a child process, so its event
loop never stalls on the CPU it takes; the result is stored as MessagePack and
every worker keeps a read-only copy in memory (immutable per key: not scan
state). A strategy run attaches evidence from that copy; while there is none,
its opportunities say ``computing``, never a guess. The Redis side (keys, the
lock's scripts) is coordinator.store.evidence.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from config.settings import Settings
from coordinator.service.jobs import Jobs
from coordinator.store import keys
from coordinator.store.evidence import EvidenceStore
from strategies.catalog import CATALOG
from strategies.evidence import attach, compute
from strategies.evidence.compute import Computed
from strategies.evidence.fingerprint import fingerprint
from strategies.evidence.records import Evaluation, EvaluationStatus
from strategies.market_data import MarketDataProvider
from strategies.opportunity import EvidenceStatus, Opportunity
from strategies.registry import Registry

log = structlog.get_logger(__name__)
# Production strategies are evaluated; diagnostic ones (tests, benchmarks) never.
EVALUATED = frozenset(spec.name for spec in CATALOG)
NOT_EVALUATED_NOTE = "diagnostic strategies are not evaluated"
COMPUTING_NOTE = "its walk-forward evaluation on this data version is being computed"
NOBODY_NOTE = (
    "no worker is computing its evaluation (EVIDENCE_COMPUTE is off here and no other "
    "worker holds its lock)"
)
# The child process is spawned, not forked: the parent runs threads and an event loop.
CHILD_START_METHOD: Final = "spawn"


@dataclass(frozen=True, slots=True)
class Found:
    """A strategy's evaluation as the book has it: ``status`` ready, computing or
    unavailable; ``note`` why there is none."""

    status: str
    evaluation: Evaluation | None
    note: str | None


class EvidenceBook:
    """This process's copy of the evaluations of the current data version, and the
    duty that fills it (``refresh``, run by ``follow_evidence``)."""

    def __init__(
        self,
        redis: Redis,
        registry: Registry,
        provider: MarketDataProvider,
        settings: Settings,
    ) -> None:
        self._provider = provider
        self._settings = settings
        config = compute.config_of(settings)
        self._fingerprints = {
            name: fingerprint(registry.get(name), config)
            for name in registry.names()
            if name in EVALUATED
        }
        self.version: str | None = None
        self.evaluations: dict[str, Evaluation] = {}
        self._wanted: set[str] = set()
        self._computing: set[str] = set()
        self._unattended: set[str] = set()  # nobody computes them (see NOBODY_NOTE)
        self._retry_at: dict[str, float] = {}
        self._store = EvidenceStore(redis, f"{settings.worker_id}:{uuid.uuid4().hex}")
        self.wake = asyncio.Event()

    # ---- the hot path: a strategy run's opportunities ----

    def attach(self, strategy: str, found: Sequence[Opportunity]) -> list[Opportunity]:
        if strategy not in self._fingerprints:
            return [attach.unavailable(o, NOT_EVALUATED_NOTE) for o in found]
        evaluation = self.evaluations.get(strategy)
        if evaluation is not None:
            return [attach.attach(o, evaluation) for o in found]
        if strategy not in self._wanted:
            self._wanted.add(strategy)
            self.wake.set()
        if strategy in self._unattended:
            return [attach.unavailable(o, NOBODY_NOTE) for o in found]
        return [attach.computing(o, COMPUTING_NOTE) for o in found]

    # ---- a strategy's track record (the evaluation route) ----

    async def evaluation_of(self, strategy: str) -> Found:
        """The strategy's evaluation on the data served now: from this process's copy,
        else from Redis (another worker computed it); without one, why not, and it is
        asked for as a scan's run asks for it."""
        if strategy not in self._fingerprints:
            return Found(EvidenceStatus.UNAVAILABLE, None, NOT_EVALUATED_NOTE)
        evaluation = self.evaluations.get(strategy)
        # Before the duty's first refresh the book knows no data version yet.
        if evaluation is None and self.version is not None:
            await self.read([strategy])
            evaluation = self.evaluations.get(strategy)
        if evaluation is not None:
            return Found(evaluation.status, evaluation, evaluation.note)
        if strategy not in self._wanted:
            self._wanted.add(strategy)
            self.wake.set()
        if strategy in self._unattended:
            return Found(EvidenceStatus.UNAVAILABLE, None, NOBODY_NOTE)
        return Found(EvidenceStatus.COMPUTING, None, COMPUTING_NOTE)

    # ---- the duty ----

    def tag_of(self, strategy: str) -> str:
        assert self.version is not None
        return keys.evidence_tag(
            self._provider.source_name, self.version, strategy, self._fingerprints[strategy]
        )

    async def refresh(self) -> list[str]:
        """Follow the data version, read what others computed, and start computing
        what nobody is; returns the strategies this call started computing."""
        self.wake.clear()
        version = self._provider.data_version()
        if version != self.version:
            self.version, self.evaluations = version, {}
            self._computing, self._unattended, self._retry_at = set(), set(), {}
            log.info("evidence_version", data_version=version)
        missing = sorted(self._wanted - self.evaluations.keys() - self._computing)
        if not missing:
            return []
        await self.read(missing)
        missing = [name for name in missing if name not in self.evaluations]
        if not self._settings.evidence_compute:
            await self.note_unattended(missing)
            return []
        now = time.monotonic()
        due = [name for name in missing if self._retry_at.get(name, 0.0) <= now]
        locked = await self.lock(due)
        if locked:
            self._computing.update(locked)
        return locked

    async def read(self, names: Sequence[str]) -> None:
        for evaluation in await self._store.read([self.tag_of(name) for name in names]):
            if evaluation is not None:
                self.install(evaluation)

    def install(self, evaluation: Evaluation) -> None:
        if evaluation.data_version == self.version and evaluation.fingerprint == (
            self._fingerprints.get(evaluation.strategy)
        ):
            self.evaluations[evaluation.strategy] = evaluation
            self._unattended.discard(evaluation.strategy)

    async def note_unattended(self, names: Sequence[str]) -> None:
        held = await self._store.held([self.tag_of(name) for name in names])
        for name, locked in zip(names, held, strict=True):
            (self._unattended.discard if locked else self._unattended.add)(name)

    async def lock(self, names: Sequence[str]) -> list[str]:
        ttl_ms = keys.evidence_lock_ttl_ms(self._settings)
        taken = await self._store.lock([self.tag_of(name) for name in names], ttl_ms)
        return [name for name, ok in zip(names, taken, strict=True) if ok]

    async def store(self, tag: str, computed: Computed) -> None:
        """Store a computed evaluation (or, for a rule that raised, an unavailable one)."""
        evaluation = computed.evaluation
        if evaluation is None:
            evaluation = Evaluation(
                strategy=computed.strategy,
                source=self._provider.source_name,
                data_version=computed.data_version,
                fingerprint=computed.fingerprint,
                status=EvaluationStatus.UNAVAILABLE,
                note=f"the evaluation failed: {computed.error}",
            )
        retention_ms = keys.evidence_retention_ms(self._settings)
        self.install(await self._store.store(tag, evaluation, retention_ms))

    async def compute(self, names: list[str]) -> None:
        """Compute ``names`` (whose locks we hold) in a child process, keeping the
        locks fresh meanwhile; each result is stored as soon as it arrives."""
        version = self.version
        tags = {name: self.tag_of(name) for name in names}
        context = multiprocessing.get_context(CHILD_START_METHOD)
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(
            target=compute.run_child,
            args=(sending, self._settings, names),
            name="oppscan-evidence",
            daemon=True,
        )
        child.start()
        sending.close()
        log.info("evidence_computing", strategies=names, data_version=version, pid=child.pid)
        pending = set(names)
        keeper = asyncio.ensure_future(self.keep_locked(tags, pending))
        try:
            while pending:
                computed = await asyncio.to_thread(receive, receiving)
                if computed is None:
                    break
                pending.discard(computed.strategy)
                if computed.data_version != version or version != self.version:
                    continue  # the data moved on while it was computed: not this version's
                await self.store(tags[computed.strategy], computed)
                log.info("evidence_stored", strategy=computed.strategy, error=computed.error)
        finally:
            keeper.cancel()
            if child.is_alive():
                child.terminate()
            await asyncio.to_thread(child.join)
            receiving.close()
            self._computing.difference_update(names)
            if pending:  # not computed (the child died, or the data moved on): retry later
                retry_at = time.monotonic() + self._settings.evidence_lock_ttl_s
                self._retry_at.update(dict.fromkeys(pending, retry_at))
                await self._store.release([tags[name] for name in sorted(pending)])
                log.warning("evidence_not_computed", strategies=sorted(pending))
            self.wake.set()

    async def keep_locked(self, tags: dict[str, str], pending: set[str]) -> None:
        """Refresh the locks of the strategies still pending, until cancelled."""
        while True:
            await asyncio.sleep(self._settings.evidence_lock_refresh_interval_s)
            with contextlib.suppress(RedisError):
                await self._store.refresh_locks(
                    [tags[name] for name in sorted(pending)],
                    keys.evidence_lock_ttl_ms(self._settings),
                )


def receive(connection: object) -> Computed | None:
    """The child's next message; None once it is done or gone."""
    try:
        message: Computed | None = connection.recv()  # type: ignore[attr-defined]
    except (EOFError, OSError):
        return None
    return message


async def follow_evidence(book: EvidenceBook, jobs: Jobs, poll_interval_s: float) -> None:
    """The evidence duty: every poll interval, or at once when a run needs an
    evaluation this process lacks; evaluations it locked are computed as jobs."""
    while not jobs.stopping.is_set():
        try:
            locked = await book.refresh()
            if locked:
                await jobs.spawn(book.compute(locked))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis away, an undecodable record: next time
            log.warning("evidence_refresh_failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(book.wake.wait(), timeout=poll_interval_s)
