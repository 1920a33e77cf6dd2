"""The soak bench's arithmetic: the memory slope and what it prints."""

import pytest

from streams.settings import Settings
from streams.soak import Sample, SoakResult, memory_slope, retention_env, sample_line, soak_summary


def samples(rss: list[float], every_s: float = 30.0) -> list[Sample]:
    return [
        Sample(n * every_s, 400.0 * n * every_s, mb, 0.5 * n * every_s, mb / 4)
        for n, mb in enumerate(rss)
    ]


def test_the_slope_is_growth_per_minute():
    assert memory_slope(samples([100, 101, 102, 103])) == pytest.approx(2.0)  # 1 MB per 30 s
    assert memory_slope(samples([100, 100, 100])) == 0.0
    assert memory_slope(samples([100])) == 0.0


def test_a_warm_up_spike_does_not_count_in_the_second_half():
    result = SoakResult(rate=400, minutes=2, published=48_000)
    result.samples = samples([80, 150, 151, 151, 151])  # 0 .. 120 s
    assert soak_summary(result) == [
        "second half: rss 151.0 -> 151.0 MB, slope +0.00 MB/min; rocksdb 37.8 -> 37.8 MB",
        "published 48000, handled 48000 by the end",
    ]


def test_a_line_gives_the_pace_and_cpu_since_the_last_sample():
    first, second = samples([100, 104])
    assert sample_line(first, second).split() == ["0.5", "12000", "400", "104.0", "50", "26.0"]


def test_retention_minutes_become_the_workers_retention_settings(monkeypatch):
    assert retention_env(None) == {}
    for name, value in retention_env(3.0).items():
        monkeypatch.setenv(name, value)
    kept = Settings().retention
    for days in (kept.seen_reports_days, kept.closed_escalations_days, kept.deliveries_days):
        assert days * 24 * 60 == pytest.approx(3.0)
