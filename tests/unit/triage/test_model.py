"""The learned review: the file is checked at load, and it adds or removes codes as told."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from streams.triage import load_engine
from streams.triage.engine import Evidence, Finding, Triage
from streams.triage.model import (
    CODES,
    DEFAULT_MODEL,
    HINT,
    PLACE,
    LearnedModel,
    LearnedModelError,
    load_model,
    model_from_dict,
)
from streams.triage.train import Row as LabelledRow
from streams.triage.train import combine, metrics, set_order

EB, BX, WR, EQ, FR = CODES


def tiny(**changes: Any) -> dict[str, Any]:
    """A model of three n-grams: 咕咕 says e-bike charging, 演练 says nothing at all."""
    raw = {
        "format": 1,
        "codes": list(CODES),
        "n_max": 2,
        "bias": [0.0] * 5,
        "w": {
            "咕咕": [9.0, 0, 0, 0, 0],
            "演练": [-9.0, -9.0, -9.0, -9.0, -9.0],
            "电": [0.5, 0, 0.5, 0, 0],
        },
        "add_threshold": [0.9] * 5,
        "remove_threshold": [0.05] * 5,
        "added_severity": ["high", "medium", "medium", "medium", "high"],
    }
    raw.update(changes)
    return raw


def finding(code: str, severity: str) -> Finding:
    return Finding(code, severity, (Evidence("x", 0, 1),))


def test_a_code_the_model_is_sure_of_is_added_with_its_usual_severity_and_evidence():
    model = model_from_dict(tiny())
    text = "3号楼有人咕咕给车"
    out = model.review(Triage((), None), text, None, None)
    assert [f.code for f in out.findings] == [EB]
    assert out.severity == "high"
    (evidence, *rest) = out.findings[0].evidence
    assert text[evidence.start : evidence.end] == evidence.phrase
    assert "咕咕" in evidence.phrase


def test_a_code_the_model_is_sure_is_absent_is_removed_and_the_severity_follows():
    model = model_from_dict(tiny())
    rules = Triage((finding(BX, "critical"), finding(EQ, "medium")), "critical")
    assert model.review(rules, "消防演练", None, None) == Triage((), None)


def test_nothing_changes_below_the_thresholds():
    model = model_from_dict(tiny())
    rules = Triage((finding(WR, "medium"),), "medium")
    assert model.review(rules, "楼道里有电线", None, None) is rules
    assert model.review(Triage((), None), "今天巡查一切正常", None, None).findings == ()


def test_an_added_code_keeps_the_rules_findings_and_the_highest_severity():
    model = model_from_dict(tiny())
    rules = Triage((finding(FR, "critical"),), "critical")
    out = model.review(rules, "咕咕", None, None)
    assert {f.code for f in out.findings} == {FR, EB}
    assert out.severity == "critical"


def test_hint_and_place_are_features_that_the_text_can_outweigh():
    hinted = model_from_dict(tiny(w={**tiny()["w"], HINT + "ebike_charging": [3.0, 0, 0, 0, 0]}))
    plain = model_from_dict(tiny())
    assert hinted.probability(EB, "电", "ebike_charging", None) > plain.probability(
        EB, "电", None, None
    )
    assert hinted.review(Triage((), None), "消防演练", "ebike_charging", None).findings == ()


def test_scores_match_the_unpacked_weights():
    model = model_from_dict(tiny())
    z = 1 / (1 + 2.718281828459045 ** -(0.5 * 3))  # 咕 unknown; 咕咕 absent; 电 three times
    assert model.probability(EB, "咕电电电", None, None) == pytest.approx(z, abs=0.01)
    assert model.probability(WR, "咕电电电", None, None) == pytest.approx(z, abs=0.01)
    assert model.probability(FR, "咕电电电", None, None) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": 2}, "format"),
        ({"codes": list(reversed(CODES))}, "codes"),
        ({"n_max": 4}, "n_max"),
        ({"bias": [0.0] * 4}, "bias"),
        ({"w": {"咕咕": [1.0, 2.0]}}, "w['咕咕']"),
        ({"w": {"三个字": [0.0] * 5}}, "w['三个字']"),
        ({"w": {"x": [float("nan")] + [0.0] * 4}}, "w['x']"),
        ({"add_threshold": [0.9, 0.9, 0.9, 0.9, "high"]}, "add_threshold"),
        ({"added_severity": ["high"] * 4 + ["urgent"]}, "added_severity"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, Any], field: str):
    with pytest.raises(LearnedModelError, match=re.escape(f"learned model: {field}:")):
        model_from_dict(tiny(**change))


def test_an_unreadable_file_is_named(tmp_path: Path):
    bad = tmp_path / "learned.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(LearnedModelError, match="learned.json: cannot read"):
        load_model(bad)


def test_the_shipped_model_loads_and_never_learned_from_the_newest_blind_set():
    raw = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    assert isinstance(load_model(), LearnedModel)
    # blind20 is the honest estimate of this model only while it has not learned from it
    assert "blind20" not in raw["trained_on"] and "blind19" in raw["trained_on"]
    assert raw["thresholds_chosen_on"] == [f"blind{n}" for n in range(10, 20)]


def test_the_engine_reviews_the_rules_only_when_given_a_model(tmp_path: Path):
    path = tmp_path / "learned.json"
    path.write_text(json.dumps(tiny(), ensure_ascii=False), encoding="utf-8")
    text = "楼下有人咕咕"
    assert load_engine(learned=None).classify(text).findings == ()
    reviewed = load_engine(learned=path)
    assert [f.code for f in reviewed.classify(text).findings] == [EB]
    assert reviewed.rules(text).findings == ()


def row(codes: set[str], severity: str | None) -> LabelledRow:
    return LabelledRow("r", "t", None, None, frozenset(codes), severity)


def test_training_combines_as_the_review_does():
    p = [0.95, 0.5, 0.01, 0.5, 0.5]
    rules = {WR: "medium", FR: "critical"}
    codes, severity = combine(p, rules, [0.9] * 5, [0.05] * 5, ["high"] * 5)
    assert codes == {EB, FR} and severity == "critical"


def test_training_metrics_agree_with_eval():
    pairs = [
        (frozenset({EB}), "high", row({EB}, "high")),
        (frozenset(), None, row({BX}, "medium")),
        (frozenset({FR}), "high", row(set(), None)),
        (frozenset(), None, row(set(), None)),
    ]
    m = metrics(pairs)
    assert m["micro"] == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))
    assert m["no_finding_precision"] == 0.5
    assert m["severity"] == 0.5


def test_sets_sort_in_the_order_they_were_written():
    names = ["blind10", "blind", "dev", "blind2", "holdout"]
    assert sorted(names, key=set_order) == ["dev", "holdout", "blind", "blind2", "blind10"]
    with pytest.raises(ValueError, match="not a labelled set"):
        set_order("mine")


def test_the_shipped_model_never_adds_a_code_on_the_hint_or_place_alone():
    # category_hint and place_type are evidence, never truth: with an empty text, the
    # strongest hint plus the strongest place stays far below every add threshold
    model = load_model()
    for i, code in enumerate(CODES):
        hints = [w[i] for g, w in model.weights.items() if g.startswith(HINT)] or [0.0]
        places = [w[i] for g, w in model.weights.items() if g.startswith(PLACE)] or [0.0]
        z = max(0.0, max(hints)) + max(0.0, max(places))
        best = model.probability(code, "", None, None)
        assert 1 / (1 + math.exp(-(math.log(best / (1 - best)) + z))) < 0.5, code
