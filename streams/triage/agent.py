"""Triage, as intake accepts a report: its findings event, and what the policy escalates.

    intake ──> grid.reports.accepted   the report, once
           ├─> grid.findings           its findings (none is an answer too), key grid_id
           └─> alerts.commands         what the policy escalates (streams/escalation/agents.py)

Part of intake's step, not a hop of its own: the hop cost every report a consume, a second
parse and a read-back, and an escalation one more produce-fetch round trip (measured with
`gridwatch bench pipeline`; see CHANGELOG.md). The accepted topic still holds each report
once, for replaying reports through changed rules.

After a crash, a dead owner may have sent a report's accepted record, its findings event,
both or neither (they go to different partitions). Intake's read-back finds the accepted
records; ``findings_read_back`` finds the findings events: neither is sent twice, and
escalation candidates are re-sent, since the escalator recognises a report it has.
"""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.findings import FindingsEventV1
from schemas.grid_report import AcceptedReportV1, IntakeSource
from streams.app import app, metrics, outputs, settings
from streams.escalation.agents import route_findings
from streams.reconcile import ReadBack, forward_headers
from streams.triage.events import classify, findings_event

__all__ = ["classify", "findings_event", "findings_read_back", "triage"]

findings_read_back = ReadBack(
    (settings.topics.reports, settings.topics.rekey),
    settings.topics.findings,
    settings.kafka.partitions,
)
# Reads back with intake's stage after each rebalance: one scan, one replay window.
findings_read_back.attach(app, settings.kafka, settings.app_id)


async def triage(
    report: AcceptedReportV1, source: IntakeSource, event: FindingsEventV1 | None = None
) -> FindingsEventV1:
    """Classify one accepted report, emit its findings once, route what escalates; the event.

    ``event``: the report's findings when it was classified ahead (``streams/lookahead.py``).
    """
    if event is None:
        event = findings_event(report, classify(report), datetime.now(UTC))
    where = (source.topic, source.partition, source.offset)
    if report.report_id not in findings_read_back.forwarded:
        await emit(event, source)
        if findings_read_back.in_window(*where):
            findings_read_back.forwarded.add(report.report_id)  # a retry in the window: sent
    await route_findings(event)
    return event


async def emit(event: FindingsEventV1, source: IntakeSource) -> None:
    """Send the findings event and count its findings by district, code and severity."""
    headers = forward_headers(source.topic, source.partition, source.offset, event.report_id)
    value = event.model_dump_json().encode()  # severity null stays: "no finding" is an answer
    await outputs.add(settings.topics.findings, event.grid_id.encode(), value, headers)
    metrics.labelled(metrics.reports_triaged, event.severity or "none").inc()
    for finding in event.findings:
        metrics.labelled(metrics.findings, event.district, finding.code, finding.severity).inc()
