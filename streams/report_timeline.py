"""One report's timeline: received, accepted, classified, and every escalation it joined.

    GET /reports/{report_id}    200 the timeline · 401 bad token · 404 never accepted

The log is the record. Intake's seen table names the message a report was accepted from; that
message's broker time bounds where its accepted record and findings event can be (both keyed
by its grid, written after it), so a short scan from there finds them by their report-id
header. Which escalations it joined, the escalator's table says (``rep:{code}:{report}``).
Each worker answers for the partitions it holds; the one asked merges every worker's answer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from faust import web
from faust.types import TP
from kafka import KafkaConsumer, TopicPartition

from schemas.findings import FINDING_CODES
from streams.app import app, settings
from streams.command_center import ask_peers
from streams.escalation.agents import escalator, escalator_table
from streams.escalation.web import authorized
from streams.intake import seen_reports, seen_where
from streams.partitioning import partition_of
from streams.reconcile import REPORT_ID_HEADER
from streams.settings import KafkaSettings, kafka_client_options

__all__ = [
    "LogRecord",
    "ReportTimelineView",
    "find_by_report_id",
    "read_record",
    "report_partition",
    "timeline",
]

# Enough for minutes of lag at city rates (a few thousand records per partition per minute).
SCAN_LIMIT = 50_000
SCAN_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One record as the timeline needs it: where it is, its broker time, its JSON value."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    value: dict[str, Any]


def report_partition(report_id: str, partitions: int) -> int:
    """The partition intake keeps ``report_id`` on (and its seen-table entry with it)."""
    return partition_of(report_id.encode(), partitions)


def _consumer(kafka: KafkaSettings) -> KafkaConsumer:
    return KafkaConsumer(**kafka_client_options(kafka), enable_auto_commit=False, group_id=None)


def _record(raw: Any) -> LogRecord | None:
    try:
        value = json.loads(raw.value)
    except (TypeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    return LogRecord(raw.topic, raw.partition, raw.offset, raw.timestamp, value)


def read_record(kafka: KafkaSettings, topic: str, partition: int, offset: int) -> LogRecord | None:
    """The record at one offset (blocking: call it off the event loop)."""
    consumer = _consumer(kafka)
    tp = TopicPartition(topic, partition)
    try:
        consumer.assign([tp])
        consumer.seek(tp, offset)
        for raw in consumer.poll(timeout_ms=3000, max_records=1).get(tp, ()):
            if raw.offset == offset:
                return _record(raw)
        return None
    finally:
        consumer.close()


def find_by_report_id(
    kafka: KafkaSettings, topic: str, partition: int, since_ms: int, report_id: str
) -> LogRecord | None:
    """The first record of one partition at or after ``since_ms`` carrying ``report_id``."""
    wanted = report_id.encode()
    consumer = _consumer(kafka)
    tp = TopicPartition(topic, partition)
    try:
        consumer.assign([tp])
        start = consumer.offsets_for_times({tp: since_ms}).get(tp)
        if start is None:  # nothing written since: not there (yet)
            return None
        end = consumer.end_offsets([tp])[tp]
        consumer.seek(tp, start.offset)
        scanned, stop_at = 0, time.monotonic() + SCAN_SECONDS
        while scanned < SCAN_LIMIT and consumer.position(tp) < end and time.monotonic() < stop_at:
            for raw in consumer.poll(timeout_ms=500, max_records=2000).get(tp, ()):
                scanned += 1
                if dict(raw.headers or ()).get(REPORT_ID_HEADER) == wanted:
                    return _record(raw)
        return None
    finally:
        consumer.close()


def _iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def timeline(
    source: LogRecord | None,
    accepted: LogRecord | None,
    findings: LogRecord | None,
    escalations: Iterable[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The report's steps in time order; pure, so it is tested without a broker."""
    steps: list[dict[str, Any]] = []
    if source is not None:
        where = {"topic": source.topic, "partition": source.partition, "offset": source.offset}
        steps.append({"at": _iso_ms(source.timestamp_ms), "step": "received", **where})
    if accepted is not None:
        # when intake took it (it classifies next); the record's broker time comes after both
        handled = accepted.value.get("intake", {}).get("received_at")
        steps.append({"at": handled or _iso_ms(accepted.timestamp_ms), "step": "accepted"})
    if findings is not None:
        value = findings.value
        steps.append(
            {
                "at": value.get("classified_at") or _iso_ms(findings.timestamp_ms),
                "step": "classified",
                "severity": value.get("severity"),
                "findings": [
                    {"code": f.get("code"), "severity": f.get("severity")}
                    for f in value.get("findings", ())
                ],
            }
        )
    for esc in escalations:
        for event in esc.get("timeline", ()):
            step = {
                "at": event["at"],
                "step": f"escalation {event['type']}",
                "escalation_id": esc["escalation_id"],
            }
            step |= {k: event[k] for k in ("level", "targets", "by", "outcome") if event.get(k)}
            steps.append(step)
    # ISO strings of one zone sort like times; normalise any offset to UTC first
    return sorted(steps, key=lambda s: datetime.fromisoformat(s["at"]).astimezone(UTC))


