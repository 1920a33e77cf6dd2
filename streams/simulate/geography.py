"""Ningbo's districts, streets, communities and grids, as the simulator draws them.

The hierarchy is district → street or town (街道/镇) → community or village (社区/村) → grid.
Districts and streets are real (``geography.yaml``); communities and grids under them are
drawn once with a fixed seed, so a grid id such as ``330212-SN-017`` means the same place in
every run whatever the run's seed. Coordinates are jittered around the district's core and
always inside the contract's Ningbo box.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["District", "Geography", "Grid", "Street", "load_geography"]

# The contract's box (lat 28.8..30.5, lon 120.8..122.5), less a margin for the report jitter.
_LAT, _LON = (28.85, 30.45), (120.85, 122.45)
_GEOGRAPHY_SEED = "ningbo-grids-v1"


@dataclass(frozen=True, slots=True)
class Grid:
    """The smallest unit of governance: a few hundred households and their grid worker."""

    grid_id: str
    district: str
    street: str
    community: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Street:
    """A street (街道) or town (镇) with its communities' grids."""

    name: str
    abbr: str
    grids: tuple[Grid, ...]


@dataclass(frozen=True, slots=True)
class District:
    """A county-level district: its admin code, share of reports and streets."""

    name: str
    code: str
    weight: float
    streets: tuple[Street, ...]

    @property
    def grids(self) -> tuple[Grid, ...]:
        """Every grid of the district, street by street."""
        return tuple(g for s in self.streets for g in s.grids)


@dataclass(frozen=True, slots=True)
class Geography:
    """All ten districts, plus the road names reports mention."""

    districts: tuple[District, ...]
    roads: tuple[str, ...]

    def district(self, name: str) -> District:
        """The district called ``name`` (e.g. ``鄞州区``)."""
        return next(d for d in self.districts if d.name == name)


@cache
def load_geography() -> Geography:
    """Read ``geography.yaml`` and draw the communities and grids (always the same)."""
    text = resources.files(__package__).joinpath("geography.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    rng = random.Random(_GEOGRAPHY_SEED)
    districts = tuple(_district(rng, d, data) for d in data["districts"])
    return Geography(districts, tuple(data["roads"]))


def _district(rng: random.Random, spec: dict[str, Any], data: dict[str, Any]) -> District:
    lat, lon = spec["center"]
    streets = tuple(
        _street(rng, spec, name, abbr, (lat, lon), data) for name, abbr in spec["streets"]
    )
    return District(spec["name"], spec["code"], float(spec["weight"]), streets)


def _street(
    rng: random.Random,
    district: dict[str, Any],
    name: str,
    abbr: str,
    center: tuple[float, float],
    data: dict[str, Any],
) -> Street:
    # (lat, lon) of the street's centre, then grids around it within about a kilometre
    lat = _clamp(center[0] + rng.uniform(-0.06, 0.06), _LAT)
    lon = _clamp(center[1] + rng.uniform(-0.07, 0.07), _LON)
    grids: list[Grid] = []
    for community in _communities(rng, name, data):
        for _ in range(rng.randint(3, 9)):
            grid_id = f"{district['code']}-{abbr}-{len(grids) + 1:03d}"
            glat = _clamp(lat + rng.uniform(-0.01, 0.01), _LAT)
            glon = _clamp(lon + rng.uniform(-0.01, 0.01), _LON)
            grids.append(Grid(grid_id, district["name"], name, community, glat, glon))
    return Street(name, abbr, tuple(grids))


def _communities(rng: random.Random, street: str, data: dict[str, Any]) -> list[str]:
    count = rng.randint(5, 14)
    stems = rng.sample(data["community_stems"], count)
    if not street.endswith("镇"):
        return [f"{s}社区" for s in stems]
    villages = rng.sample(data["village_stems"], count // 2)
    return [f"{s}社区" for s in stems[: count - len(villages)]] + [f"{v}村" for v in villages]


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return round(min(max(value, bounds[0]), bounds[1]), 6)
