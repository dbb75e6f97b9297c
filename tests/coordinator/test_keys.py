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


# CRC-32's published check value: the checksum of the nine ASCII digits "123456789".
CRC32_CHECK_INPUT = "123456789"
CRC32_CHECK_VALUE = 0xCBF43926
# Buckets of a few ids, written down once: every process, whatever its hash seed,
# must put a scan in the same bucket (its work stream and lease index entry).
KNOWN_BUCKETS = {
    "0123456789abcdef0123456789abcdef": (2, 14),
    "00000000000000000000000000000001": (2, 6),
    "00000000000000000000000000000002": (0, 12),
    "00000000000000000000000000000003": (2, 10),
    "00000000000000000000000000000004": (1, 9),
    "00000000000000000000000000000005": (3, 15),
    "00000000000000000000000000000006": (1, 5),
    "00000000000000000000000000000007": (3, 3),
    "ffffffffffffffffffffffffffffffff": (1, 1),
}


def test_buckets_are_the_same_in_every_process() -> None:
    """A salted hash (Python's hash() of a str) is stable within one process and
    differs between processes: only values fixed outside this process catch it."""
    assert keys.bucket_of(CRC32_CHECK_INPUT, 2**32) == CRC32_CHECK_VALUE
    assert {
        scan_id: (keys.bucket_of(scan_id, 4), keys.bucket_of(scan_id, 16))
        for scan_id in KNOWN_BUCKETS
    } == KNOWN_BUCKETS


def test_buckets_are_in_range() -> None:
    assert {keys.bucket_of(f"{i:032x}", 4) for i in range(64)} == {0, 1, 2, 3}


def test_retention_is_one_policy() -> None:
    settings = make_settings(result_retention_s=60, tombstone_retention_s=600, scan_deadline_s=30)
    assert keys.retention_ttl_ms(settings) == 60_000
    assert keys.tombstone_ttl_ms(settings) == 660_000
    assert keys.active_ttl_ms(settings) > 30_000 + 60_000


def test_events_channel_round_trips_the_scan_id() -> None:
    scan_id = "0123456789abcdef0123456789abcdef"
    assert keys.scan_id_of_events_channel(keys.events_channel(scan_id)) == scan_id