def _local_share(report_id: str) -> dict[str, Any]:
    """What this worker holds about ``report_id``: its seen entry, the escalations it joined."""
    share: dict[str, Any] = {"seen": None, "escalations": []}
    partition = report_partition(report_id, settings.kafka.partitions)
    if TP(settings.topics.reports, partition) in app.consumer.assignment():
        share["seen"] = seen_reports.get(report_id)
    for code in FINDING_CODES:
        esc_id = escalator_table.get(f"rep:{code}:{report_id}")
        esc = escalator.get(esc_id) if esc_id else None
        if esc is not None:
            share["escalations"].append(
                {
                    "escalation_id": esc.escalation_id,
                    "code": esc.code,
                    "status": esc.status,
                    "report_count": esc.report_count,
                    "timeline": [
                        entry.event.model_dump(mode="json", exclude={"reports", "campaign"})
                        for entry in esc.timeline
                    ],
                }
            )
    return share


def _lookup_log(seen: list[Any]) -> tuple[LogRecord | None, LogRecord | None, LogRecord | None]:
    """The source message, then its accepted record and findings event (blocking)."""
    kafka, topics = settings.kafka, settings.topics
    # [topic, partition, offset]; entries older than the source topic's record: [partition, offset]
    topic, partition, offset = seen_where(seen)
    source = read_record(kafka, str(topic), int(partition), int(offset))
    if source is None:
        return None, None, None
    grid = str(source.value.get("grid_id", ""))
    by_grid = partition_of(grid.encode(), kafka.partitions)
    report_id = str(source.value.get("report_id", ""))
    since = source.timestamp_ms - 1
    accepted = find_by_report_id(kafka, topics.accepted, by_grid, since, report_id)
    findings = find_by_report_id(kafka, topics.findings, by_grid, since, report_id)
    return source, accepted, findings


@app.page("/reports/{report_id}")
class ReportTimelineView(web.View):
    """One report's timeline, from whichever worker is asked (``local=1``: its share only)."""

    async def get(self, request: web.Request, report_id: str) -> web.Response:
        """Received, accepted, classified, escalated: each step with its time."""
        if not authorized(request):
            return self.json({"error": "missing or wrong bearer token"}, status=401)
        share = _local_share(report_id)
        if request.query.get("local") == "1":
            return self.json(share)
        seen, escalations = share["seen"], {e["escalation_id"]: e for e in share["escalations"]}
        for peer in await ask_peers(request, f"/reports/{report_id}?local=1"):
            seen = seen or peer.get("seen")
            escalations |= {e["escalation_id"]: e for e in peer.get("escalations", ())}
        if not seen:
            error = "no report with this id was accepted (refused ones are in the dead letters)"
            return self.json({"error": error}, status=404)
        source, accepted, findings = await asyncio.to_thread(_lookup_log, list(seen))
        return self.json(
            {
                "report_id": report_id,
                "found_in_log": {
                    "accepted": accepted is not None,
                    "findings": findings is not None,
                },
                "escalations": sorted(escalations),
                "timeline": timeline(source, accepted, findings, escalations.values()),
            }
        )
