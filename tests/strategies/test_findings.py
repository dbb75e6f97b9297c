"""Findings: the skip summary a strategy's state keeps, the source's exclusions,
and opportunities without price levels."""

import msgspec
import pytest

from strategies.errors import LevelsUnexplained
from strategies.findings import (
    SKIP_EXAMPLES_KEPT,
    Findings,
    Skip,
    SkipCode,
    insufficient,
    quiet,
    summarise,
    top_reason,
    with_excluded,
)
from strategies.opportunity import Action, Opportunity, OrderType, make_opportunity


def test_summary_keeps_twenty_examples_unusual_first_and_counts_all() -> None:
    skipped = [quiet(f"Q{i}/USDT", "RSI 48 inside 30-70") for i in range(200)]
    skipped.insert(150, insufficient("SHORT/USDT", 120, 200))
    skipped.append(Skip(symbol="NOPERP/USDT", code=SkipCode.NO_PERPETUAL, message="no perp"))
    summary = summarise(skipped)
    assert len(summary.examples) == SKIP_EXAMPLES_KEPT == 20
    assert [s.symbol for s in summary.examples[:2]] == ["SHORT/USDT", "NOPERP/USDT"]
    assert summary.examples[2:] == skipped[:18]  # then no_signal, in the rule's order
    assert summary.counts == {"no_signal": 200, "insufficient_history": 1, "no_perpetual": 1}
    assert top_reason(summary.counts) == "no_signal"
    assert top_reason({"no_signal": 3, "stale_data": 3}) == "stale_data"
    assert top_reason({}) is None


def test_exclusions_replace_the_rules_word_and_count_as_evaluated() -> None:
    found = Findings(
        opportunities=[],
        evaluated=2,
        skipped=[insufficient("A/USDT", 0, 78), quiet("B/USDT", "quiet")],
    )
    excluded = (
        Skip(symbol="A/USDT", code=SkipCode.UNUSABLE_DATA, message="A_USDT-1h.json row 7"),
        Skip(symbol="C/USDT", code=SkipCode.STALE_DATA, message="last candle 3 days old"),
        Skip(symbol="D/USDT", code=SkipCode.UNUSABLE_DATA, message="not asked for"),
    )
    merged = with_excluded(found, excluded, ["A/USDT", "B/USDT", "C/USDT"])
    assert [(s.symbol, s.code) for s in merged.skipped] == [
        ("A/USDT", "unusable_data"),
        ("C/USDT", "stale_data"),
        ("B/USDT", "no_signal"),
    ]
    assert merged.evaluated == 3  # C was not counted by the rule; A was
    # A scan that named no symbols asked for all of them.
    assert len(with_excluded(found, excluded, []).skipped) == 4
    assert with_excluded(found, (), ["A/USDT"]) is found


def test_a_missing_level_needs_a_note_and_zeroes_the_distances() -> None:
    common = dict(
        strategy="s",
        symbol="A/USDT",
        side="long",
        entry=10.0,
        confidence=0.5,
        horizon="1d",
        rationale="r",
        data_source="x",
        as_of="t",
    )
    with pytest.raises(LevelsUnexplained, match="levels_note"):
        make_opportunity(**common, stop=None, target=11.0)
    no_target = make_opportunity(**common, stop=9.0, target=None, levels_note="why")
    assert (no_target.expected_return, no_target.risk_reward) == (0.0, 0.0)
    no_stop = make_opportunity(**common, stop=None, target=12.0, levels_note="why")
    assert (no_stop.expected_return, no_stop.risk_reward) == (0.2, 0.0)
    both = make_opportunity(**common, stop=9.0, target=12.0, id_suffix="B/USDT")
    assert (both.expected_return, both.risk_reward) == (0.2, 2.0)
    assert both.opportunity_id == "s:A/USDT:long:B/USDT"
    assert (both.action, both.order_type) == (Action.OPEN_LONG, OrderType.MARKET)


def test_a_record_stored_before_the_order_fields_decodes() -> None:
    v1 = (
        b'{"strategy":"s","symbol":"A/USDT","side":"short","entry":10.0,"stop":11.0,'
        b'"target":9.0,"confidence":0.5,"expected_return":0.1,"risk_reward":1.0,'
        b'"horizon":"1d","rationale":"r","data_source":"x","as_of":"t"}'
    )
    old = msgspec.json.decode(v1, type=Opportunity)
    assert old.opportunity_id == "s:A/USDT:short"
    assert (old.action, old.order_type, old.group_id) == ("open_short", "market", None)
    assert (old.legs, old.conflicts, old.levels_note, old.horizon_bars) == ([], [], None, 0)
    # And it encodes back with every field of the new shape.
    assert msgspec.json.decode(msgspec.json.encode(old))["action"] == "open_short"
