"""deploy/grafana/: the command-center dashboard is valid and queries only real metrics.

Every metric name in every PromQL expression (dashboard and alerts.yml) must be one the
worker exports, read from the worker's own metric registry.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from streams.metrics import GridMetrics

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "deploy/grafana"
DASHBOARD = GRAFANA / "dashboards/command-center.json"
ALERTS = ROOT / "deploy/prometheus/alerts.yml"


def _exported() -> frozenset[str]:
    """The names the worker exports (read from the real registry), plus Prometheus's `up`."""
    registry = CollectorRegistry()
    GridMetrics.create(registry)
    names = {
        sample.name.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count")
        for family in registry.collect()
        for sample in family.samples
    } | {
        family.name + ("_total" if family.type == "counter" else "")
        for family in registry.collect()
    }
    return frozenset(n for n in names if not n.endswith("_created")) | {"up"}


METRICS = _exported()
HISTOGRAMS = frozenset(
    {
        "grid_notification_delivery_seconds",
        "grid_intake_processing_seconds",
        "grid_processing_seconds",
    }
)

# PromQL's functions, aggregations and keywords: every other identifier left after label
# matchers, ranges and label lists are removed is a metric name.
PROMQL_WORDS = frozenset(
    """
    abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes
    clamp clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year
    days_in_month deg delta deriv exp floor histogram_avg histogram_count histogram_fraction
    histogram_quantile histogram_stddev histogram_stdvar histogram_sum holt_winters
    double_exponential_smoothing hour idelta increase info irate label_join label_replace
    last_over_time ln log10 log2 mad_over_time max_over_time min_over_time minute month pi
    predict_linear present_over_time quantile_over_time rad rate resets round scalar sgn sin
    sinh sort sort_by_label sort_by_label_desc sort_desc sqrt stddev_over_time
    stdvar_over_time sum_over_time tan tanh time timestamp vector year
    sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk
    limit_ratio
    by without on ignoring group_left group_right bool and or unless offset start end
    inf nan
    """.split()
)
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_OFFSETS = re.compile(r"\boffset\s+-?\w+")
_IDENTIFIERS = re.compile(r"(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads; histogram series count as their histogram."""
    for pattern in (_STRINGS, _MATCHERS, _RANGES, _LABEL_LISTS, _OFFSETS):
        expr = pattern.sub(" ", expr)
    names = {w for w in _IDENTIFIERS.findall(expr) if w.lower() not in PROMQL_WORDS}
    return {histogram_of(name) for name in names}


def histogram_of(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name.removesuffix(suffix) in HISTOGRAMS:
            return name.removesuffix(suffix)
    return name


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def exprs() -> list[str]:
    return [t["expr"] for p in panels() for t in p["targets"]]


def alert_exprs() -> list[str]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('up{job="gridwatch"} == 0', {"up"}),
        ("sum(grid_escalations_overdue)", {"grid_escalations_overdue"}),
        (
            "sum by (reason) (rate(grid_reports_invalid_total[$__rate_interval])) * 60",
            {"grid_reports_invalid_total"},
        ),
        (
            "histogram_quantile(0.99, sum by (agent, le) "
            "(rate(grid_processing_seconds_bucket[1m]))) / grid_processing_seconds_count",
            {"grid_processing_seconds"},
        ),
        (
            'sum by (level) (grid_escalations_open{code=~"TELECOM_FRAUD|up(x)"}) offset 5m',
            {"grid_escalations_open"},
        ),
        ("a_total / on (x) group_left (y) b_count > 1e3", {"a_total", "b_count"}),
        ("deriv(sum by (topic) (lag)[10m:1m]) > 0 and bool sum(other)", {"lag", "other"}),
    ],
)
def test_metric_names(expr, names):
    assert metric_names(expr) == names


def test_dashboard_is_grafana_json():
    board = dashboard()
    assert board["uid"] == "gridwatch-command-center"
    assert isinstance(board["schemaVersion"], int)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert all(isinstance(i, int) for i in ids)
    for panel in panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
        assert panel["targets"], f"{panel['title']} has no targets"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "prometheus", panel["title"]
            assert target["expr"].strip(), panel["title"]


def test_panels_fit_the_grid_without_overlap():
    boxes = [(p["title"], p["gridPos"]) for p in dashboard()["panels"]]
    for title, pos in boxes:
        assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24, title
    cells: dict[tuple[int, int], str] = {}
    for title, pos in boxes:
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{title} overlaps {cells[(x, y)]}"
                cells[(x, y)] = title


def test_titles_are_chinese_with_english_in_brackets():
    title = re.compile(r"^[^()]*[\u4e00-\u9fff][^()]* \([^()]*[A-Za-z][^()]*\)$")
    bad = [p["title"] for p in dashboard()["panels"] if not title.match(p["title"])]
    assert bad == []
    assert title.match(dashboard()["title"])


def test_dashboard_uses_only_exported_metrics():
    used = set().union(*(metric_names(e) for e in exprs()))
    assert used - METRICS == set()
    assert {"grid_findings_total", "grid_consumer_lag_messages", "up"} <= used


def test_alerts_use_only_exported_metrics():
    used = set().union(*(metric_names(e) for e in alert_exprs()))
    assert used - METRICS == set()
    assert len(used) >= 5


def test_oldest_fraud_escalation_is_a_stat_red_over_300_s():
    (panel,) = [p for p in panels() if "grid_escalation_oldest_unacknowledged_seconds" in str(p)]
    assert panel["type"] == "stat"
    assert 'code="TELECOM_FRAUD"' in panel["targets"][0]["expr"]
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[-1] == {"color": "red", "value": 300}
    assert panel["fieldConfig"]["defaults"]["unit"] == "s"


def test_open_escalations_show_fraud_first():
    (panel,) = [p for p in panels() if "grid_escalations_open" in str(p)]
    first, *rest = panel["targets"]
    assert 'code=~"TELECOM_FRAUD|FRAUD_CAMPAIGN"' in first["expr"]
    assert all("by (level)" in t["expr"] for t in panel["targets"])
    assert rest and all("!~" in t["expr"] for t in rest)


def test_findings_by_district_is_a_bar():
    (panel,) = [p for p in panels() if "sum by (district)" in str(p)]
    assert panel["type"] in ("bargauge", "barchart")


def test_provisioning_points_at_prometheus_and_the_dashboards():
    sources = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    (source,) = sources["datasources"]
    assert (source["uid"], source["type"], source["url"]) == (
        "prometheus",
        "prometheus",
        "http://prometheus:9090",
    )
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/gridwatch.yml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"].startswith("/var/lib/grafana/dashboards")
