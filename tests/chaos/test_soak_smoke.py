"""The soak in miniature, so `make chaos` cannot rot between runs: one round of
a few scans under a fixed fault schedule, and no violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.checker import VIOLATIONS
from tests.chaos.soak import soak

pytestmark = pytest.mark.processes

ROUNDS = 1
SCANS = 8
SEED = 5


@pytest.mark.timeout(180)
async def test_one_soak_round_has_no_violation(tmp_path: Path) -> None:
    run = await soak(ROUNDS, SCANS, SEED, tmp_path)
    totals = run.totals
    assert totals.scans == SCANS
    assert sum(totals.faults.values()) >= 2, totals.faults
    assert {name: totals.violations[name] for name in VIOLATIONS if totals.violations[name]} == {}
