"""Sample traffic: reproducible by default, or reported over the last hour for the demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.sample import make_sample


def test_the_default_sample_is_reproducible():
    one, two = make_sample(5, 0, 0, seed=3), make_sample(5, 0, 0, seed=3)
    assert one.valid == two.valid
    assert one.valid[0]["reported_at"] == "2025-11-03T08:00:00+08:00"


def test_a_recent_sample_was_reported_within_the_last_hour():
    now = datetime.now(UTC)
    times = [
        datetime.fromisoformat(str(r["reported_at"]))
        for r in make_sample(50, 0, 0, recent=True).valid
    ]
    assert all(now - timedelta(hours=1, seconds=5) <= t <= now for t in times)
    assert times == sorted(times)
