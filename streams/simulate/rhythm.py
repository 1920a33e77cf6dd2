"""The simulated clock: when reports arrive, hour by hour, and the campaigns that burst.

Arrivals are a Poisson process whose rate is constant within each local hour: the daily
volume (``per_day``, 9,800 by default: Ningbo's ~3.58 million events a year) is spread by an
hour profile (few reports at night, peaks on the morning and afternoon patrols, a smaller
evening one) that is flatter at weekends, when fewer grid workers patrol. On some weekdays a
district runs a campaign (an e-bike charging sweep, a check of the nine small venues...) on one
street for an afternoon or a morning, which adds its own rate of reports on top.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from streams.simulate.geography import Geography

__all__ = [
    "CAMPAIGN_THEMES",
    "CST",
    "DAY_FACTORS",
    "HOUR_WEIGHTS",
    "Campaign",
    "Rhythm",
    "local_midnight",
]

CST = timezone(timedelta(hours=8))
# Share of a day's reports in each local hour, weekdays then weekends (normalised on use).
HOUR_WEIGHTS = (
    (0.4, 0.25, 0.2, 0.15, 0.2, 0.4, 1.2, 2.5, 6.5, 9.5, 9.0, 6.5,
     2.8, 3.5, 8.0, 9.0, 8.0, 5.0, 3.0, 4.0, 4.5, 3.0, 1.5, 0.8),
    (0.5, 0.35, 0.25, 0.2, 0.2, 0.4, 1.0, 1.8, 3.5, 5.0, 5.5, 4.5,
     2.8, 3.0, 4.5, 5.0, 4.5, 3.5, 3.0, 4.5, 5.0, 3.5, 1.8, 1.0),
)  # fmt: skip
DAY_FACTORS = (1.05, 1.0, 1.0, 1.0, 0.95, 0.65, 0.55)  # Monday .. Sunday
# theme -> (Chinese name, weight); the theme is also the name of its text mix
CAMPAIGN_THEMES = {
    "ebike_sweep": ("电动自行车充电专项整治", 40.0),
    "venue_check": ("九小场所消防安全检查", 25.0),
    "rental_check": ("出租房安全隐患排查", 20.0),
    "anti_fraud_visit": ("反诈入户宣传", 15.0),
}
_CAMPAIGN_CHANCE = 0.06  # per district and weekday: about 0.6 campaigns a weekday citywide
_HOUR = 3600.0


@dataclass(frozen=True, slots=True, eq=False)  # identity: each is drawn once per day
class Campaign:
    """A burst of reports from one street: ``rate`` per second from ``start`` to ``end``."""

    district: str
    street: str
    theme: str
    start: float  # simulated seconds since the first day's local midnight
    end: float
    rate: float


def local_midnight(moment: datetime) -> datetime:
    """Midnight in Ningbo of the day ``moment`` falls on."""
    local = moment.astimezone(CST)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


class Rhythm:
    """Draws arrival times in simulated seconds since ``origin`` (a local midnight)."""

    def __init__(
        self,
        rng: random.Random,
        geography: Geography,
        start: datetime,
        *,
        per_day: float = 9800.0,
        seed: int = 0,
        campaigns: bool = True,
    ) -> None:
        self.rng, self.geography, self.seed = rng, geography, seed
        self.origin = local_midnight(start)
        self.now = (start - self.origin).total_seconds()
        self.per_day, self.campaigns_on = per_day / (sum(DAY_FACTORS) / 7), campaigns
        self._profiles = tuple(tuple(w / sum(p) for w in p) for p in HOUR_WEIGHTS)
        self._days: dict[int, tuple[Campaign, ...]] = {}
        self._bucket = -1
        self._rate, self._base = 0.0, 0.0
        self._active: tuple[Campaign, ...] = ()
        self._dates: dict[int, str] = {}

    def next(self) -> tuple[float, Campaign | None]:
        """Advance to the next arrival: its time, and the campaign it belongs to, if any."""
        work = self.rng.expovariate(1.0)  # unit-rate work, spent at each hour's rate
        while True:
            self._enter(int(self.now // _HOUR))
            room = ((self._bucket + 1) * _HOUR - self.now) * self._rate
            if work < room:
                self.now += work / self._rate
                return self.now, self._source()
            work -= room
            self.now = (self._bucket + 1) * _HOUR

    def base_rate(self, bucket: int) -> float:
        """Reports per second in one hour, campaigns aside."""
        day, hour = divmod(bucket, 24)
        weekday = (self.origin.weekday() + day) % 7
        share = self._profiles[weekday >= 5][hour]
        return self.per_day * DAY_FACTORS[weekday] * share / _HOUR

    def campaigns(self, day: int) -> tuple[Campaign, ...]:
        """The campaigns of one day, drawn from the seed and the day alone."""
        if day not in self._days:
            self._days[day] = self._draw_campaigns(day) if self.campaigns_on else ()
        return self._days[day]

    def stamp(self, seconds: float) -> str:
        """ISO-8601 local time with offset, to the second (``2025-11-03T21:14:05+08:00``)."""
        day, rest = divmod(int(seconds), 86400)
        date = self._dates.get(day)
        if date is None:
            date = self._dates[day] = (self.origin + timedelta(days=day)).date().isoformat()
        hours, rest = divmod(rest, 3600)
        return f"{date}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}+08:00"

    def _enter(self, bucket: int) -> None:
        if bucket == self._bucket:
            return
        start = bucket * _HOUR
        self._bucket = bucket
        self._active = tuple(c for c in self.campaigns(bucket // 24) if c.start <= start < c.end)
        self._base = self.base_rate(bucket)
        self._rate = self._base + sum(c.rate for c in self._active)

    def _source(self) -> Campaign | None:
        if not self._active:
            return None
        pick = self.rng.random() * self._rate - self._base
        if pick < 0:
            return None  # the base rate's share
        for campaign in self._active:
            if pick < campaign.rate:
                return campaign
            pick -= campaign.rate
        return None  # rounding at the top end

    def _draw_campaigns(self, day: int) -> tuple[Campaign, ...]:
        if (self.origin.weekday() + day) % 7 >= 5:
            return ()
        rng = random.Random(self.seed * 1_000_003 + day)
        themes = list(CAMPAIGN_THEMES)
        weights = [CAMPAIGN_THEMES[t][1] for t in themes]
        found = []
        for district in self.geography.districts:
            if rng.random() >= _CAMPAIGN_CHANCE:
                continue
            theme = rng.choices(themes, weights)[0]
            first = 14 if rng.random() < 0.65 else 9
            begin = (day * 24 + first) * _HOUR
            hours = rng.randint(2, 4) if first == 14 else rng.randint(2, 3)
            weight = district.weight / sum(d.weight for d in self.geography.districts)
            rate = rng.uniform(2.0, 4.0) * self.per_day * weight / 24 / _HOUR
            street = rng.choice(district.streets).name
            found.append(Campaign(district.name, street, theme, begin, begin + hours * _HOUR, rate))
        return tuple(found)
