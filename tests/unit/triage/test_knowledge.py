"""rules.yaml is validated at load, with errors that point at the bad line."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.triage import DEFAULT_RULES, KnowledgeError, load_engine


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_default_rules_load():
    assert load_engine().classify("楼道堆满杂物。").findings


def test_unknown_group_in_a_trigger_names_its_line(tmp_path):
    path = _broken(tmp_path, "- all: [ebike, charging, route]", "- all: [ebike, chargin, route]")
    with pytest.raises(KnowledgeError, match=rf"rules.yaml:{_line_of(path, 'chargin,')}:.*chargin"):
        load_engine(path)


def test_bad_severity_level(tmp_path):
    path = _broken(
        tmp_path, "{level: high, all: [only_route]}", "{level: severe, all: [only_route]}"
    )
    with pytest.raises(KnowledgeError, match=rf":{_line_of(path, 'severe')}:.*severe"):
        load_engine(path)


def test_unequal_character_mapping(tmp_path):
    path = _broken(tmp_path, "    帳: 账", "    帳: 账户")
    with pytest.raises(KnowledgeError, match="characters"):
        load_engine(path)


def test_bad_regex(tmp_path):
    path = _broken(tmp_path, "  night: ['2[1-3]", "  night: ['2[1-3")
    with pytest.raises(KnowledgeError, match="bad regular expression"):
        load_engine(path)


def test_pattern_that_can_match_nothing(tmp_path):
    path = _broken(tmp_path, "  night: ['2[1-3]", "  night: ['(?:晚上)?', '2[1-3]")
    with pytest.raises(KnowledgeError, match="at least one character"):
        load_engine(path)


def test_yaml_syntax_error(tmp_path):
    path = _broken(tmp_path, "codes:\n", "codes: [\n")
    with pytest.raises(KnowledgeError, match=r"rules.yaml:\d+:\d+"):
        load_engine(path)


def test_duplicate_key_and_unknown_key(tmp_path):
    path = _broken(tmp_path, "  fire_lane: [", "  route: [x]\n  fire_lane: [")
    with pytest.raises(KnowledgeError, match="appears twice"):
        load_engine(path)
    path = _broken(tmp_path, "report_wide:", "report_wid:")
    with pytest.raises(KnowledgeError, match="unknown key 'report_wid'"):
        load_engine(path)


def test_missing_role_group(tmp_path):
    path = _broken(tmp_path, "  not_found: [", "  not_foundx: [")
    with pytest.raises(KnowledgeError, match="not_found"):
        load_engine(path)


def test_last_severity_rule_must_be_unconditional(tmp_path):
    path = _broken(
        tmp_path,
        "      - {level: medium}                                         # a",
        "      - {level: medium, all: [loss]}  # a",
    )
    with pytest.raises(KnowledgeError, match="no conditions"):
        load_engine(path)


def test_normalise_changes_only_what_the_table_changes():
    k = load_engine().knowledge
    text = "３號樓樓道內電瓶車充電，ＥＢＩＫＥ！堆满纸箱 21：30 Abc"
    assert k.normalise(text) == text.translate(k.table)
    assert len(k.normalise(text)) == len(text)  # offsets stay valid
    assert not k.odd_chars.search("堆满纸箱")  # characters the table maps to themselves


def test_pattern_token_is_the_first_pattern_that_matches_there():
    k = load_engine().knowledge
    bits = k.bits
    assert k.pattern_token("转了9800元", 2) == (7, bits["money"])
    assert k.pattern_token("只有一个楼梯", 0) == (4, bits["only_route"])
    assert k.pattern_token("晚上22点", 2) == (5, bits["night"])
