"""Evidence attached to a strategy run's opportunities, after the rule ran.

Rules never compute evidence: a run's opportunities get it here, from the
strategy's evaluation on the current data version, or say why they have none.
"""

from __future__ import annotations

import msgspec

from strategies.evidence import calibration
from strategies.evidence.records import Evaluation, EvaluationStatus
from strategies.evidence.summary import evidence_of
from strategies.evidence.walk_forward import simulable
from strategies.opportunity import EvidenceStatus, Opportunity

PERCENT = 100.0
PROBABILITY_DECIMALS, VALUE_DECIMALS = 4, 4
NO_LEVELS_NOTE = (
    "an idea without a price stop, target and horizon (a hedged or multi-leg position, "
    "a rebalance) is not simulated: there are no levels to follow its result to"
)


def without_numbers(opportunity: Opportunity, status: str, note: str | None) -> Opportunity:
    """No probability or expected value, and confidence none either (never the rule's)."""
    return msgspec.structs.replace(
        opportunity,
        confidence=None,
        probability=None,
        expected_value_pct=None,
        evidence_status=status,
        evidence_note=note,
    )


def computing(opportunity: Opportunity, note: str) -> Opportunity:
    return without_numbers(opportunity, EvidenceStatus.COMPUTING, note)


def unavailable(opportunity: Opportunity, note: str) -> Opportunity:
    return without_numbers(opportunity, EvidenceStatus.UNAVAILABLE, note)


def attach(opportunity: Opportunity, evaluation: Evaluation) -> Opportunity:
    """``opportunity`` with its strategy's evidence, probability and expected value."""
    if evaluation.status != EvaluationStatus.READY or evaluation.overall is None:
        return unavailable(opportunity, evaluation.note or "the evaluation failed")
    overall = evaluation.overall
    mine = evaluation.per_symbol.get(opportunity.symbol) or evidence_of(
        [], evaluation.window_start_ms, evaluation.window_end_ms, overall.fees_pct_round_trip
    )
    with_evidence = msgspec.structs.replace(opportunity, evidence=mine, evidence_all=overall)
    stop, target, entry = opportunity.stop, opportunity.target, opportunity.entry
    if not simulable(opportunity):
        why = opportunity.levels_note
        return unavailable(with_evidence, f"{NO_LEVELS_NOTE} ({why})" if why else NO_LEVELS_NOTE)
    assert stop is not None and target is not None
    risk_pct = abs(entry - stop) / entry * PERCENT
    reward_pct = abs(target - entry) / entry * PERCENT
    assert evaluation.calibration is not None
    found = calibration.estimate(evaluation.calibration, opportunity.side, reward_pct / risk_pct)
    if found is None:
        note = (
            f"{evaluation.calibration.trades} past trades: a probability needs at least "
            f"{calibration.MIN_TRADES}"
        )
        return without_numbers(with_evidence, EvidenceStatus.READY, note)
    probability = round(found.probability, PROBABILITY_DECIMALS)
    value = calibration.expected_value_pct(found, reward_pct, risk_pct, mine.fees_pct_round_trip)
    return msgspec.structs.replace(
        with_evidence,
        confidence=probability,
        probability=probability,
        expected_value_pct=round(value, VALUE_DECIMALS),
        evidence_status=EvidenceStatus.READY,
        evidence_note=None,
    )
