"""docs/strategies.md holds the current walk-forward table of the bundled data.

Regenerate it with `oppscan evaluate --markdown` when this fails.
"""

from __future__ import annotations

import pytest

from config.settings import Settings
from strategies.catalog import CATALOG
from strategies.evidence import compute, report
from strategies.evidence.fingerprint import fingerprint
from strategies.sources.bundled import BundledProvider

# Rules to replay in full: one without price levels, one with trades (seconds).
REPLAYED = ("hedging", "mean_reversion")
STALE = "docs/strategies.md is stale: run `oppscan evaluate --markdown`"


@pytest.fixture(scope="module")
def document() -> str:
    return report.DOC_PATH.read_text()


def test_the_table_is_of_the_current_data_rules_and_settings(document):
    settings = Settings()
    config = compute.config_of(settings)
    provider = BundledProvider()
    current = report.identity(
        provider.source_name,
        provider.data_version(),
        config.stride_bars,
        config.slippage_bps,
        [(spec.name, fingerprint(spec, config)) for spec in CATALOG],
    )
    assert report.recorded_identity(document) == current, STALE


def test_replayed_rows_match_the_table(document):
    rows = report.recorded_rows(document)
    assert set(rows) == {spec.name for spec in CATALOG}, STALE
    for computed in compute.evaluations(Settings(), REPLAYED):
        evaluation = computed.evaluation
        assert evaluation is not None, computed.error
        line = "| " + " | ".join(report.row_of(evaluation).cells) + " |"
        assert rows[evaluation.strategy] == line, STALE


def test_splicing_replaces_only_the_block():
    document = f"intro\n{report.BEGIN}\nold\n{report.END}\noutro\n"
    assert report.spliced(document, "NEW") == "intro\nNEW\noutro\n"
    with pytest.raises(ValueError):
        report.spliced("no block here", "NEW")
