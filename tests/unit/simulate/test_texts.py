"""Labels by construction follow shared DOMAIN.md's rules, checked on constructed cases."""

import random
import re

import pytest

from streams.simulate import texts
from streams.simulate.texts import (
    CODES,
    DAY_HOURS,
    NIGHT_HOURS,
    Composer,
    load_texts,
    merge,
    report_severity,
)

DATA = load_texts()
NEGATIONS = re.compile(r"未|无|没|畅通|正常|：0|规范|均在|合格|都在")


def composer(seed: int = 1) -> Composer:
    return Composer(random.Random(seed))


def test_merge_keeps_each_codes_highest_severity():
    findings = merge(
        {"EBIKE_CHARGING": "low"}, {"EBIKE_CHARGING": "high", "BLOCKED_EXIT": "medium"}
    )
    assert findings == {"EBIKE_CHARGING": "high", "BLOCKED_EXIT": "medium"}
    assert merge(findings, {"EBIKE_CHARGING": "medium"})["EBIKE_CHARGING"] == "high"


def test_report_severity_is_the_highest_finding():
    assert report_severity({}) is None
    assert report_severity({"ILLEGAL_WIRING": "low", "TELECOM_FRAUD": "critical"}) == "critical"
    assert report_severity({"ILLEGAL_WIRING": "medium", "BLOCKED_EXIT": "low"}) == "medium"


@pytest.mark.parametrize("code", sorted(DATA.clear))
def test_negated_checks_say_so(code):
    for fragment in DATA.clear[code]:
        assert NEGATIONS.search(fragment), fragment


def test_fixed_on_the_spot_is_low_and_only_for_fire_hazards(monkeypatch):
    monkeypatch.setattr(texts, "_FIX_SHARE", 1.0)
    c = composer()
    for code in CODES:
        for _ in range(50):
            findings: dict[str, str] = {}
            text = c.finding(code, 10, findings)
            fixed = any(text.endswith(f) for f in DATA.fixes.get(code, ()))
            if code == "TELECOM_FRAUD":
                assert not fixed and findings[code] != "low"
            elif findings[code] != "critical":
                assert fixed and findings[code] == "low", text


def test_fixes_say_on_the_spot():
    for code, fixes in DATA.fixes.items():
        assert code != "TELECOM_FRAUD"
        assert all("当场" in f or "现场" in f for f in fixes)


def test_fixed_earlier_gives_no_finding_and_says_it_is_fixed():
    for fragment in DATA.routine["fixed_earlier"]:
        assert re.search(r"已|换好|清走|没有再", fragment), fragment


def test_critical_ebike_only_at_night_in_the_only_stairwell_of_an_occupied_building():
    for fragment in DATA.findings["EBIKE_CHARGING"]["critical_night"]:
        assert re.search(r"夜|凌晨", fragment), fragment
        assert re.search(r"唯一|只有", fragment), fragment
        assert re.search(r"睡|住", fragment), fragment


@pytest.mark.parametrize("hour", range(24))
def test_time_stating_fragments_only_at_matching_hours(hour):
    c = composer(hour)
    _, _, pools = c._pools["EBIKE_CHARGING", hour]
    names = {name for _, name, _ in pools}
    assert ("critical_night" in names) == (hour in NIGHT_HOURS)
    assert ("high_day" in names) == (hour in DAY_HOURS)


def test_no_critical_ebike_in_the_afternoon():
    c = composer()
    severities = set()
    for _ in range(400):
        findings: dict[str, str] = {}
        c.finding("EBIKE_CHARGING", 15, findings)
        severities.add(findings["EBIKE_CHARGING"])
    assert "critical" not in severities and "high" in severities


def test_a_cable_only_for_an_ebike_is_ebike_charging_alone():
    for fragment in DATA.findings["ILLEGAL_WIRING"]["medium"]:
        if re.search(r"电动车|电瓶车|电驴", fragment):
            assert "电动汽车" in fragment, fragment  # an electric car is wiring, not an e-bike


def test_blocked_exit_with_ebike_only_when_the_text_says_blocked_or_locked():
    for text, codes in DATA.combos:
        if "EBIKE_CHARGING" in codes and "BLOCKED_EXIT" in codes:
            assert re.search(r"堵|杂物|锁|过不去", text), text
    for pool in DATA.findings["EBIKE_CHARGING"].values():
        assert not any(re.search(r"堵|杂物|锁上", f) for f in pool)


def test_publicity_drills_and_other_blocked_give_no_finding():
    c = composer()
    for theme in ("publicity", "drill", "other_blocked", "charging_request", "fraud_followup"):
        for fragment in DATA.routine[theme]:
            assert c.fill(fragment)  # a routine theme carries no label at all
    assert any("反诈" in f for f in DATA.routine["publicity"])
    assert any("演练" in f for f in DATA.routine["drill"])
    assert any("车位" in f for f in DATA.routine["other_blocked"])


def test_a_negated_code_is_never_also_found_in_the_same_report(monkeypatch):
    monkeypatch.setattr(texts, "_CLEAR_SHARE", 1.0)
    monkeypatch.setattr(texts, "_SECOND_SHARE", 1.0)
    c = composer(3)
    for code in CODES:
        for _ in range(100):
            findings: dict[str, str] = {}
            text = c.finding_report(code, 10, findings)
            opening = re.split(r"，但|；不过|。但", text)[0]
            cleared = {k for k, pool in DATA.clear.items() if opening in pool}
            assert not cleared & set(findings), text


def test_checklists_label_each_item():
    c = composer()
    findings: dict[str, str] = {}
    text = c.checklist(0.0, findings)
    assert findings == {} and text.endswith("未发现隐患。")
    text = c.checklist(1.0, findings)
    assert set(findings) == set(DATA.checklist_items) and "发现隐患" in text


def test_noise_never_touches_negations():
    for right, wrong in DATA.typos:
        assert not NEGATIONS.search(right) and not NEGATIONS.search(wrong)
    converted = {chr(k): v for k, v in DATA.traditional.items()}
    negations = {k: converted[k] for k in "未无没不" if k in converted}
    assert negations == {"无": "無"}  # still a negation, in traditional characters


def test_compose_labels_every_plan():
    c = composer(9)
    seen_codes, seen_none = set(), 0
    for i in range(3000):
        text, findings = c.compose("default", i % 24, "grid_app")
        assert text and len(text) <= 2000
        seen_codes |= set(findings)
        seen_none += not findings
    assert seen_codes == set(CODES) and seen_none > 2000


def test_hints_are_sometimes_misleading():
    c = composer()
    hints = {c.hint({}) for _ in range(300)}
    assert hints & set(DATA.hints["misleading"]) - set(DATA.hints["routine"])
