"""The escalation benchmark's own arithmetic and traffic (the figures come from real runs)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from streams.escalation.bench import (
    RateResult,
    Traffic,
    compared_table,
    finding_share,
    findings_latencies,
    percentile,
    traffic_messages,
)
from streams.sample import ROUTINE_TEXTS
from streams.triage import load_engine


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (
        50,
        99,
        100,
    )
    assert percentile([7.0], 99) == 7.0


def test_one_in_n_is_a_fraud_in_progress_probe_at_an_address_of_its_own():
    messages = traffic_messages(100, Traffic(seconds=2, probe_every=20, routine_share=0.8), "run")
    probes = [json.loads(value) for _, value, probe in messages if probe]
    assert len(messages) == 200
    assert len(probes) == 10
    assert len({p["address"] for p in probes}) == 10
    verdict = load_engine().classify(probes[0]["text"])
    assert [(f.code, f.severity) for f in verdict.findings] == [("TELECOM_FRAUD", "critical")]


def test_a_rate_sent_again_sends_new_reports_of_the_same_mix():
    traffic = Traffic(seconds=2, probe_every=20, routine_share=0.8)
    first, again = (traffic_messages(1000, traffic, "run", turn) for turn in (0, 1))
    assert traffic_messages(1000, traffic, "run", 1) == again  # still reproducible
    reports = [[json.loads(value) for _, value, _ in sent] for sent in (first, again)]
    for field in ("report_id", "grid_id"):  # same grids would join last turn's escalations
        seen = [{r[field] for r in sent} for sent in reports]
        assert len(seen[0] & seen[1]) < 0.1 * len(seen[1]), field
    probes = [
        {json.loads(v)["address"] for _, v, probe in sent if probe} for sent in (first, again)
    ]
    assert len(probes[0]) == len(probes[1]) == 100
    assert probes[0].isdisjoint(probes[1])  # else a probe joins the last turn's escalation
    assert abs(finding_share(first) - finding_share(again)) < 0.03


def test_the_share_with_a_finding_follows_the_routine_share():
    messages = traffic_messages(
        1000, Traffic(seconds=2, probe_every=10**9, routine_share=0.8), "run"
    )
    texts = [json.loads(value)["text"] for _, value, _ in messages]
    assert sum(t in ROUTINE_TEXTS for t in texts) / len(texts) > 0.8
    assert 0.10 < finding_share(messages) < 0.20
    everything = traffic_messages(
        1000, Traffic(seconds=2, probe_every=10**9, routine_share=0.0), "run"
    )
    assert finding_share(everything) > 0.6


def test_findings_latency_is_the_append_time_less_the_send_of_this_rates_reports():
    def record(report_id: str, appended_ms: int) -> SimpleNamespace:
        return SimpleNamespace(
            value=json.dumps({"report_id": report_id}).encode(), timestamp=appended_ms
        )

    sent = {"r-1000-1": 100.000, "r-1000-2": 100.500}
    records = [record("r-200-1", 99_000), record("r-1000-2", 100_540), record("r-1000-1", 100_025)]
    assert sorted(findings_latencies(records, sent)) == [25.0, 40.0]


def test_a_row_prints_the_findings_count_and_percentiles_after_the_cpu():
    result = RateResult(1000, 30000, 30.0, 2, [50.0, 70.0], 0.6, [float(v) for v in range(1, 101)])
    assert result.row().split()[-4:] == ["100", "50", "95", "99"]


def _rated(rate: int, p99_ms: float, cpu_ms: float) -> RateResult:
    """A rate with 100 findings latencies: 98 at half ``p99_ms``, two at ``p99_ms``."""
    found = [p99_ms / 2] * 98 + [p99_ms, p99_ms]
    return RateResult(rate, rate * 10, 10.0, 0, [], cpu_ms, found)


def test_the_compared_table_gives_each_variant_a_row_per_rate_and_the_workers_p99_over_its():
    results = {
        "faust-x1": [_rated(200, 120.0, 1.5), _rated(1000, 300.0, 0.9)],
        "plain-x1": [_rated(200, 60.0, 1.4), _rated(1000, 100.0, 0.5)],
    }
    header, *rows = compared_table("faust-x1", results, [200, 1000])
    assert header.split()[-1] == "faust/this"
    cells = [row.split() for row in rows]
    assert [(c[0], c[1]) for c in cells] == [
        ("faust-x1", "200"),
        ("plain-x1", "200"),
        ("faust-x1", "1000"),
        ("plain-x1", "1000"),
    ]
    assert [c[6] for c in cells] == ["120", "60", "300", "100"]  # p99
    assert [c[8] for c in cells] == ["1.00", "2.00", "1.00", "3.00"]
    assert cells[3][7] == "0.50"  # cpu ms per report


def test_a_variant_without_findings_prints_dashes_not_a_ratio():
    results = {
        "faust-x1": [_rated(200, 120.0, 1.5)],
        "quix-x1": [RateResult(200, 0, 1.0, 0, [], 0.0)],
    }
    _, _, quix = compared_table("faust-x1", results, [200])
    assert quix.split()[4:7] == ["-", "-", "-"]
    assert quix.split()[-1] == "-"
