"""The policy file: the shipped default, its checks, and what a rule resolves to."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from streams.errors import ConfigError
from streams.escalation.policy import DEFAULT_POLICY_FILE, load_policy, parse_duration


def write_policy(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_fraud_in_progress_notifies_police_bank_and_community_at_once_for_two_minutes():
    rule = load_policy().rule_for("TELECOM_FRAUD", "critical")
    assert rule is not None
    first = rule.steps[0]
    assert set(first.targets) == {"anti_fraud_centre", "bank_hotline", "community"}
    assert first.ack_timeout == 120


def test_critical_fire_hazard_climbs_grid_and_community_then_street_then_district():
    rule = load_policy().rule_for("EBIKE_CHARGING", "critical")
    assert rule is not None
    assert [s.targets for s in rule.steps][0] == ("grid_worker", "community")
    assert rule.steps[0].ack_timeout == 600
    assert "street_platform" in rule.steps[1].targets
    assert rule.steps[-1].targets == ("district_command",)


def test_lower_severities_are_slower_and_low_escalates_to_no_one():
    policy = load_policy()
    timeouts = {
        sev: policy.rule_for("BLOCKED_EXIT", sev).steps[0].ack_timeout  # type: ignore[union-attr]
        for sev in ("critical", "high", "medium")
    }
    assert timeouts["critical"] < timeouts["high"] < timeouts["medium"]
    assert policy.rule_for("BLOCKED_EXIT", "low") is None


def test_only_police_and_bank_may_see_raw_phone_numbers_in_the_default():
    policy = load_policy()
    revealed = {name for name, t in policy.targets.items() if t.reveal_pii}
    assert revealed == {"anti_fraud_centre", "bank_hotline"}


def test_a_sequence_level_is_one_step_per_target_on_the_same_level():
    rule = load_policy().rule_for("ILLEGAL_WIRING", "high")
    assert rule is not None
    assert [(s.level, s.targets) for s in rule.steps[:2]] == [
        (0, ("grid_worker",)),
        (0, ("property_management",)),
    ]


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("2m", 120), ("1h30m", 5400), ("1h", 3600), (45, 45)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2 minutes", "5d", "m"])
def test_malformed_durations_are_refused(text):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_an_unknown_target_stops_the_load_with_the_rule_named(tmp_path):
    path = write_policy(
        tmp_path, lambda d: d["escalations"][0]["levels"][0]["notify"].append("mayor")
    )
    with pytest.raises(ConfigError, match=r"fraud in progress.*unknown targets \['mayor'\]"):
        load_policy(path)


def test_pii_for_a_community_target_is_refused_with_its_path(tmp_path):
    path = write_policy(tmp_path, lambda d: d["targets"]["community"].update(reveal_pii=True))
    with pytest.raises(ConfigError, match=r"targets\.community.*reveal_pii is for roles"):
        load_policy(path)


def test_a_bad_timeout_and_an_unknown_code_are_reported_together(tmp_path):
    def change(d):
        d["escalations"][1]["levels"][0]["ack_timeout"] = "soon"
        d["escalations"][2]["codes"] = ["FLOOD"]

    with pytest.raises(ConfigError) as caught:
        load_policy(write_policy(tmp_path, change))
    assert "escalations.1.levels.0.ack_timeout" in str(caught.value)
    assert "escalations.2.codes.0" in str(caught.value)


def test_duplicate_rule_names_are_refused(tmp_path):
    path = write_policy(tmp_path, lambda d: d["escalations"][1].update(name="fraud in progress"))
    with pytest.raises(ConfigError, match="names must be distinct"):
        load_policy(path)


def test_unreadable_yaml_is_a_config_error(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("targets: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read the escalation policy"):
        load_policy(path)


def test_target_names_must_be_plain_since_they_go_into_urls_and_ids(tmp_path):
    def change(d):
        d["targets"]["Police.HQ"] = d["targets"].pop("anti_fraud_centre")

    with pytest.raises(ConfigError, match=r"target names must be lowercase.*Police\.HQ"):
        load_policy(write_policy(tmp_path, change))
