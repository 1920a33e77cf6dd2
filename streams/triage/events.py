"""What triage makes of one accepted report: pure, without the Faust app.

Intake's step (``streams/triage/agent.py``) and the benchmark's peers
(``streams/bench_peers/work.py``) build findings events with these, so both do the same work.
"""

from __future__ import annotations

from datetime import datetime

from schemas.findings import FindingsEventV1
from schemas.grid_report import AcceptedReportV1
from streams.triage import Triage, load_engine

__all__ = ["classify", "findings_event"]

_PLACE_FIELDS = ("street", "community", "address", "place_type", "lat", "lon")
_RESPONDER_FIELDS = ("text", "contact_phone", "sealed_pii", "indicators")


def findings_event(report: AcceptedReportV1, verdict: Triage, now: datetime) -> FindingsEventV1:
    """The findings event for one report: the verdict plus the report's place and time."""
    place = {name: getattr(report, name) for name in _PLACE_FIELDS}
    found = verdict.to_dict()
    for_responders = {name: getattr(report, name) for name in _RESPONDER_FIELDS}
    return FindingsEventV1.model_validate(
        {
            "report_id": report.report_id,
            "reported_at": report.reported_at,
            "channel": report.channel,
            "reporter_role": report.reporter_role,
            "district": report.district,
            "grid_id": report.grid_id,
            **place,
            **found,
            **(for_responders if found["findings"] else {}),
            "classified_at": now,
        }
    )


def classify(report: AcceptedReportV1) -> Triage:
    """Run the shipped rules on one report (text decides; hint and place are context)."""
    return load_engine().classify(
        report.text,
        category_hint=report.category_hint,
        place_type=report.place_type,
        reported_at=report.reported_at,
    )
