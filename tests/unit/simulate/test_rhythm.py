import random
from datetime import datetime
from typing import Any

from streams.simulate import SimConfig, Simulator
from streams.simulate.geography import load_geography
from streams.simulate.rhythm import CST, Rhythm
from streams.simulate.truth import Truth


def _quiet_run() -> Truth:
    sim = Simulator(SimConfig(count=20_000, seed=4, per_day=1500, campaigns=False))
    for _ in sim.messages():
        pass
    return sim.truth


def test_few_reports_at_night_peaks_on_patrol_hours():
    by_hour = _quiet_run().by_hour
    night = sum(by_hour[1:5])
    assert by_hour[9] > 10 * by_hour[3]
    assert by_hour[15] > 10 * by_hour[3]
    assert by_hour[12] < by_hour[10] and by_hour[12] < by_hour[15]  # lunch dip
    assert night < 0.03 * sum(by_hour)


def test_weekdays_busier_than_weekends():
    by_weekday = _quiet_run().by_weekday
    assert min(by_weekday[:5]) > 1.3 * max(by_weekday[5:])


def test_rate_matches_per_day():
    truth = _quiet_run()
    first = datetime.fromisoformat(truth.first_reported_at or "")
    last = datetime.fromisoformat(truth.last_reported_at or "")
    days = (last - first).total_seconds() / 86400
    assert 1300 < truth.accepted / days < 1700


def test_campaigns_depend_on_seed_and_day_only():
    geo = load_geography()
    a = Rhythm(random.Random(1), geo, datetime(2025, 11, 3, tzinfo=CST), seed=8)
    b = Rhythm(random.Random(2), geo, datetime(2025, 11, 3, tzinfo=CST), seed=8)
    days = range(60)
    assert [(c.district, c.street, c.start) for d in days for c in a.campaigns(d)] == [
        (c.district, c.street, c.start) for d in days for c in b.campaigns(d)
    ]
    assert sum(len(a.campaigns(d)) for d in days) > 10
    assert all((a.origin.weekday() + d) % 7 < 5 for d in days if a.campaigns(d))


def test_a_campaign_is_a_burst_on_one_street():
    sim = Simulator(SimConfig(count=60_000, seed=4, per_day=9800))
    for _ in sim.messages():
        pass
    campaigns: list[dict[str, Any]] = sim.truth_dict()["campaigns"]  # type: ignore[assignment]
    assert campaigns
    for campaign in campaigns:
        hours = (
            datetime.fromisoformat(campaign["end"]) - datetime.fromisoformat(campaign["start"])
        ).total_seconds() / 3600
        district = sim.geography.district(campaign["district"])
        share = district.weight / sum(d.weight for d in sim.geography.districts)
        street_hourly = 9800 * share / 24 / len(district.streets)
        # 2-4x the district's mean hourly volume, on one street: far above its usual
        assert campaign["reports"] > 10 * street_hourly * hours


def test_stamp_is_iso_with_offset():
    rhythm = Rhythm(random.Random(1), load_geography(), datetime(2025, 11, 3, 5, tzinfo=CST))
    assert rhythm.stamp(0) == "2025-11-03T00:00:00+08:00"
    assert rhythm.stamp(86400 + 3 * 3600 + 61.7) == "2025-11-04T03:01:01+08:00"
    assert rhythm.now == 5 * 3600
    t, _ = rhythm.next()
    assert t > 5 * 3600
