"""Learn ``learned.json`` (streams/triage/model.py) from the labelled sets.

    pip install -e '.[train]'          # numpy, scipy, scikit-learn: for training only
    python -m streams.triage.train --through blind19 [--out streams/triage/learned.json]

Pool: every labelled set in tests/data/triage up to ``--through``, in the order they were
written (dev, holdout, blind, blind2, ...). One logistic regression per code over the counts
of the text's character 1..2-grams plus a token each for category_hint and place_type.

The regularisation and the two thresholds are chosen the honest way: each set that has
*first verdicts* (``first_verdicts/<set>.jsonl``: the rules' verdicts before any rule was
tuned on that set) is left out in turn, the model is fitted on the rest, and the thresholds
that score best on the left-out sets' first verdicts reviewed by that model win. In sample the
rules are near perfect and would teach the model never to overrule them. The same pool and
arguments give the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.triage.engine import Evidence, Finding, Triage
from streams.triage.evaluate import Label, score
from streams.triage.knowledge import SEVERITIES, SEVERITY_RANK
from streams.triage.model import CODES, DEFAULT_MODEL, FORMAT, HINT, PLACE, grams

__all__ = ["DATA", "Row", "choose", "combine", "main", "metrics", "set_order"]

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "triage"
N_MAX = 2
PRUNE = 0.2  # n-grams whose weights all stay below this are left out of the file
C_GRID = (1.0, 3.0, 10.0, 30.0, 100.0)
ADD_GRID = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99, 2.0)  # 2.0: never add
REMOVE_GRID = (-1.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)  # -1.0: never remove


@dataclass(frozen=True)
class Row:
    """One labelled report."""

    report_id: str
    text: str
    hint: str | None
    place: str | None
    codes: frozenset[str]
    severity: str | None


def features(row: Row) -> list[str]:
    out = grams(row.text, N_MAX)
    if row.hint:
        out.append(HINT + row.hint)
    if row.place:
        out.append(PLACE + row.place)
    return out


def set_order(name: str) -> tuple[int, int]:
    """Sets in the order they were written: dev, holdout, blind, blind2, blind3, ..."""
    fixed = {"dev": (0, 0), "holdout": (1, 0), "blind": (2, 1)}
    if name in fixed:
        return fixed[name]
    match = re.fullmatch(r"blind(\d+)", name)
    if match is None:
        msg = f"not a labelled set name: {name}"
        raise ValueError(msg)
    return (2, int(match.group(1)))


def load_set(name: str, data: Path = DATA) -> list[Row]:
    labels = {}
    with (data / f"{name}_labels.jsonl").open(encoding="utf-8") as stream:
        for line in stream:
            label = json.loads(line)
            labels[label["report_id"]] = label
    rows = []
    with (data / f"{name}_reports.jsonl").open(encoding="utf-8") as stream:
        for line in stream:
            report = json.loads(line)
            label = labels[report["report_id"]]
            rows.append(
                Row(
                    report["report_id"],
                    report["text"],
                    report.get("category_hint"),
                    report.get("place_type"),
                    frozenset(label["codes"]),
                    label["severity"],
                )
            )
    return rows


Verdict = dict[str, str]  # code -> severity


def load_first_verdicts(name: str, data: Path = DATA) -> dict[str, Verdict]:
    path = data / "first_verdicts" / f"{name}.jsonl"
    with path.open(encoding="utf-8") as stream:
        return {v["report_id"]: v["codes"] for v in map(json.loads, stream)}


def combine(
    p: Sequence[float],
    rules: Verdict,
    add: Sequence[float],
    remove: Sequence[float],
    severity: Sequence[str],
) -> tuple[frozenset[str], str | None]:
    """The review of model.py on probabilities: codes and the report's severity."""
    out = dict(rules)
    for i, code in enumerate(CODES):
        if code in out and p[i] < remove[i]:
            del out[code]
        elif code not in out and p[i] >= add[i]:
            out[code] = severity[i]
    return frozenset(out), top_severity(out)


def top_severity(verdict: Verdict) -> str | None:
    """The highest severity of a verdict (None: no findings)."""
    return max(verdict.values(), key=SEVERITY_RANK.__getitem__) if verdict else None


def metrics(pairs: Iterable[tuple[frozenset[str], str | None, Row]]) -> dict[str, float]:
    """Micro F1, macro F1, no-finding precision, severity accuracy: ``gridwatch eval``'s."""
    predictions, labels = {}, {}
    for n, (codes, severity, row) in enumerate(pairs):
        # a verdict's severity is None exactly when it has no codes (``combine``)
        findings = tuple(Finding(c, severity, _NO_EVIDENCE) for c in codes) if severity else ()
        predictions[str(n)] = Triage(findings, severity)
        labels[str(n)] = Label(row.codes, row.severity)
    s = score(predictions, labels, {})
    return {
        "micro": s.micro_f1,
        "macro": s.macro_f1,
        "no_finding_precision": s.no_finding_precision,
        "severity": s.severity_accuracy,
    }


_NO_EVIDENCE: tuple[Evidence, ...] = ()


