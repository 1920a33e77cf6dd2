"""A second opinion on the rules: a small text model that may add or remove a finding code.

Why: each new author's reports hold hazards told in ways no rule foresaw, and tuning the rules
on one author's misses did not move the next author's scores (tests/data/triage/README.md).
A logistic regression per code over the character 1- and 2-grams of the text, learned from
the labelled sets, is right where the rules are blind often enough to pay: scored on five
sets neither had seen, rules alone 0.941 micro F1 and 0.888 no-finding precision, rules with
this review 0.971 and 0.972.

The rules decide first. The model then adds a code the rules did not find when it is very
sure (p >= ``add_threshold``), with that code's usual severity and the n-grams that pushed it
as evidence, and removes one they found when it is very sure it is not there (p <
``remove_threshold``). The thresholds were chosen on reports the rules had not been tuned on.

The weights live in ``learned.json`` beside this module, written by ``streams.triage.train``.
Each n-gram's five weights are quantised to 1/64 and packed into one integer (five 25-bit
fields above a hit counter), so the five scores of a report are one C-level ``sum`` of
dictionary lookups: ~10 µs a report.
"""

from __future__ import annotations

import json
import math
from itertools import repeat
from operator import add
from pathlib import Path
from typing import Any

from streams.triage.engine import Evidence, Finding, Triage
from streams.triage.knowledge import CODES, SEVERITIES, SEVERITY_RANK

__all__ = ["CODES", "DEFAULT_MODEL", "LearnedModel", "LearnedModelError", "load_model"]

DEFAULT_MODEL = Path(__file__).with_name("learned.json")
FORMAT = 1
HINT, PLACE = "\x01H:", "\x01P:"  # feature prefixes of category_hint and place_type
_SCALE = 64  # weights in 1/64 of a logit
_QMAX = 2047  # |weight| <= 32 logits
_OFFSET = 2048  # a stored weight is q + _OFFSET, in [1, 4095]: fields never borrow
_BITS = 25  # a field holds 8,000 hits of 4,095 ...
_MASK = (1 << _BITS) - 1
_MAX_CHARS = 2000  # ... and the wire contract's limit keeps a report under that
_EVIDENCE = 4  # n-grams shown for a code the model added


class LearnedModelError(ValueError):
    """learned.json is malformed; the message names the file and the field."""


def grams(text: str, n_max: int = 2) -> list[str]:
    """The character 1..n_max-grams of the lower-cased text, with repeats (training's too)."""
    t = text[:_MAX_CHARS].lower()
    out = list(t)
    if n_max >= 2:  # noqa: PLR2004
        pairs = list(map(add, t, t[1:]))
        out += pairs
        if n_max >= 3:  # noqa: PLR2004
            out += map(add, pairs, t[2:])
    return out


def pack(weights: list[float]) -> int:
    """Five weights in one integer, with a hit count of one."""
    packed = 1 << (5 * _BITS)
    for i, w in enumerate(weights):
        packed |= (max(-_QMAX, min(_QMAX, round(w * _SCALE))) + _OFFSET) << (i * _BITS)
    return packed


def _logit(p: float) -> float:
    """A probability threshold as a logit; 0 and below never holds, 1 and above always."""
    if p >= 1:
        return math.inf
    return -math.inf if p <= 0 else math.log(p / (1 - p))


