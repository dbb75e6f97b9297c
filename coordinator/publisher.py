"""The owner's fenced publish: one Lua compare-and-set on token, epoch and version."""

from __future__ import annotations

import structlog

from config.settings import Settings
from coordinator import keys
from coordinator.clock import now_iso
from coordinator.codec import json_encoder, msgpack_encoder
from coordinator.errors import LeaseLost
from coordinator.fold import ScanView, progress_of
from coordinator.lease import Lease
from coordinator.metrics import FENCED_WRITES
from coordinator.records import Tombstone
from coordinator.scripts import Scripts

log = structlog.get_logger(__name__)

FENCE_REASONS = {
    keys.FENCED_NOT_OWNER: "lease token no longer ours",
    keys.FENCED_STALE_EPOCH: "a newer epoch has written",
    keys.FENCED_VERSION_CONFLICT: "snapshot version moved under us",
}


class Publisher:
    def __init__(self, scripts: Scripts, settings: Settings) -> None:
        self._scripts = scripts
        self._settings = settings

    async def publish(self, lease: Lease, view: ScanView) -> int:
        """Write the view as the next snapshot version; raise LeaseLost if fenced."""
        lease.check()
        snapshot = view.snapshot
        expected_version = snapshot.version
        snapshot.version = expected_version + 1
        snapshot.epoch = lease.epoch
        snapshot.owner = self._settings.worker_id
        snapshot.updated_at = now_iso()
        snapshot.progress = progress_of(snapshot.strategies, len(view.results))
        reply = await self._scripts.publish_snapshot(
            keys=self.keys_of(lease.scan_id),
            args=self.args_of(lease, view, expected_version),
        )
        code = int(reply)
        if code < 0:
            FENCED_WRITES.labels(FENCE_REASONS.get(code, str(code))).inc()
            snapshot.version = expected_version
            raise LeaseLost(lease.scan_id, lease.epoch, FENCE_REASONS.get(code, str(code)))
        view.events.clear()
        view.results_changed = False
        view.dirty = False
        return code

    def keys_of(self, scan_id: str) -> list[str]:
        return [
            keys.scan(scan_id),
            keys.lease(scan_id),
            keys.results(scan_id),
            keys.mailbox(scan_id),
            keys.lifecycle(scan_id),
            keys.tombstone(scan_id),
        ]

    def args_of(self, lease: Lease, view: ScanView, expected_version: int) -> list[object]:
        snapshot = view.snapshot
        tomb = Tombstone(
            scan_id=snapshot.scan_id,
            user_id=snapshot.user_id,
            status=snapshot.status.value,
            finished_at=snapshot.finished_at or snapshot.updated_at,
        )
        return [
            lease.token,
            lease.epoch,
            expected_version,
            json_encoder.encode(snapshot),
            msgpack_encoder.encode(view.state),
            snapshot.status.value,
            json_encoder.encode(view.results) if view.results_changed else b"",
            view.state.cursor if view.state.cursor != "0-0" else "",
            "1" if view.terminal else "0",
            keys.retention_ttl_ms(self._settings),
            json_encoder.encode(tomb),
            keys.tombstone_ttl_ms(self._settings),
            keys.events_channel(snapshot.scan_id),
            *(json_encoder.encode(event) for event in view.events),
        ]