def fit(rows: Sequence[Row], c: float, prune: float = PRUNE) -> dict[str, Any]:
    """Weights and biases of the five regressions (liblinear: deterministic)."""
    import numpy as np  # type: ignore[import-not-found,import-untyped,unused-ignore]
    from scipy.sparse import csr_matrix  # type: ignore[import-not-found,import-untyped,unused-ignore]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-not-found,import-untyped,unused-ignore]

    vocabulary: dict[str, int] = {}
    indptr, indices = [0], []
    for row in rows:
        indices += [vocabulary.setdefault(f, len(vocabulary)) for f in features(row)]
        indptr.append(len(indices))
    x = csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(rows), len(vocabulary)))
    x.sum_duplicates()
    names = sorted(vocabulary, key=vocabulary.__getitem__)
    weights, bias = np.zeros((len(vocabulary), len(CODES))), []
    for i, code in enumerate(CODES):
        y = np.array([code in row.codes for row in rows], dtype=int)
        regression = LogisticRegression(C=c, solver="liblinear", max_iter=1000)
        regression.fit(x, y)
        weights[:, i] = regression.coef_[0]
        bias.append(float(regression.intercept_[0]))
    keep = np.nonzero(np.abs(weights).max(axis=1) >= prune)[0]
    w = {names[j]: [round(float(v), 4) for v in weights[j]] for j in keep}
    return {"bias": [round(b, 6) for b in bias], "w": w}


def probabilities(model: dict[str, Any], row: Row) -> list[float]:
    z = list(model["bias"])
    for f in features(row):
        w = model["w"].get(f)
        if w is not None:
            z = [a + b for a, b in zip(z, w, strict=True)]
    return [1 / (1 + math.exp(-v)) if v > -50 else 0.0 for v in z]  # noqa: PLR2004


def usual_severity(rows: Sequence[Row]) -> list[str]:
    """Per code: the commonest label severity of reports with that code alone."""
    out = []
    for code in CODES:
        seen = Counter(r.severity for r in rows if r.codes == {code})
        out.append(max(SEVERITIES, key=lambda s: (seen[s], SEVERITY_RANK[s])))
    return out


def choose(
    calibration: Sequence[tuple[Row, list[float], Verdict]], severity: Sequence[str]
) -> tuple[float, float, dict[str, float]]:
    """The (add, remove) thresholds with the best micro F1 (then severity) on calibration."""

    def quality(add: float, remove: float) -> tuple[float, float]:
        m = metrics(
            (*combine(p, rules, [add] * 5, [remove] * 5, severity), row)
            for row, p, rules in calibration
        )
        return round(m["micro"], 6), round(m["severity"], 6)

    grid = [(a, r) for a in ADD_GRID for r in REMOVE_GRID]
    add, remove = max(grid, key=lambda ar: (*quality(*ar), ar[0], -ar[1]))
    m = metrics(
        (*combine(p, rules, [add] * 5, [remove] * 5, severity), row)
        for row, p, rules in calibration
    )
    return add, remove, m


def train(through: str, data: Path = DATA, prune: float = PRUNE) -> dict[str, Any]:
    """learned.json's content, from the sets written up to ``through``.

    ``prune``: n-grams whose five weights all stay below it are left out, in the folds too.
    """
    names = sorted(
        (p.name.removesuffix("_labels.jsonl") for p in data.glob("*_labels.jsonl")),
        key=set_order,
    )
    pool = [n for n in names if set_order(n) <= set_order(through)]
    sets = {n: load_set(n, data) for n in pool}
    held = [n for n in pool if (data / "first_verdicts" / f"{n}.jsonl").exists()]
    everything = [row for n in pool for row in sets[n]]
    severity = usual_severity(everything)

    def out_of_fold(c: float) -> dict[str, list[list[float]]]:
        return {
            n: [probabilities(m, row) for row in sets[n]]
            for n in held
            for m in [fit([row for o in pool if o != n for row in sets[o]], c, prune)]
        }

    folds = {c: out_of_fold(c) for c in C_GRID}

    def log_loss(c: float) -> float:
        total = 0.0
        for n in held:
            for row, p in zip(sets[n], folds[c][n], strict=True):
                for i, code in enumerate(CODES):
                    q = min(max(p[i], 1e-6), 1 - 1e-6)
                    total -= math.log(q if code in row.codes else 1 - q)
        return total

    c = min(C_GRID, key=log_loss)
    calibration = []
    for n in held:
        first = load_first_verdicts(n, data)
        calibration += [
            (row, p, first[row.report_id]) for row, p in zip(sets[n], folds[c][n], strict=True)
        ]
    add, remove, chosen = choose(calibration, severity)
    rules_alone = metrics(
        (frozenset(rules), top_severity(rules), row) for row, _, rules in calibration
    )
    model = fit(everything, c, prune)
    return {
        "format": FORMAT,
        "codes": list(CODES),
        "n_max": N_MAX,
        "trained_on": pool,
        "thresholds_chosen_on": held,
        "C": c,
        "prune": prune,
        "calibration": {
            "rules_alone": {k: round(v, 4) for k, v in rules_alone.items()},
            "reviewed": {k: round(v, 4) for k, v in chosen.items()},
        },
        "add_threshold": [add] * 5,
        "remove_threshold": [remove] * 5,
        "added_severity": severity,
        "bias": model["bias"],
        "w": model["w"],
    }


def main(argv: list[str] | None = None) -> int:
    """Train and write the model; print what calibration chose."""
    parser = argparse.ArgumentParser(prog="python -m streams.triage.train", description=__doc__)
    parser.add_argument("--through", required=True, help="the last set to learn from (blind19)")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--prune", type=float, default=PRUNE, help="smallest weight kept")
    args = parser.parse_args(argv)
    learned = train(args.through, prune=args.prune)
    text = json.dumps(learned, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    keys = ("C", "prune", "add_threshold", "remove_threshold", "calibration")
    summary = {k: learned[k] for k in keys}
    sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    sys.stdout.write(f"{len(learned['w'])} n-grams -> {args.out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
