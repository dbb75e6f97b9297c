"""Every msgspec encoder and decoder of the service, each built once per process.

One JSON encoder (for what clients read, and every HTTP body) and one MessagePack
encoder (for what only the service reads: scan state, mailboxes, work, the shared
evidence evaluations); a decoder per stored record type.
The web layer's decoders of its own request bodies live with those bodies in
web/requests.py, and the old API's view of stored opportunities in web/compat.py.
"""

from __future__ import annotations

import msgspec

from coordinator.store.records import (
    ActorState,
    LifecycleEvent,
    MailboxMessage,
    ScanResults,
    ScanSnapshot,
    SnapshotVersion,
    Tombstone,
    WorkerBeat,
    WorkItem,
)
from strategies.evidence.records import Evaluation
from strategies.opportunity import Opportunity

json_encoder = msgspec.json.Encoder()
msgpack_encoder = msgspec.msgpack.Encoder()

snapshot_decoder = msgspec.json.Decoder(ScanSnapshot)
results_decoder = msgspec.json.Decoder(list[Opportunity])
scan_results_decoder = msgspec.json.Decoder(ScanResults)
lifecycle_decoder = msgspec.json.Decoder(LifecycleEvent)
lifecycle_batch_decoder = msgspec.json.Decoder(list[LifecycleEvent])
tombstone_decoder = msgspec.json.Decoder(Tombstone)
actor_state_decoder = msgspec.msgpack.Decoder(ActorState)
mailbox_decoder = msgspec.msgpack.Decoder(MailboxMessage)
work_item_decoder = msgspec.msgpack.Decoder(WorkItem)
snapshot_version_decoder = msgspec.json.Decoder(SnapshotVersion)
worker_beat_decoder = msgspec.json.Decoder(WorkerBeat)
evaluation_decoder = msgspec.msgpack.Decoder(Evaluation)


def timeline_events(fields: dict[bytes, bytes]) -> list[LifecycleEvent]:
    """The events of one timeline (lifecycle stream) entry: a single one ("e": the
    creation, a claim) or all those of one publish ("b", a JSON array)."""
    if b"b" in fields:
        return lifecycle_batch_decoder.decode(fields[b"b"])
    return [lifecycle_decoder.decode(fields[b"e"])]
