"""Key schema: every key of a scan shares one hash tag (one Cluster slot)."""

from __future__ import annotations

import re

from coordinator.store import keys
from tests.support import make_settings

SCAN_ID = "0123456789abcdef0123456789abcdef"


def hash_tag(key: str) -> str:
    match = re.search(r"\{([^}]*)\}", key)
    assert match, key
    return match.group(1)


def test_all_scan_keys_share_the_scan_hash_tag() -> None:
    scan_keys = [
        keys.scan(SCAN_ID),
        keys.results(SCAN_ID),
        keys.mailbox(SCAN_ID),
        keys.lifecycle(SCAN_ID),
        keys.lease(SCAN_ID),
        keys.tombstone(SCAN_ID),
    ]
    assert {hash_tag(key) for key in scan_keys} == {SCAN_ID}
    assert len(set(scan_keys)) == len(scan_keys)


def test_user_keys_share_the_user_hash_tag() -> None:
    user_keys = [keys.user_active("u1"), keys.user_scans("u1"), keys.user_idempotency("u1", "k")]
    assert {hash_tag(key) for key in user_keys} == {"user:u1"}


def test_buckets_are_stable_and_in_range() -> None:
    assert keys.bucket_of(SCAN_ID, 4) == keys.bucket_of(SCAN_ID, 4)
    assert {keys.bucket_of(f"{i:032x}", 4) for i in range(64)} == {0, 1, 2, 3}


def test_retention_is_one_policy() -> None:
    settings = make_settings(result_retention_s=60, tombstone_retention_s=600, scan_deadline_s=30)
    assert keys.retention_ttl_ms(settings) == 60_000
    assert keys.tombstone_ttl_ms(settings) == 660_000
    assert keys.active_ttl_ms(settings) > 30_000 + 60_000


def test_events_channel_round_trips_the_scan_id() -> None:
    scan_id = "0123456789abcdef0123456789abcdef"
    assert keys.scan_id_of_events_channel(keys.events_channel(scan_id)) == scan_id
