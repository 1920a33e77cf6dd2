"""The triage agent: every accepted report gets one findings event on ``grid.findings``.

    grid.reports.accepted ──> triage (rules engine) ──> grid.findings   key grid_id

A second hop rather than a part of intake, so that a change of rules can replay accepted
reports without re-running intake, and intake's dedup stays the only dedup there is: the
accepted topic holds each report once, so triage only has to recognise, after a crash, what
it already emitted (the same read-back as intake's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from time import perf_counter

import faust

from schemas.findings import FindingsEventV1
from schemas.grid_report import AcceptedReportV1, IntakeSource, accepted_report_adapter
from streams.app import app, metrics, settings
from streams.reconcile import ReadBack, forward_headers
from streams.topics import accepted_topic, findings_topic, send_dead_letter
from streams.triage import Triage, load_engine
from streams.validation import internal_error

__all__ = ["findings_event", "read_back", "triage"]

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


read_back = ReadBack(
    (settings.topics.accepted,), settings.topics.findings, settings.kafka.partitions
)


read_back.attach(app, settings.kafka, settings.app_id)


@app.agent(accepted_topic)
async def triage(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    """Classify every accepted report once."""
    load_engine()  # compile the rules before the first report, not during it
    async for event in stream.events():
        started = perf_counter()
        if not read_back.done.is_set():
            await read_back.done.wait()
        await triage_one(event.message, event.value)
        metrics.processed("triage", started)
        yield None


async def triage_one(message: faust.types.Message, raw: bytes) -> None:
    """Classify one accepted report and emit its findings; a failure dead-letters it."""
    now = datetime.now(UTC)
    source = IntakeSource(
        topic=message.topic, partition=message.partition, offset=message.offset, received_at=now
    )
    try:
        report = accepted_report_adapter.validate_json(raw)
        if report.report_id not in read_back.forwarded:
            await emit(findings_event(report, classify(report), now), source)
    except Exception as exc:  # noqa: BLE001 - dead-letter, never skip
        await send_dead_letter(internal_error(exc, raw, message.key, source))


async def emit(event: FindingsEventV1, source: IntakeSource) -> None:
    """Send the findings event and count its findings by district, code and severity."""
    headers = forward_headers(source.topic, source.partition, source.offset, event.report_id)
    value = event.model_dump_json().encode()  # severity null stays: "no finding" is an answer
    await findings_topic.send(key=event.grid_id.encode(), value=value, headers=headers)
    metrics.reports_triaged.labels(event.severity or "none").inc()
    for finding in event.findings:
        metrics.findings.labels(event.district, finding.code, finding.severity).inc()
