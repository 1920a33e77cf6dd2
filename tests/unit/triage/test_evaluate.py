from __future__ import annotations

from streams.triage import Evidence, Finding, Triage
from streams.triage.evaluate import Label, format_scores, score


def _t(*found: tuple[str, str]) -> Triage:
    findings = tuple(Finding(c, s, (Evidence("x", 0, 1),)) for c, s in found)
    return Triage(findings, found[0][1] if found else None)


def test_metrics():
    labels = {
        "a": Label(frozenset({"EBIKE_CHARGING"}), "high"),
        "b": Label(frozenset(), None),
        "c": Label(frozenset({"BLOCKED_EXIT"}), "medium"),
        "d": Label(frozenset(), None),
    }
    predictions = {
        "a": _t(("EBIKE_CHARGING", "high")),
        "b": _t(("BLOCKED_EXIT", "medium")),
        "c": _t(),
    }
    s = score(predictions, labels, {"c": "楼道堆物"})
    assert (s.per_code["EBIKE_CHARGING"].tp, s.per_code["BLOCKED_EXIT"].fp) == (1, 1)
    assert s.per_code["BLOCKED_EXIT"].fn == 1
    assert s.micro_f1 == 2 * 1 / (2 * 1 + 1 + 1)
    assert s.macro_f1 == (1.0 + 0.0) / 2  # codes never seen are left out
    assert s.no_finding_precision == 0.5  # c and d called clean, only d is
    assert s.severity_accuracy == 0.5
    kinds = {(m.report_id, m.kind) for m in s.misses}
    assert {("b", "false"), ("c", "missed"), ("c", "severity")} <= kinds
    text = format_scores(s)
    assert "micro F1" in text and "c  missed" in text
