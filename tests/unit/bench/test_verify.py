"""The bench's output check, its progress files and its table."""

import json
import math

import pytest

from streams.bench_peers.progress import PeerConfig, read_progress
from streams.bench_peers.verify import Expected, TopicCount, check
from streams.bench_pipeline import ThroughputResult, Variant, throughput_table

EXPECTED = Expected(messages=1000, valid=970, retries=20, invalid=10)


def test_complete_outputs_pass():
    ok = TopicCount(970, 970)
    assert check(EXPECTED, ok, ok, TopicCount(10, 0)) == []


def test_skipped_reports_fail():
    problems = check(EXPECTED, TopicCount(960, 960), TopicCount(970, 970), TopicCount(10, 0))
    assert problems == ["accepted: 960 distinct reports, expected 970"]


def test_duplicates_fail():
    problems = check(EXPECTED, TopicCount(970, 970), TopicCount(975, 970), TopicCount(10, 0))
    assert problems == ["findings: 5 duplicates"]


def test_missing_dead_letters_fail():
    ok = TopicCount(970, 970)
    assert check(EXPECTED, ok, ok, TopicCount(0, 0)) == ["dlq: 0 dead letters, expected 10"]


def test_progress_files_sum(tmp_path):
    first, second, missing = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    first.write_text(json.dumps({"consumed": 5, "first_at": 3.0, "last_at": 9.0}))
    second.write_text(json.dumps({"consumed": 7, "first_at": 0.0, "last_at": 4.0}))
    total = read_progress([first, second, missing])
    assert total == {"consumed": 12, "first_at": 3.0, "last_at": 9.0}


def test_peer_config_round_trips():
    config = PeerConfig("b:9092", "s", "a", "f", "d", "seen", "g", "progress.json")
    assert PeerConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize(
    ("name", "kind", "processes"),
    [
        ("faust-x1", "faust", 1),
        ("quix-eos-x2", "quix-eos", 2),
        ("core-x3", "core", 3),
        ("floor-x1", "floor", 1),
    ],
)
def test_variant_names_parse(name, kind, processes):
    assert Variant.parse(name) == Variant(name, kind, processes)


@pytest.mark.parametrize("name", ["spark-x1", "plain", "plain-x0", "plain-xtwo"])
def test_bad_variant_names_are_refused(name):
    with pytest.raises(ValueError, match="KIND-xN"):
        Variant.parse(name)


def test_table_gives_faust_over_each_variant_at_the_same_process_count():
    results = [
        ThroughputResult("faust-x1", 1000, 2.0, 1.0, 100, ()),
        ThroughputResult("plain-x1", 1000, 0.5, 0.2, 80, ()),
        ThroughputResult("quix-x2", 1000, 1.0, 0.4, 160, ("dlq: 0 dead letters, expected 10",)),
    ]
    rows = throughput_table(results).splitlines()
    assert rows[1].split()[-2:] == ["1.00", "ok"]
    assert rows[2].split()[-2:] == ["0.25", "ok"]
    assert " - " in rows[3] and rows[3].endswith("expected 10")
    assert math.isclose(results[1].cpu_per_1k, 0.2)
