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
