"""``gridwatch bench throughput`` refuses quix variants up front when Quix Streams is missing."""

import importlib.util

from streams import bench_pipeline
from streams.cli import main


def test_a_quix_variant_without_quix_streams_stops_before_publishing(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "quixstreams" else real(name)
    )

    def never(*args, **kwargs):
        raise AssertionError("published a backlog for a variant that cannot run")

    monkeypatch.setattr(bench_pipeline, "run_throughput_bench", never)
    assert main(["bench", "throughput", "--variant", "plain-x1", "--variant", "quix-x1"]) == 2
    assert "pip install -e '.[bench]'" in capsys.readouterr().err


def test_the_escalation_bench_compares_the_peers_at_the_workers_count(monkeypatch, capsys):
    from streams.escalation import bench as escalation_bench

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "quixstreams" else real(name)
    )
    rated = escalation_bench.RateResult(200, 2000, 10.0, 100, [50.0], 1.2, [10.0, 20.0])
    monkeypatch.setattr(escalation_bench, "run_bench", lambda *a, **k: [rated])
    asked: list[str] = []

    def compared(bootstrap, rates, traffic, variants):
        asked.extend(v.name for v in variants)
        return {v.name: [rated] for v in variants}

    monkeypatch.setattr(escalation_bench, "run_compared", compared)
    args = ["bench", "escalation", "--rates", "200", "--workers", "2", "--compare", "core,quix"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert asked == ["core-x2"]  # quix left out, and said so
    assert "quix left out" in out
    assert [line.split()[0] for line in out.splitlines() if line.endswith("1.00")] == [
        "faust-x2",
        "core-x2",
    ]
