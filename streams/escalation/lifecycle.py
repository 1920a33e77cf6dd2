"""One escalation's life, as pure functions of its state, a command and the time.

    candidate ──> opened, notified(step 0)            or  grouped (joins an open one)
    tick       ──> escalated + notified (next step)    or  expired (after the last round)
    ack        ──> acknowledged (climbing stops)
    resolve    ──> resolved (closed; no longer groups)

Nothing here reads a clock or a table: the agent passes ``now`` (the command's Kafka
timestamp) and the stored state, so a replayed command makes the same decisions and the same
event ids. Each event remembers the offset of the command that caused it (``Entry.cause``):
when a replay finds a command already applied, the agent re-sends exactly its events instead
of applying it twice (the table write may have survived a crash that the sends did not).
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.escalation import (
    SUBJECT_FIELDS,
    CampaignInfo,
    EscalationActionV1,
    EscalationEventType,
    EscalationEventV1,
    EscalationSubject,
    ReportRef,
)
from streams.escalation.policy import Grouping, Rule

__all__ = [
    "DISTRICT_CODES",
    "MAX_REPORTS_LISTED",
    "Candidate",
    "Entry",
    "Escalation",
    "IndexEntry",
    "Status",
    "act",
    "advance",
    "district_of",
    "escalation_id",
    "find_group",
    "join",
    "lookup_keys",
    "open_escalation",
    "place_keys",
]

# Administrative division codes: ids and URLs say which district an escalation is in without
# carrying Chinese text, and acks are routed to the partition of that district.
DISTRICT_CODES: dict[str, str] = {
    "海曙区": "330203", "江北区": "330205", "北仑区": "330206", "镇海区": "330211",
    "鄞州区": "330212", "奉化区": "330213", "象山县": "330225", "宁海县": "330226",
    "余姚市": "330281", "慈溪市": "330282",
}  # fmt: skip
_DISTRICT_BY_CODE = {code: name for name, code in DISTRICT_CODES.items()}
# A patrol campaign can file hundreds of reports on one block: the escalation counts them all
# but lists the first ones only, so its state (rewritten on every change) stays small.
MAX_REPORTS_LISTED = 50
_EARTH_RADIUS_M = 6_371_000.0
# Map cells for grouping: 0.0005 degrees of latitude is 55 m, 0.0006 of longitude 52-58 m in
# Ningbo (28.8-30.5 N), both above the policy's largest sensible radius of 50 m.
_CELL_LAT_DEG = 0.0005
_CELL_LON_DEG = 0.0006

Status = Literal["open", "acknowledged", "resolved", "expired"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Candidate(EscalationSubject):
    """A finding that the policy escalates (or a fraud campaign), on its way to the escalator."""

    report: ReportRef
    campaign: CampaignInfo | None = None

    @property
    def key(self) -> str:
        """What makes the escalation id: its first report, or its campaign."""
        return self.campaign.campaign_id if self.campaign else self.report.report_id


class Entry(_Frozen):
    """An event of the timeline and the offset of the command that caused it."""

    cause: int
    event: EscalationEventV1


class Escalation(EscalationSubject):
    """The stored state of one escalation (a plain dict in the table: ``model_dump``)."""

    escalation_id: str
    rule: str
    campaign: CampaignInfo | None = None
    status: Status
    opened_at: float
    last_report_at: float
    step: int = 0
    round: int = 0
    deadline: float | None = None
    report_count: int = Field(ge=1)
    reports: tuple[ReportRef, ...]
    applied: int
    timeline: tuple[Entry, ...] = ()

    def events_caused_by(self, cause: int) -> list[EscalationEventV1]:
        """The events one command produced (to re-send them after a crash)."""
        return [entry.event for entry in self.timeline if entry.cause == cause]


class IndexEntry(_Frozen):
    """What the district index keeps of an open escalation: enough to group and to time it."""

    rule: str
    grid_id: str
    address: str | None
    lat: float | None
    lon: float | None
    campaign_id: str | None
    last_report_at: float
    deadline: float | None
    status: Status

    @classmethod
    def of(cls, esc: Escalation) -> IndexEntry:
        """The index entry of an escalation."""
        return cls(
            rule=esc.rule,
            grid_id=esc.grid_id,
            address=esc.address,
            lat=esc.lat,
            lon=esc.lon,
            campaign_id=esc.campaign.campaign_id if esc.campaign else None,
            last_report_at=esc.last_report_at,
            deadline=esc.deadline,
            status=esc.status,
        )

    def still_groups(self, now: float, grouping: Grouping) -> bool:
        """Whether a new report may still join: not closed, and the window not passed."""
        live = self.status in ("open", "acknowledged")
        return live and now - self.last_report_at <= grouping.window


def escalation_id(district: str, code: str, key: str) -> str:
    """The id of the escalation opened by ``key`` (first report id or campaign id)."""
    digest = hashlib.sha256(f"{code}|{key}".encode()).hexdigest()[:16]
    return f"esc-{DISTRICT_CODES[district]}-{digest}"


def district_of(escalation_id: str) -> str | None:
    """The district an escalation id belongs to, or None if the id is not one of ours."""
    parts = escalation_id.split("-")
    return _DISTRICT_BY_CODE.get(parts[1]) if len(parts) == 3 and parts[0] == "esc" else None  # noqa: PLR2004


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); plenty for 50 m within one city."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _same_place(entry: IndexEntry, cand: Candidate, grouping: Grouping) -> bool:
    if cand.campaign is not None or entry.campaign_id is not None:
        return cand.campaign is not None and entry.campaign_id == cand.campaign.campaign_id
    if entry.address is not None and (entry.grid_id, entry.address) == (cand.grid_id, cand.address):
        return True
    if None in (entry.lat, entry.lon, cand.lat, cand.lon):
        return False  # no address match and no coordinates: different places, to be safe
    return _metres(entry.lat, entry.lon, cand.lat, cand.lon) <= grouping.radius_m  # type: ignore[arg-type]


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_LAT_DEG), math.floor(lon / _CELL_LON_DEG)


def place_keys(
    district: str,
    rule: str,
    grid_id: str,
    address: str | None,
    lat: float | None,
    lon: float | None,
    campaign_id: str | None,
) -> list[str]:
    """The keys an escalation is filed under for grouping: its address and its map cell."""
    base = f"{district}|{rule}"
    if campaign_id is not None:
        return [f"{base}|cmp|{campaign_id}"]
    keys = [] if address is None else [f"{base}|addr|{grid_id}|{address}"]
    if lat is not None and lon is not None:
        row, col = _cell(lat, lon)
        keys.append(f"{base}|geo|{row}|{col}")
    return keys


def lookup_keys(cand: Candidate, rule: Rule) -> list[str]:
    """Every key under which an escalation ``cand`` may join could be filed.

    A cell is at least ``radius_m`` wide, so anything within the radius is filed in the
    candidate's cell or one of its eight neighbours.
    """
    campaign_id = cand.campaign.campaign_id if cand.campaign else None
    keys = place_keys(cand.district, rule.name, cand.grid_id, cand.address, None, None, campaign_id)
    if campaign_id is None and cand.lat is not None and cand.lon is not None:
        row, col = _cell(cand.lat, cand.lon)
        base = f"{cand.district}|{rule.name}|geo"
        keys += [f"{base}|{row + dr}|{col + dc}" for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
    return keys


def find_group(
    index: dict[str, IndexEntry], cand: Candidate, rule: Rule, now: float, grouping: Grouping
) -> str | None:
    """The open escalation of the same rule at the same place that ``cand`` joins, if any."""
    for esc_id, entry in index.items():
        if entry.rule == rule.name and entry.still_groups(now, grouping):
            if _same_place(entry, cand, grouping):
                return esc_id
    return None


def _at(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def _event(
    esc: Escalation, kind: EscalationEventType, now: float, **fields: object
) -> EscalationEventV1:
    seq = len(esc.timeline)
    deadline = esc.deadline
    return EscalationEventV1.model_validate(
        {
            "event_id": f"{esc.escalation_id}:{seq}",
            "escalation_id": esc.escalation_id,
            "seq": seq,
            "type": kind,
            "at": _at(now),
            "rule": esc.rule,
            **esc.model_dump(include=set(SUBJECT_FIELDS)),
            "round": esc.round,
            "ack_deadline": None if deadline is None else _at(deadline),
            "report_count": esc.report_count,
            "reports": esc.reports,
            "campaign": esc.campaign,
            **fields,
        }
    )


def _record(
    esc: Escalation, cause: int, kind: EscalationEventType, now: float, **fields: object
) -> Escalation:
    entry = Entry(cause=cause, event=_event(esc, kind, now, **fields))
    return esc.model_copy(update={"timeline": (*esc.timeline, entry), "applied": cause})


def _notify_step(esc: Escalation, rule: Rule, now: float, cause: int) -> Escalation:
    """Start the current step: set its deadline and say who is notified."""
    step = rule.steps[esc.step]
    esc = esc.model_copy(update={"deadline": now + step.ack_timeout})
    return _record(esc, cause, "notified", now, level=step.level, targets=step.targets)


def open_escalation(cand: Candidate, rule: Rule, now: float, cause: int) -> Escalation:
    """A new escalation for ``cand``: opened, and its first step notified."""
    esc = Escalation(
        escalation_id=escalation_id(cand.district, cand.code, cand.key),
        rule=rule.name,
        **cand.model_dump(include=set(SUBJECT_FIELDS)),
        campaign=cand.campaign,
        status="open",
        opened_at=now,
        last_report_at=now,
        report_count=1,
        reports=(cand.report,),
        applied=cause,
    )
    esc = _record(esc, cause, "opened", now)
    return _notify_step(esc, rule, now, cause)


def join(esc: Escalation, cand: Candidate, now: float, cause: int) -> Escalation:
    """``cand`` joins ``esc`` (a report of the same place, or a campaign that grew)."""
    if any(r.report_id == cand.report.report_id for r in esc.reports):
        return esc  # already listed (a replayed or re-sent candidate): nothing new
    listed = esc.reports if len(esc.reports) >= MAX_REPORTS_LISTED else (*esc.reports, cand.report)
    esc = esc.model_copy(
        update={
            "report_count": esc.report_count + 1,
            "reports": listed,
            "last_report_at": max(esc.last_report_at, now),
            "campaign": cand.campaign or esc.campaign,
        }
    )
    return _record(esc, cause, "grouped", now, reports=(cand.report,))


def act(
    esc: Escalation, action: EscalationActionV1, now: float, cause: int
) -> tuple[Escalation, str | None]:
    """Apply a responder's ack or resolve; the second value says why it changed nothing."""
    if esc.status == "resolved":
        return esc, "already resolved"
    if action.action == "ack":
        if esc.status == "acknowledged":
            return esc, "already acknowledged"
        esc = esc.model_copy(update={"status": "acknowledged", "deadline": None})
        return _record(esc, cause, "acknowledged", now, by=action.by, note=action.note), None
    esc = esc.model_copy(update={"status": "resolved", "deadline": None})
    fields = {"by": action.by, "note": action.note, "outcome": action.outcome or "handled"}
    return _record(esc, cause, "resolved", now, **fields), None


def advance(esc: Escalation, rule: Rule, now: float, cause: int) -> Escalation:
    """Climb past every step whose ack timeout has passed by ``now``; expire after the last."""
    while esc.status == "open" and esc.deadline is not None and esc.deadline <= now:
        if esc.step + 1 < len(rule.steps):
            step, round_ = esc.step + 1, esc.round
        elif esc.round < rule.repeat:
            step, round_ = 0, esc.round + 1
        else:
            esc = esc.model_copy(update={"status": "expired", "deadline": None})
            return _record(esc, cause, "expired", now)
        new_level = rule.steps[step].level != rule.steps[esc.step].level or round_ != esc.round
        esc = esc.model_copy(update={"step": step, "round": round_})
        if new_level:
            esc = _record(esc, cause, "escalated", now, level=rule.steps[step].level)
        esc = _notify_step(esc, rule, now, cause)
    return esc