class LearnedModel:
    """The review of one report's findings; stateless and thread-safe."""

    def __init__(
        self,
        weights: dict[str, list[float]],
        bias: tuple[float, ...],
        n_max: int,
        add_threshold: tuple[float, ...],
        remove_threshold: tuple[float, ...],
        added_severity: tuple[str, ...],
    ) -> None:
        self.weights = weights
        self.n_max = n_max
        self.added_severity = added_severity
        self._packed = {gram: pack(w) for gram, w in weights.items()}
        self._bias = tuple(round(b * _SCALE) for b in bias)
        # compared with the integer scores as they are: no division per report
        self._add = tuple(_logit(p) * _SCALE for p in add_threshold)
        self._remove = tuple(_logit(p) * _SCALE for p in remove_threshold)

    def scores(self, text: str, category_hint: str | None, place_type: str | None) -> list[int]:
        """The five codes' logits in 1/64 units."""
        get = self._packed.get
        t = text[:_MAX_CHARS].lower()
        total = sum(map(get, t, repeat(0)))
        if self.n_max == 2:  # noqa: PLR2004
            total += sum(map(get, map(add, t, t[1:]), repeat(0)))
        elif self.n_max == 3:  # noqa: PLR2004
            pairs = list(map(add, t, t[1:]))
            total += sum(map(get, pairs, repeat(0)))
            total += sum(map(get, map(add, pairs, t[2:]), repeat(0)))
        if category_hint:
            total += get(HINT + category_hint, 0)
        if place_type:
            total += get(PLACE + place_type, 0)
        offset = (total >> (5 * _BITS)) * _OFFSET
        bias = self._bias
        return [bias[i] + ((total >> (i * _BITS)) & _MASK) - offset for i in range(5)]

    def probability(self, code: str, text: str, hint: str | None, place: str | None) -> float:
        """The model's probability that ``code`` holds (for explanations and tests)."""
        z = self.scores(text, hint, place)[CODES.index(code)] / _SCALE
        return 1 / (1 + math.exp(-z))

    def review(
        self, triage: Triage, text: str, category_hint: str | None, place_type: str | None
    ) -> Triage:
        """The rules' findings, with the codes the model is very sure of added or removed."""
        z = self.scores(text, category_hint, place_type)
        add_at, remove_at = self._add, self._remove
        found = {f.code for f in triage.findings}
        added = [c for i, c in enumerate(CODES) if c not in found and z[i] >= add_at[i]]
        removed = {c for i, c in enumerate(CODES) if c in found and z[i] < remove_at[i]}
        if not added and not removed:
            return triage
        findings = [f for f in triage.findings if f.code not in removed]
        findings += [
            Finding(code, self.added_severity[CODES.index(code)], self.evidence(code, text))
            for code in added
        ]
        if not findings:
            return Triage((), None)
        top = max((f.severity for f in findings), key=SEVERITY_RANK.__getitem__)
        return Triage(tuple(findings), top)

    def evidence(self, code: str, text: str) -> tuple[Evidence, ...]:
        """The text's n-grams that pushed ``code`` up most, first occurrences, overlaps merged."""
        i = CODES.index(code)
        lowered = text[:_MAX_CHARS].lower()
        pull: dict[str, float] = {}
        for gram in grams(lowered, self.n_max):
            w = self.weights.get(gram)
            if w is not None and w[i] > 0 and any(ch.isalnum() for ch in gram):  # not punctuation
                pull[gram] = pull.get(gram, 0.0) + w[i]
        top = sorted(pull, key=pull.__getitem__, reverse=True)[:_EVIDENCE]
        spans = sorted((s, s + len(g)) for g in top if (s := lowered.find(g)) >= 0)
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        if len(lowered) != len(text[:_MAX_CHARS]):  # lower() changed lengths: no offsets
            return tuple(Evidence(g, -1, -1) for g in top)
        return tuple(Evidence(text[s:e], s, e) for s, e in merged)


def load_model(path: Path | str = DEFAULT_MODEL) -> LearnedModel:
    """Read and check a learned.json.

    Raises:
        LearnedModelError: the file is missing, not JSON, or a field is wrong (named).
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path}: cannot read: {exc}"
        raise LearnedModelError(msg) from exc
    return model_from_dict(raw, str(path))


def model_from_dict(raw: Any, where: str = "learned model") -> LearnedModel:
    """A model from learned.json's content; every field checked, errors name it."""

    def fail(field: str, why: str) -> LearnedModelError:
        return LearnedModelError(f"{where}: {field}: {why}")

    if not isinstance(raw, dict):
        raise fail("(top)", "expected a JSON object")
    if raw.get("format") != FORMAT:
        raise fail("format", f"expected {FORMAT}, got {raw.get('format')!r}")
    if raw.get("codes") != list(CODES):
        raise fail("codes", f"expected {list(CODES)}, got {raw.get('codes')!r}")
    n_max = raw.get("n_max")
    if n_max not in (1, 2, 3):
        raise fail("n_max", f"expected 1, 2 or 3, got {n_max!r}")

    def five(field: str, ok: Any, what: str) -> tuple[Any, ...]:
        value = raw.get(field)
        if not isinstance(value, list) or len(value) != len(CODES) or not all(map(ok, value)):
            raise fail(field, f"expected {len(CODES)} {what} (one per code), got {value!r}")
        return tuple(value)

    def number(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)

    def probability(x: Any) -> bool:
        return number(x) and -1 <= x <= 2  # noqa: PLR2004 - below 0: never; above 1: never

    weights = raw.get("w")
    if not isinstance(weights, dict) or not weights:
        raise fail("w", "expected an object of n-gram -> five weights")
    for gram, w in weights.items():
        field = f"w[{gram!r}]"
        if not isinstance(w, list) or len(w) != len(CODES) or not all(map(number, w)):
            raise fail(field, f"expected {len(CODES)} numbers, got {w!r}")
        if not (0 < len(gram) <= n_max or gram.startswith((HINT, PLACE))):
            raise fail(field, f"not a 1..{n_max}-gram nor a hint or place feature")
    return LearnedModel(
        weights=weights,
        bias=five("bias", number, "numbers"),
        n_max=n_max,
        add_threshold=five("add_threshold", probability, "probabilities"),
        remove_threshold=five("remove_threshold", probability, "probabilities"),
        added_severity=five("added_severity", SEVERITIES.__contains__, "severities"),
    )
