"""Encoders and decoders, each built once per process."""

from __future__ import annotations

import msgspec

from coordinator.records import (
    ActorState,
    LifecycleEvent,
    MailboxMessage,
    ScanResults,
    ScanSnapshot,
    Tombstone,
    WorkItem,
)
from strategies.opportunity import Opportunity

json_encoder = msgspec.json.Encoder()
msgpack_encoder = msgspec.msgpack.Encoder()

snapshot_decoder = msgspec.json.Decoder(ScanSnapshot)
results_decoder = msgspec.json.Decoder(list[Opportunity])
scan_results_decoder = msgspec.json.Decoder(ScanResults)
lifecycle_decoder = msgspec.json.Decoder(LifecycleEvent)
tombstone_decoder = msgspec.json.Decoder(Tombstone)
actor_state_decoder = msgspec.msgpack.Decoder(ActorState)
mailbox_decoder = msgspec.msgpack.Decoder(MailboxMessage)
work_item_decoder = msgspec.msgpack.Decoder(WorkItem)
