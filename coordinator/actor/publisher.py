"""The owner's fenced publish: one Lua compare-and-set on token, epoch and version."""

from __future__ import annotations

import time

import structlog
from redis.exceptions import RedisError

from config.settings import Settings
from coordinator.actor.fold import ScanView, progress_of
from coordinator.actor.lease import Lease
from coordinator.errors import LeaseLost
from coordinator.process.clock import now_iso
from coordinator.process.metrics import FENCED_WRITES
from coordinator.store import keys
from coordinator.store.autopipe import AutoPipeline
from coordinator.store.codec import json_encoder, msgpack_encoder
from coordinator.store.records import START_CURSOR, Tombstone
from coordinator.store.scripts.scan import Fenced, PublishSnapshot

log = structlog.get_logger(__name__)


class Publisher:
    def __init__(self, settings: Settings, autopipe: AutoPipeline) -> None:
        self._settings = settings
        # Owners' publishes share round trips with the process's other commands.
        self._autopipe = autopipe

    async def publish(self, lease: Lease, view: ScanView) -> int:
        """Write the view as the next snapshot version; raise LeaseLost if fenced.

        Every attempt logs one ``snapshot_publish`` line (outcome accepted, fenced,
        self_fenced or unknown, with monotonic send/reply times): the write audit
        the chaos suite's history checker reads.
        """
        try:
            lease.check()
        except LeaseLost:
            self.audit(lease, view, "self_fenced", sent_mono=time.monotonic())
            raise
        snapshot = view.snapshot
        expected_version = snapshot.version
        snapshot.version = expected_version + 1
        snapshot.epoch = lease.epoch
        snapshot.owner = self._settings.worker_id
        snapshot.updated_at = now_iso()
        snapshot.progress = progress_of(snapshot.strategies, len(view.results))
        sent_mono = time.monotonic()
        try:
            reply = await self._autopipe.call(self.call_of(lease, view, expected_version))
        except RedisError:
            snapshot.version = expected_version
            self.audit(lease, view, "unknown", sent_mono=sent_mono)
            raise
        if isinstance(reply, Fenced):
            FENCED_WRITES.labels(reply.reason).inc()
            snapshot.version = expected_version
            self.audit(lease, view, "fenced", sent_mono=sent_mono, reason=reply.reason)
            raise LeaseLost(lease.scan_id, lease.epoch, reply.reason)
        self.audit(lease, view, "accepted", sent_mono=sent_mono, version=reply.version)
        view.events.clear()
        view.results_changed = False
        view.dirty = False
        return reply.version

    def audit(
        self, lease: Lease, view: ScanView, outcome: str, *, sent_mono: float, **extra: object
    ) -> None:
        log.info(
            "snapshot_publish",
            scan_id=lease.scan_id,
            epoch=lease.epoch,
            outcome=outcome,
            status=view.snapshot.status.value,
            sent_mono=sent_mono,
            reply_mono=time.monotonic(),
            **extra,
        )

    def call_of(self, lease: Lease, view: ScanView, expected_version: int) -> PublishSnapshot:
        snapshot = view.snapshot
        tomb = Tombstone(
            scan_id=snapshot.scan_id,
            user_id=snapshot.user_id,
            status=snapshot.status.value,
            finished_at=snapshot.finished_at or snapshot.updated_at,
        )
        return PublishSnapshot(
            scan_id=snapshot.scan_id,
            token=lease.token,
            epoch=lease.epoch,
            expected_version=expected_version,
            snap=json_encoder.encode(snapshot),
            state=msgpack_encoder.encode(view.state),
            status=snapshot.status.value,
            results=json_encoder.encode(view.results) if view.results_changed else b"",
            cursor=view.state.cursor if view.state.cursor != START_CURSOR else "",
            terminal=view.terminal,
            retention_ms=keys.retention_ttl_ms(self._settings),
            tomb=json_encoder.encode(tomb),
            tomb_ttl_ms=keys.tombstone_ttl_ms(self._settings),
            events=json_encoder.encode(view.events) if view.events else b"",
        )
