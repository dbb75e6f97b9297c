"""`make bench` rewrites docs/benchmarks.md's generated block in place: the markers are
there once each, in order, and a rewrite changes nothing outside them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import report

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"


def test_the_document_holds_one_generated_block() -> None:
    text = DOC.read_text()
    assert text.count(report.BEGIN) == 1 and text.count(report.END) == 1
    assert text.index(report.BEGIN) < text.index(report.END)


def test_a_run_rewrites_only_the_generated_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "benchmarks.md"
    copy.write_text(DOC.read_text())
    monkeypatch.setattr(report, "DOC", copy)
    monkeypatch.setattr(report, "render", lambda rows, meta: "NEW TABLES")
    report.write([], {})
    before, after = DOC.read_text(), copy.read_text()
    head, tail = before.split(report.BEGIN)[0], before.split(report.END)[1]
    assert after == f"{head}{report.BEGIN}\nNEW TABLES\n{report.END}{tail}"
