"""Score triage output against labels: per-code P/R/F1, micro/macro F1, no-finding precision.

Pure functions over plain data so the CLI, the tests and notebooks share one definition of
each metric (the project's targets are stated in these terms).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from streams.triage.engine import Triage
from streams.triage.knowledge import CODES

__all__ = ["CodeScore", "Label", "Miss", "Scores", "format_scores", "score"]


@dataclass(frozen=True)
class Label:
    """The expected codes and highest severity of one report."""

    codes: frozenset[str]
    severity: str | None


@dataclass(frozen=True)
class CodeScore:
    """Counts and derived metrics for one finding code."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        """Share of predicted findings that were right (1.0 when none were predicted)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of labelled findings that were found (1.0 when none were labelled)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall, from counts (0.0 when nothing matched)."""
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0


@dataclass(frozen=True)
class Miss:
    """One disagreement: a missed or false finding, or a wrong severity, with its evidence."""

    report_id: str
    kind: str  # "missed" | "false" | "severity"
    code: str
    detail: str


@dataclass(frozen=True)
class Scores:
    """All metrics of one evaluation run."""

    per_code: dict[str, CodeScore]
    micro_f1: float
    macro_f1: float
    no_finding_precision: float
    severity_accuracy: float
    reports: int
    misses: list[Miss] = field(default_factory=list)


def score(
    predictions: Mapping[str, Triage], labels: Mapping[str, Label], texts: Mapping[str, str]
) -> Scores:
    """Compare predictions with labels over the labelled reports (unpredicted = no finding)."""
    empty = Triage((), None)
    pairs = [(rid, predictions.get(rid, empty), label) for rid, label in labels.items()]
    per_code = {code: _code_score(code, pairs) for code in CODES}
    scored = [s for s in per_code.values() if s.tp + s.fp + s.fn]
    return Scores(
        per_code=per_code,
        micro_f1=_micro(per_code.values()),
        macro_f1=sum(s.f1 for s in scored) / len(scored) if scored else 1.0,
        no_finding_precision=_no_finding_precision(pairs),
        severity_accuracy=sum(p.severity == lb.severity for _, p, lb in pairs) / max(len(pairs), 1),
        reports=len(pairs),
        misses=[m for rid, p, lb in pairs for m in _misses(rid, p, lb, texts.get(rid, ""))],
    )


def _code_score(code: str, pairs: list[tuple[str, Triage, Label]]) -> CodeScore:
    """Count hits, false alarms and misses of one code."""
    predicted = [({f.code for f in p.findings}, lb.codes) for _, p, lb in pairs]
    return CodeScore(
        tp=sum(code in got and code in want for got, want in predicted),
        fp=sum(code in got and code not in want for got, want in predicted),
        fn=sum(code not in got and code in want for got, want in predicted),
    )


def _micro(scores: Iterable[CodeScore]) -> float:
    """F1 over the pooled counts of all codes."""
    counts = list(scores)
    return CodeScore(
        tp=sum(s.tp for s in counts), fp=sum(s.fp for s in counts), fn=sum(s.fn for s in counts)
    ).f1


def _no_finding_precision(pairs: list[tuple[str, Triage, Label]]) -> float:
    """Of the reports we called clean, the share that really are (1.0 if we called none)."""
    clean = [lb for _, p, lb in pairs if not p.findings]
    return sum(not lb.codes for lb in clean) / len(clean) if clean else 1.0


def _misses(rid: str, got: Triage, want: Label, text: str) -> list[Miss]:
    """List what went wrong for one report, quoting evidence or the text."""
    found = {f.code: f for f in got.findings}
    out = [Miss(rid, "missed", c, text[:120]) for c in sorted(want.codes - set(found))]
    for code in sorted(set(found) - want.codes):
        phrases = ", ".join(f"{e.phrase}@{e.start}" for e in found[code].evidence)
        out.append(Miss(rid, "false", code, f"{phrases} | {text[:120]}"))
    if got.severity != want.severity:
        out.append(Miss(rid, "severity", "-", f"{got.severity} != {want.severity} | {text[:120]}"))
    return out


def format_scores(scores: Scores, *, show_misses: bool = True) -> str:
    """Render the metrics as a plain-text table, then the misses."""
    lines = [f"{'code':<24}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>5}{'fn':>5}"]
    for code, s in scores.per_code.items():
        row = f"{s.precision:7.3f}{s.recall:7.3f}{s.f1:7.3f}{s.tp:6d}{s.fp:5d}{s.fn:5d}"
        lines.append(f"{code:<24}{row}")
    lines += [
        f"reports                 {scores.reports}",
        f"micro F1                {scores.micro_f1:.3f}",
        f"macro F1                {scores.macro_f1:.3f}",
        f"no-finding precision    {scores.no_finding_precision:.3f}",
        f"severity accuracy       {scores.severity_accuracy:.3f}",
    ]
    if show_misses and scores.misses:
        lines.append(f"\nmisses ({len(scores.misses)}):")
        lines += [f"  {m.report_id}  {m.kind:<8} {m.code:<24} {m.detail}" for m in scores.misses]
    return "\n".join(lines)
