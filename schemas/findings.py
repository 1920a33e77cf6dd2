"""The findings event: what triage says about one accepted report, on ``grid.findings``.

One event per report, also when there is no finding (``findings`` empty, ``severity`` null),
so the command center can count reports and findings from one topic. It carries the report's
place and time so consumers need not join back to the report, and, when something was found,
what escalation needs to tell responders (the masked text, the sealed raw values).
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, TypeAdapter

from schemas.grid_report import Channel, District, IndicatorRef, PlaceType, ReporterRole

__all__ = [
    "FINDING_CODES",
    "SEVERITIES",
    "EvidenceV1",
    "FindingCode",
    "FindingV1",
    "FindingsEventV1",
    "Severity",
    "findings_event_adapter",
]

FindingCode = Literal[
    "EBIKE_CHARGING", "BLOCKED_EXIT", "ILLEGAL_WIRING", "FIRE_EQUIPMENT_FAILURE", "TELECOM_FRAUD"
]
Severity = Literal["low", "medium", "high", "critical"]
FINDING_CODES: tuple[str, ...] = FindingCode.__args__  # type: ignore[attr-defined]
SEVERITIES: tuple[str, ...] = Severity.__args__  # type: ignore[attr-defined]


class EvidenceV1(BaseModel):
    """A phrase of the (masked) report text that triggered a finding, with its position."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phrase: str
    start: int
    end: int


class FindingV1(BaseModel):
    """One hazard or fraud found in a report."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: FindingCode
    severity: Severity
    evidence: tuple[EvidenceV1, ...]
    fraud_type: str | None = None
    in_progress: bool | None = None


class FindingsEventV1(BaseModel):
    """Triage's verdict on one report, with the report's place and time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    report_id: str
    reported_at: AwareDatetime
    channel: Channel
    reporter_role: ReporterRole
    district: District
    grid_id: str
    street: str | None = None
    community: str | None = None
    address: str | None = None
    place_type: PlaceType | None = None
    lat: float | None = None
    lon: float | None = None
    findings: tuple[FindingV1, ...]
    severity: Severity | None
    classified_at: AwareDatetime
    # For responders, only when there are findings: the masked text and contact, the sealed
    # raw values, and the fraud indicators.
    text: str | None = None
    contact_phone: str | None = None
    sealed_pii: str | None = None
    indicators: tuple[IndicatorRef, ...] = ()


findings_event_adapter: TypeAdapter[FindingsEventV1] = TypeAdapter(FindingsEventV1)
