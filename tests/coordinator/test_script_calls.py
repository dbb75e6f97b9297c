"""Each Lua script's Python call fills the KEYS and ARGV its file names, in order.

A script's first lines name its KEYS and ARGV as locals (``local lease_key =
KEYS[2]``); the call's ``keys()`` and ``args()`` name the same, so a Python
argument in the wrong position fails here, not as a wrong write in Redis.
"""

from __future__ import annotations

import re

import pytest

from coordinator.store.scripts import SCRIPTS_DIR, ScriptCall, lua
from coordinator.store.scripts.edge import (
    CountAuthFailure,
    RefreshConnectionSlots,
    TakeConnectionSlot,
)
from coordinator.store.scripts.evidence import (
    RefreshEvidenceLock,
    ReleaseEvidenceLock,
    StoreEvidence,
)
from coordinator.store.scripts.lease import AcquireLease, ReleaseLease, RenewLeases
from coordinator.store.scripts.scan import (
    AppendMailbox,
    CreateScan,
    PublishSnapshot,
    RecheckMailboxes,
)
from coordinator.store.scripts.user import ClaimUserScan, ClearUserActive, TakeStartSlot
from coordinator.store.scripts.work import (
    AckUnlessSuperseded,
    EnqueueAndTakeWork,
    EnqueueWork,
    PruneConsumers,
)

SCAN_ID = "0123456789abcdef0123456789abcdef"
# One call of every script, with every argument given by name.
CALLS: list[ScriptCall[object]] = [
    CreateScan(
        scan_id=SCAN_ID,
        user="alice",
        snap=b"{}",
        state=b"",
        status="queued",
        active_ttl_ms=1,
        created_event=b"{}",
        tomb=b"{}",
        tomb_ttl_ms=2,
    ),
    PublishSnapshot(
        scan_id=SCAN_ID,
        token="t",
        epoch=1,
        expected_version=1,
        snap=b"{}",
        state=b"",
        status="running",
        results=b"",
        cursor="",
        terminal=False,
        retention_ms=1,
        tomb=b"{}",
        tomb_ttl_ms=2,
        events=b"",
    ),
    AppendMailbox(scan_id=SCAN_ID, local_worker="w:1", messages=[b"m"]),
    RecheckMailboxes(scan_ids=[SCAN_ID], cursors=["0-0"]),
    AcquireLease(
        scan_id=SCAN_ID, token="t", worker="w:1", pid=1, ttl_ms=1, now_ms=1, now_iso="now"
    ),
    RenewLeases(ttl_ms=1, scan_ids=[SCAN_ID], tokens=["t"]),
    ReleaseLease(scan_id=SCAN_ID, token="t", now_iso="now", worker="w:1", epoch=1),
    TakeStartSlot(user_id="alice", limit=1, window_ms=1),
    ClaimUserScan(
        user_id="alice",
        scan_id=SCAN_ID,
        idempotency_key=None,
        stale_active=None,
        created_ms=1,
        history_limit=1,
        ttl_ms=1,
    ),
    ClearUserActive(user_id="alice", scan_id=SCAN_ID),
    EnqueueWork(bucket=0, items=[b"w"]),
    EnqueueAndTakeWork(bucket=0, consumer="w:1", count=1, items=[b"w"]),
    AckUnlessSuperseded(bucket=0, deliveries=[("1-0", 1)]),
    PruneConsumers(bucket=0, dead_idle_ms=1, own_consumer="w:1"),
    TakeConnectionSlot(connections_key="k", member="w:1#1", limit=1, ttl_ms=1),
    RefreshConnectionSlots(connections_key="k", ttl_ms=1, members=["w:1#1"]),
    CountAuthFailure(address="127.0.0.1", window_ms=1),
    RefreshEvidenceLock(tag="ev:t", token="t", ttl_ms=1),
    StoreEvidence(tag="ev:t", token="t", evaluation=b"e", retention_ms=1),
    ReleaseEvidenceLock(tag="ev:t", token="t"),
]
NAMED = re.compile(r"^local (\w+) = (KEYS|ARGV)\[(\d+)\]", re.MULTILINE)


def named_locals(script: str) -> dict[str, list[str]]:
    """The KEYS and ARGV locals a script's file names, by position."""
    named: dict[str, list[str]] = {"KEYS": [], "ARGV": []}
    for name, table, position in NAMED.findall((SCRIPTS_DIR / f"{script}.lua").read_text()):
        assert int(position) == len(named[table]) + 1, f"{script}: {table}[{position}] skipped"
        named[table].append(name)
    return named


@pytest.mark.parametrize("call", CALLS, ids=lambda call: call.script)
def test_the_call_names_the_scripts_keys_and_argv_in_order(call: ScriptCall[object]) -> None:
    named = named_locals(call.script)
    assert list(call.keys()) == named["KEYS"]
    assert list(call.args()) == named["ARGV"]


def test_every_script_file_has_a_call() -> None:
    assert {call.script for call in CALLS} == {path.stem for path in SCRIPTS_DIR.glob("*.lua")}


def test_a_scripts_named_locals_come_first() -> None:
    """Nothing but comments before a script's KEYS and ARGV locals."""
    for path in SCRIPTS_DIR.glob("*.lua"):
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        body = [line for line in lines if not NAMED.match(line) and not line.startswith("--")]
        first_body = lines.index(body[0])
        assert all(not NAMED.match(line) for line in lines[first_body:]), (
            f"{path.name}: a KEYS or ARGV local after the script's body began"
        )


def test_the_constants_come_from_python() -> None:
    text = lua("publish_snapshot")
    assert "local FENCED_NOT_OWNER = -1" in text
    assert "local TERMINAL = {" in text and "cancelled=true" in text
