"""The simulated feed: grid reports in arrival order, with retries and bad payloads mixed in.

    Rhythm.next() ─> (time, campaign) ─> place, reporter, Composer text + findings
                                     ├─> valid report  ─> label line, maybe retries later
                                     └─> bad payload   ─> dead-letter kind
    due retries are sent before the next arrival; Truth counts everything sent

One ``random.Random`` drives it all, so the same settings give the same bytes; campaigns are
drawn from the seed and the day alone, so they do not move when ``count`` changes.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import accumulate

import orjson

from streams.simulate.faults import bad_payload, retry_count, retry_delay
from streams.simulate.geography import District, Geography, Grid, load_geography
from streams.simulate.rhythm import CST, Campaign, Rhythm
from streams.simulate.texts import Composer, Findings, report_severity
from streams.simulate.truth import Truth
from streams.validation import report_id_of

__all__ = ["DEFAULT_START", "Message", "SimConfig", "Simulator"]

DEFAULT_START = datetime(2025, 11, 3, tzinfo=CST)  # a Monday
_DAY_HOURS = range(7, 19)
# reporter role -> (weight by day, weight in the evening and night); grid workers patrol by day
_ROLES = {
    "grid_worker": (55, 15),
    "community_worker": (12, 5),
    "courier": (5, 12),
    "ride_hailing_driver": (3, 8),
    "truck_driver": (2, 5),
    "resident": (12, 35),
    "volunteer": (5, 3),
    "hotline_operator": (6, 17),
}
# reporter role -> the channels it reports through (picked uniformly: repeats are weights)
_CHANNELS = {
    "grid_worker": ("grid_app",) * 9 + ("wecom_group",),
    "community_worker": ("grid_app",) * 3 + ("wecom_group",) * 2,
    "courier": ("courier_app",),
    "ride_hailing_driver": ("courier_app",),
    "truck_driver": ("courier_app",),
    "resident": ("resident_app",) * 7 + ("wecom_group",) * 3,
    "volunteer": ("grid_app", "wecom_group"),
    "hotline_operator": ("hotline_12345",),
}
# the place a report is about, by its first finding (or theme), picked uniformly
_PLACES = {
    "EBIKE_CHARGING": ("old_residential", "high_rise", "rental_housing", "old_residential"),
    "BLOCKED_EXIT": ("high_rise", "nine_small_venue", "old_residential", "street"),
    "ILLEGAL_WIRING": ("rental_housing", "industrial", "nine_small_venue", "old_residential"),
    "FIRE_EQUIPMENT_FAILURE": ("nine_small_venue", "high_rise", "industrial", "old_residential"),
    "TELECOM_FRAUD": ("old_residential", "high_rise", "other", "rental_housing"),
    "venue_check": ("nine_small_venue",),
    "rental_check": ("rental_housing",),
    "": ("old_residential", "old_residential", "high_rise", "rental_housing", "street",
         "nine_small_venue", "other", "industrial"),
}  # fmt: skip


@dataclass(frozen=True)
class SimConfig:
    """What to simulate; every field is part of the reproducible output."""

    count: int
    seed: int = 2025
    start: datetime = DEFAULT_START
    per_day: float = 9800.0
    bad_share: float = 0.005
    retry_share: float = 0.02
    campaigns: bool = True
    prefix: str = field(default="")

    @property
    def id_prefix(self) -> str:
        """The report_id prefix: given, or ``sim<seed>``."""
        return self.prefix or f"sim{self.seed}"


@dataclass(frozen=True, slots=True)
class Message:
    """One message as an app sends it, and the label line of a first-sent valid report."""

    value: bytes
    key: bytes | None
    label: bytes | None = None


class Simulator:
    """Generates ``config.count`` messages; ``truth`` is complete once they are consumed."""

    def __init__(self, config: SimConfig, geography: Geography | None = None) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.geography = geography or load_geography()
        self.rhythm = Rhythm(
            self.rng,
            self.geography,
            config.start,
            per_day=config.per_day,
            seed=config.seed,
            campaigns=config.campaigns,
        )
        self.composer = Composer(self.rng)
        self.truth = Truth(_settings(config))
        self._districts = self.geography.districts
        self._district_cum = list(accumulate(d.weight for d in self._districts))
        self._roles = tuple(_ROLES)
        self._role_cum = tuple(list(accumulate(w[i] for w in _ROLES.values())) for i in (0, 1))
        self._contacts = tuple(
            f"1{self.rng.choice('3589')}{self.rng.randint(0, 9)}0000{self.rng.randint(0, 9999):04d}"
            for _ in range(2000)
        )
        self._retries: list[tuple[float, int, bytes, bytes]] = []  # (due, seq, value, key)
        self._seq = 0
        self._streets = {
            (d.name, s.name): s.grids for d in self.geography.districts for s in d.streets
        }

    def messages(self) -> Iterator[Message]:
        """Every message in sending order: arrivals, with retries sent when they fall due."""
        config, r, sent, index, prefix = self.config, self.rng.random, 0, 0, self.config.id_prefix
        while sent < config.count:
            now, campaign = self.rhythm.next()
            while self._retries and self._retries[0][0] <= now and sent < config.count:
                _, _, value, key = heapq.heappop(self._retries)
                self.truth.duplicate()
                sent += 1
                yield Message(value, key)
            if sent >= config.count:
                break
            index += 1
            rid = f"{prefix}-{index:08d}"
            if r() < config.bad_share:
                yield self._bad(rid, now, campaign)
            else:
                yield self._valid(rid, now, campaign)
            sent += 1

    def truth_dict(self) -> dict[str, object]:
        """The ``--truth`` summary (complete once ``messages`` is exhausted)."""
        return self.truth.to_dict(self.rhythm.stamp)

    def report(
        self, rid: str, now: float, campaign: Campaign | None
    ) -> tuple[dict[str, object], Findings]:
        """One valid report at simulated time ``now``, and its findings."""
        r, pick = self.rng.random, self.composer.pick
        hour = int(now // 3600) % 24
        grid, mix = self._place(campaign)
        role = self._role(hour, campaign)
        channels, roads = _CHANNELS[role], self.geography.roads
        channel = channels[int(r() * len(channels))]
        self.composer.community = grid.community
        self.composer.road = roads[int(r() * len(roads))]
        text, findings = self.composer.compose(mix, hour, channel)
        report: dict[str, object] = {
            "schema_version": 1,
            "report_id": rid,
            "reported_at": self.rhythm.stamp(now),
            "channel": channel,
            "reporter_role": role,
            "district": grid.district,
            "grid_id": grid.grid_id,
            "text": text,
        }
        if r() < (0.9 if channel == "grid_app" else 0.35):
            report["street"], report["community"] = grid.street, grid.community
        if r() < 0.3:
            report["address"] = self._address(grid)
        if r() < 0.8:
            places = _PLACES[_place_key(findings, campaign)]
            report["place_type"] = places[int(r() * len(places))]
        if channel != "hotline_12345" and r() < 0.4:
            report["lat"] = round(grid.lat + (r() - 0.5) * 0.004, 6)
            report["lon"] = round(grid.lon + (r() - 0.5) * 0.004, 6)
        if r() < 0.3:
            report["category_hint"] = self.composer.hint(findings)
        if r() < 0.6:
            report["reporter_id"] = f"{role[:2]}-{grid.grid_id[:6]}-{int(r() * 3000):04d}"
        if role in ("resident", "hotline_operator") and r() < 0.4:
            report["contact_phone"] = pick(self._contacts)
        return report, findings

    def _valid(self, rid: str, now: float, campaign: Campaign | None) -> Message:
        report, findings = self.report(rid, now, campaign)
        value, key = orjson.dumps(report), rid.encode()
        day, rest = divmod(int(now), 86400)
        weekday = (self.rhythm.origin.weekday() + day) % 7
        stamp = str(report["reported_at"])
        self.truth.report(str(report["district"]), findings, stamp, rest // 3600, weekday, campaign)
        if self.rng.random() < self.config.retry_share:
            for _ in range(retry_count(self.rng)):
                due = now + retry_delay(self.rng)
                self._seq += 1
                heapq.heappush(self._retries, (due, self._seq, value, key))
        label = {"report_id": rid, "codes": sorted(findings), "severity": report_severity(findings)}
        return Message(value, key, orjson.dumps(label))

    def _bad(self, rid: str, now: float, campaign: Campaign | None) -> Message:
        report, _ = self.report(rid, now, campaign)
        kind, raw = bad_payload(self.rng, report)
        self.truth.dead_letter(kind)
        rid_of = report_id_of(raw)
        return Message(raw, rid_of.encode() if rid_of else None)

    def _place(self, campaign: Campaign | None) -> tuple[Grid, str]:
        r = self.rng.random
        if campaign is not None:
            grids = self._streets[campaign.district, campaign.street]
            return grids[int(r() * len(grids))], campaign.theme
        cum = self._district_cum
        district: District = self._districts[bisect(cum, r() * cum[-1])]
        grids = district.streets[int(r() * len(district.streets))].grids
        return grids[int(r() * len(grids))], "default"

    def _role(self, hour: int, campaign: Campaign | None) -> str:
        if campaign is not None:
            return "grid_worker" if self.rng.random() < 0.8 else "community_worker"
        cum = self._role_cum[hour not in _DAY_HOURS]
        return self._roles[bisect(cum, self.rng.random() * cum[-1])]

    def _address(self, grid: Grid) -> str:
        r = self.rng.random
        if r() < 0.5:
            return f"{self.composer.road}{int(r() * 300) + 1}号"
        return f"{grid.community}{int(r() * 36) + 1}幢{int(r() * 6) + 1}单元"


def _place_key(findings: Findings, campaign: Campaign | None) -> str:
    if campaign is not None and campaign.theme in _PLACES:
        return campaign.theme
    return min(findings) if findings else ""


def _settings(config: SimConfig) -> dict[str, object]:
    settings = asdict(config)
    settings["start"] = config.start.isoformat()
    settings["prefix"] = config.id_prefix
    return settings
