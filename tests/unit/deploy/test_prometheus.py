"""deploy/prometheus/: promtool accepts the config and the rules, and the alert tests pass.

Promtool comes from deploy/local/prometheus.sh (Debian's package, fetched if missing). Without
it these tests skip with the reason; with CI=true they fail instead.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
import yaml

from .prometheus_tools import DEPLOY_PROMETHEUS, bin_dir, unavailable

ALERTS = {
    "FraudEscalationUnacknowledged": "critical",
    "DeadLetterSpike": "warning",
    "ConsumerLagGrowing": "warning",
    "WorkerDown": "critical",
}
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{3,} [A-Za-z]{2,}")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run promtool in deploy/prometheus (where the config's relative rule path resolves)."""
    return subprocess.run(
        [str(bin_dir() / "promtool"), *args],
        cwd=DEPLOY_PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load(name: str) -> Any:
    return yaml.safe_load((DEPLOY_PROMETHEUS / name).read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load("alerts.yml")["groups"] for rule in group["rules"]]


def test_promtool_check_config():
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


def test_promtool_check_rules():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(ALERTS)} rules found" in result.stdout


def test_promtool_test_rules():
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_test_rules_can_fail(tmp_path):
    """A broken threshold makes the alert tests fail: they do check something."""
    rules = (DEPLOY_PROMETHEUS / "alerts.yml").read_text(encoding="utf-8")
    (tmp_path / "alerts.yml").write_text(rules.replace("> 300", "> 3000"), encoding="utf-8")
    tests = (DEPLOY_PROMETHEUS / "alerts_test.yml").read_text(encoding="utf-8")
    (tmp_path / "alerts_test.yml").write_text(tests, encoding="utf-8")
    result = promtool("test", "rules", str(tmp_path / "alerts_test.yml"))
    assert result.returncode != 0
    assert "FraudEscalationUnacknowledged" in result.stdout + result.stderr


def test_scrape_config_targets_the_workers():
    config = load("prometheus.yml")
    assert config["global"]["scrape_interval"] == "15s"
    assert config["rule_files"] == ["alerts.yml"]
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "gridwatch"]
    assert job["metrics_path"] == "/metrics"
    targets = [t for c in job["static_configs"] for t in c["targets"]]
    assert targets == ["127.0.0.1:6066", "127.0.0.1:6067"]


def test_alerts_have_severity_and_bilingual_annotations():
    rules = alert_rules()
    assert {r["alert"]: r["labels"]["severity"] for r in rules} == ALERTS
    for rule in rules:
        for key in ("summary", "description"):
            text = rule["annotations"][key]
            assert CJK.search(text), f"{rule['alert']} {key} has no Chinese"
            assert ENGLISH.search(text), f"{rule['alert']} {key} has no English"


def test_every_alert_is_tested_firing_and_not_firing():
    cases: dict[str, set[bool]] = {}
    for test in load("alerts_test.yml")["tests"]:
        for case in test.get("alert_rule_test", []):
            cases.setdefault(case["alertname"], set()).add(bool(case["exp_alerts"]))
    assert cases == {name: {True, False} for name in ALERTS}


def test_missing_prometheus_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and no Prometheus"):
        unavailable("apt-get not found")


def test_missing_prometheus_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="make prometheus-fetch"):
        unavailable("apt-get not found")
