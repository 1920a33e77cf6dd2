"""The escalation benchmark's own arithmetic and traffic (the figures come from real runs)."""

from __future__ import annotations

import json

from streams.escalation.bench import Traffic, finding_share, percentile, traffic_messages
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
