"""The scans this process owns: one ScanActor each, while it holds the lease.

Adopting a scan (the sweeper's, or a claim at creation), renewing every lease in
one round trip, waking actors whose mailbox has news, handing leases back on
stop. Appends this process makes to a scan it owns reach the actor directly
(see LocalOwner), without a doorbell round trip through Redis.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from config.settings import Settings
from coordinator.actor.lease import Acquired, Lease, LeaseStore
from coordinator.actor.mailbox import Entry, LocalOwner, Mailbox
from coordinator.actor.publisher import Publisher
from coordinator.actor.scan_actor import ActorDeps, ScanActor
from coordinator.process.metrics import ACTIVE_SCANS
from coordinator.service.jobs import Jobs
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.generation import GenerationGuard
from coordinator.store.scripts import run_batched
from coordinator.store.scripts.scan import RecheckMailboxes

log = structlog.get_logger(__name__)


class OwnedScans:
    def __init__(
        self,
        redis: Redis,
        autopipe: AutoPipeline,
        settings: Settings,
        leases: LeaseStore,
        generation: GenerationGuard,
        jobs: Jobs,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._leases = leases
        self._generation = generation
        self._jobs = jobs
        self.local = LocalOwner(settings.worker_id, self.poke, self.deliver, self.owned_epoch)
        self.mailbox = Mailbox(redis, autopipe, self.local)
        self._deps = ActorDeps(
            redis, autopipe, self.mailbox, Publisher(settings, autopipe), settings
        )
        self.actors: dict[str, ScanActor] = {}

    def room(self) -> int:
        """How many more scans this process may own now."""
        if self._generation.lost or self._jobs.stopping.is_set():
            return 0
        return self._settings.max_owned_scans - len(self.actors)

    async def adopt(self, scan_id: str) -> bool:
        """Try to become the scan's owner; start its actor if we did."""
        if scan_id in self.actors or self.room() <= 0 or not self._jobs.started:
            return False
        acquired = await self._leases.acquire(scan_id)
        if acquired is None:
            return False
        if self._jobs.stopping.is_set():
            # Shutdown began while we were acquiring: the scheduler takes no
            # new actor, so hand the scan straight back.
            await self._leases.release(acquired.lease)
            return False
        await self._jobs.spawn(self.register(acquired).run())
        return True

    def register(self, acquired: Acquired, *, fresh: bool = False) -> ScanActor:
        actor = ScanActor(acquired, self._deps, self.forget, fresh=fresh)
        self.actors[acquired.lease.scan_id] = actor
        return actor

    def forget(self, actor: ScanActor) -> None:
        if self.actors.get(actor.scan_id) is actor:
            del self.actors[actor.scan_id]
        if actor.fenced and not self._jobs.stopping.is_set():
            # Its lease is gone (expired early, taken, or lapsed under us): let
            # any sweeper try the scan now, not when our last renewal said.
            self._jobs.run_soon(self._leases.mark_claimable(actor.scan_id))

    async def hand_back(self, lease: Lease) -> None:
        with contextlib.suppress(RedisError):
            await self._leases.release(lease)

    async def release(self, actors: Sequence[ScanActor]) -> None:
        """On stop: give the actors' leases back, for an instant takeover. Each on its
        own: one failed release must not keep the other scans waiting a lease TTL."""
        for actor in actors:
            with contextlib.suppress(RedisError):
                await self._leases.release(actor.lease)

    async def wake_all(self, connection: object = None) -> None:
        """Every owned scan re-reads its mailbox now (a bell may have been lost)."""
        for actor in list(self.actors.values()):
            actor.wake()

    def poke(self, scan_id: str) -> None:
        actor = self.actors.get(scan_id)
        if actor is not None:
            actor.wake()

    def owned_epoch(self, scan_id: str) -> int | None:
        actor = self.actors.get(scan_id)
        if actor is None or actor.stopped or actor.view.terminal:
            return None
        if actor.lease.lapsed():
            return None  # lapsed by our clock, its actor not yet woken to end
        return actor.lease.epoch

    def deliver(self, scan_id: str, previous: str, entries: list[Entry]) -> None:
        """Entries this process appended to a scan it owns: to its actor directly."""
        actor = self.actors.get(scan_id)
        if actor is not None:
            actor.deliver(previous, entries)

    async def renew_leases(self) -> None:
        actors = list(self.actors.values())
        ACTIVE_SCANS.set(len(actors))
        began = time.monotonic()
        try:
            lost = await self._leases.renew_all([actor.lease for actor in actors])
        finally:
            # Actors arm no timer for their lease: those whose lease lapsed by our own
            # clock (renewals failing, or too slow) are woken here to fence themselves.
            for actor in actors:
                if actor.lease.lapsed():
                    actor.wake()
        took_s = time.monotonic() - began
        if took_s > self._settings.lease_renew_interval_s:
            # Renewals this slow eat the lease's margin: the process is overloaded.
            log.warning("lease_renewal_slow", leases=len(actors), seconds=round(took_s, 3))
        lost_ids = {lease.scan_id for lease in lost}
        for actor in actors:
            # A finished scan's last publish deleted its lease: retiring, not lost. (Had
            # the lease been lost first, that publish is fenced by Redis all the same.)
            if actor.scan_id in lost_ids and not actor.view.terminal:
                log.warning("lease_lost", scan_id=actor.scan_id, epoch=actor.lease.epoch)
                actor.lease.local_deadline = 0.0  # fences every later write at once
                actor.wake()

    async def recheck_mailboxes(self) -> None:
        """Wake the actors whose mailbox holds mail they have not folded: the safety
        net for a lost doorbell (pub/sub drops what is published while it
        reconnects). One round trip, a script call per batch of owned scans."""
        actors = list(self.actors.values())
        if not actors:
            return

        def mailbox_of(actor: ScanActor) -> str:
            return keys.mailbox(actor.scan_id)

        def recheck(batch: Sequence[ScanActor]) -> RecheckMailboxes:
            scan_ids = [actor.scan_id for actor in batch]
            return RecheckMailboxes(scan_ids, [actor.cursor for actor in batch])

        for actor, has_news in await run_batched(self._redis, actors, mailbox_of, recheck):
            if has_news:
                actor.wake()
