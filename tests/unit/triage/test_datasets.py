"""The labelled sets: the dev set must stay above target; the holdout is reported, not tuned."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from streams.triage import TriageEngine, load_engine
from streams.triage.cli import _read_labels, read_reports
from streams.triage.evaluate import Scores, score

DATA = Path(__file__).resolve().parents[2] / "data" / "triage"


def _scores(engine: TriageEngine, name: str) -> Scores:
    reports, labels = DATA / f"{name}_reports.jsonl", DATA / f"{name}_labels.jsonl"
    if not reports.exists() or not labels.exists():
        pytest.skip(f"{name} set not present")
    with reports.open(encoding="utf-8") as stream:
        rows = list(read_reports(stream, io.StringIO()))
    with labels.open(encoding="utf-8") as stream:
        wanted = dict(_read_labels(stream, io.StringIO()))
    predictions = {
        r.report_id: engine.classify(r.text, r.category_hint, r.place_type, r.reported_at)
        for r in rows
    }
    return score(predictions, wanted, {r.report_id: r.text for r in rows})


@pytest.fixture(scope="module")
def shipped() -> TriageEngine:
    """The engine the worker runs: the rules and the learned review."""
    return load_engine()


def test_dev_set_meets_targets(shipped):
    s = _scores(shipped, "dev")
    assert s.micro_f1 >= 0.97
    assert s.macro_f1 >= 0.93
    assert s.no_finding_precision >= 0.95
    assert s.severity_accuracy >= 0.85


def test_dev_set_meets_targets_with_the_rules_alone(engine):
    s = _scores(engine, "dev")
    assert s.micro_f1 >= 0.97
    assert s.no_finding_precision >= 0.95


def test_holdout_set_meets_targets(shipped):
    s = _scores(shipped, "holdout")
    assert s.micro_f1 >= 0.95
    assert s.no_finding_precision >= 0.90
