"""Fraud campaigns: one phone number, account or link seen in reports from several grids.

One victim's report is a case for the police; the same scammer's number in three grids in a
day is a campaign, and the command center warns whole districts. ``observe`` is pure and runs
over the state of ONE indicator digest, which the agent keeps in a Faust table: so the state
is plain JSON (dicts, lists, str, float), and observing a replayed sighting changes nothing.

A campaign opens when the sightings within ``window_s`` of the newest come from ``min_grids``
distinct grids. It stays open while sightings keep coming less than ``window_s`` apart; every
sighting meanwhile "grows" it, and all its sightings are kept (up to ``MAX_SIGHTINGS``) so a
``grew`` decision lists the campaign, not only its last day. After a quiet ``window_s`` it is
closed, and the next campaign for the same digest gets a new id.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Literal, TypedDict

__all__ = [
    "DEFAULT_MIN_GRIDS",
    "DEFAULT_WINDOW_S",
    "MAX_SIGHTINGS",
    "CampaignDecision",
    "CampaignState",
    "OpenCampaign",
    "Sighting",
    "StoredSighting",
    "expired",
    "observe",
]

DEFAULT_WINDOW_S = 86_400.0
DEFAULT_MIN_GRIDS = 3
# Faust writes the whole value to the table's changelog on every change and replays it on
# recovery, so a number in thousands of reports a day would make every write and every restart
# grow without limit (and pass Kafka's 1 MB message limit near 10,000 sightings). Deciding
# needs a handful of grids, and no one reads more than 200 report ids: the oldest go first.
MAX_SIGHTINGS = 200


@dataclass(frozen=True, slots=True)
class Sighting:
    """One report that mentions the indicator behind ``digest``; ``at`` is epoch seconds."""

    digest: str
    kind: str
    masked: str
    report_id: str
    grid_id: str
    district: str
    at: float


@dataclass(frozen=True, slots=True)
class CampaignDecision:
    """A campaign opened, or grew by one report; ``reports`` are in time order."""

    kind: Literal["opened", "grew"]
    campaign_id: str
    digest: str
    indicator_kind: str
    masked: str
    reports: tuple[str, ...]
    grids: tuple[str, ...]
    districts: tuple[str, ...]
    first_at: float
    last_at: float


class StoredSighting(TypedDict):
    """A sighting as kept in the state: what the digest's state does not already say."""

    at: float
    report_id: str
    grid_id: str
    district: str


class OpenCampaign(TypedDict):
    """The open campaign; its last sighting is the state's newest, so only the start is kept."""

    campaign_id: str
    first_at: float


class CampaignState(TypedDict):
    """The state of one digest, as stored in the Faust table (plain JSON)."""

    sightings: list[StoredSighting]  # oldest first, at most MAX_SIGHTINGS
    campaign: OpenCampaign | None


def observe(
    state: CampaignState | None,
    sighting: Sighting,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    min_grids: int = DEFAULT_MIN_GRIDS,
) -> tuple[CampaignState, CampaignDecision | None]:
    """Add one sighting to a digest's state; say whether a campaign opened or grew.

    The state passed in is not changed. A sighting whose report is already in the state (a
    replay after a crash) or older than the window of the newest returns it as it was, and
    None. Campaign ids are deterministic, so a replay that reaches this point again gives the
    same decision.
    """
    if window_s <= 0 or min_grids < 1:
        msg = f"window_s must be > 0 and min_grids >= 1, not {window_s} and {min_grids}"
        raise ValueError(msg)
    current: CampaignState = state or {"sightings": [], "campaign": None}
    if not _is_news(current, sighting, window_s):
        return current, None
    campaign = _still_open(current, sighting.at, window_s)
    stored = _stored(sighting)
    kept = _keep(current["sightings"], stored, window_s, keep_old=campaign is not None)
    if stored not in kept:  # older than all MAX_SIGHTINGS kept: dropped at once
        return current, None
    if campaign is not None:
        campaign = {**campaign, "first_at": min(campaign["first_at"], sighting.at)}
        return _decided("grew", kept, campaign, sighting)
    if len({s["grid_id"] for s in kept}) < min_grids:
        return {"sightings": kept, "campaign": None}, None
    first_at = kept[0]["at"]
    opened: OpenCampaign = {
        "campaign_id": f"cmp-{sighting.digest[:12]}-{int(first_at)}",
        "first_at": first_at,
    }
    return _decided("opened", kept, opened, sighting)


def expired(state: CampaignState, now: float, *, window_s: float = DEFAULT_WINDOW_S) -> bool:
    """True when the state can be deleted: no sighting within the window, so no open campaign.

    An open campaign's last sighting is the newest one, so one test covers both.
    """
    sightings = state["sightings"]
    return not sightings or now - sightings[-1]["at"] > window_s


def _is_news(state: CampaignState, sighting: Sighting, window_s: float) -> bool:
    sightings = state["sightings"]
    if any(s["report_id"] == sighting.report_id for s in sightings):
        return False
    return not sightings or sighting.at >= sightings[-1]["at"] - window_s


def _still_open(state: CampaignState, at: float, window_s: float) -> OpenCampaign | None:
    """The open campaign, unless this sighting comes more than the window after its last."""
    campaign, sightings = state["campaign"], state["sightings"]
    if campaign is None or at > sightings[-1]["at"] + window_s:
        return None
    return campaign


def _stored(sighting: Sighting) -> StoredSighting:
    return {
        "at": sighting.at,
        "report_id": sighting.report_id,
        "grid_id": sighting.grid_id,
        "district": sighting.district,
    }


def _keep(
    sightings: list[StoredSighting], new: StoredSighting, window_s: float, *, keep_old: bool
) -> list[StoredSighting]:
    """The sightings to keep with ``new`` inserted in time order (late ones arrive too)."""
    kept = list(sightings)
    bisect.insort_right(kept, new, key=lambda s: s["at"])
    if not keep_old:  # an open campaign keeps all its sightings, not only the window's
        kept = [s for s in kept if s["at"] >= kept[-1]["at"] - window_s]
    return kept[-MAX_SIGHTINGS:]


def _decided(
    kind: Literal["opened", "grew"],
    kept: list[StoredSighting],
    campaign: OpenCampaign,
    sighting: Sighting,
) -> tuple[CampaignState, CampaignDecision]:
    decision = CampaignDecision(
        kind=kind,
        campaign_id=campaign["campaign_id"],
        digest=sighting.digest,
        indicator_kind=sighting.kind,
        masked=sighting.masked,
        reports=tuple(s["report_id"] for s in kept),
        grids=tuple(dict.fromkeys(s["grid_id"] for s in kept)),
        districts=tuple(dict.fromkeys(s["district"] for s in kept)),
        first_at=campaign["first_at"],
        last_at=kept[-1]["at"],
    )
    return {"sightings": kept, "campaign": campaign}, decision
