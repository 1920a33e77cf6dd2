"""The per-report work every bench peer does: gridwatch's intake and triage, fused, no Faust.

    raw report ─> parse + validate ─┬─> Rejected   dead letter bytes          -> dlq
                                    ├─> Duplicate  report_id seen before       -> (dropped)
                                    └─> Accepted   accepted record            -> accepted
                                                   findings record            -> findings
                                                   seen record (changelog)    -> seen / state
                                                   counter keys               -> in memory

The calls and serialisation are gridwatch's own (``parse_report``, ``dead_letter_for``,
``GridReportV1.accepted`` with the PII vault, the shipped triage engine, pydantic's
``model_dump_json``), so a peer that runs this does what ``streams/intake.py`` and
``streams/triage/agent.py`` do per report. What differs is the shape: one hop instead of two,
so the accepted report is classified from memory rather than re-read and re-parsed.
This module must not import ``streams.app``: the peers run without any Faust app.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from schemas.grid_report import IntakeSource
from streams.errors import InvalidReport
from streams.partitioning import partition_of
from streams.pii_vault import PiiVault
from streams.reconcile import forward_headers
from streams.triage.events import classify, findings_event
from streams.validation import dead_letter_for, parse_report

__all__ = [
    "Accepted",
    "Duplicate",
    "Outcome",
    "Record",
    "Rejected",
    "Tally",
    "classify",
    "findings_event",
    "partition_of",
    "process",
]

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Record:
    """One record to produce: key, value and headers, already serialised."""

    key: bytes | None
    value: bytes
    headers: Headers


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid report seen for the first time, with everything it sends and counts."""

    report_id: str
    accepted: Record
    findings: Record
    seen: Record  # report_id -> [topic, partition, offset], as intake's seen table stores it
    counts: tuple[str, ...]  # "district|code|severity" per finding


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A report whose id was accepted before: dropped."""

    report_id: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """An invalid message: its dead letter, as intake would send it."""

    letter: Record


Outcome = Accepted | Duplicate | Rejected


def process(
    raw: bytes,
    key: bytes | None,
    topic: str,
    partition: int,
    offset: int,
    *,
    seen: Container[str],
    vault: PiiVault,
    now: datetime | None = None,
) -> Outcome:
    """Validate, deduplicate, seal, classify and serialise one message; pure but for ``now``."""
    now = now or datetime.now(UTC)
    source = IntakeSource(topic=topic, partition=partition, offset=offset, received_at=now)
    try:
        report = parse_report(raw)
    except InvalidReport as exc:
        letter = dead_letter_for(exc, raw, key, source, now)
        return Rejected(Record(None, letter.model_dump_json().encode(), []))
    if report.report_id in seen:
        return Duplicate(report.report_id)
    sealed, indicators = vault.seal(report), vault.indicators(report.text)
    accepted = report.accepted(source, sealed_pii=sealed, indicators=indicators)
    event = findings_event(accepted, classify(accepted), now)
    headers = list(forward_headers(topic, partition, offset, report.report_id).items())
    grid_key = report.grid_id.encode()
    rid = report.report_id.encode()
    return Accepted(
        report_id=report.report_id,
        accepted=Record(grid_key, accepted.model_dump_json(exclude_none=True).encode(), headers),
        findings=Record(grid_key, event.model_dump_json().encode(), headers),
        seen=Record(rid, orjson.dumps([topic, partition, offset]), []),
        counts=tuple(f"{event.district}|{f.code}|{f.severity}" for f in event.findings),
    )


@dataclass
class Tally:
    """What one peer process did, and the in-memory findings counts (district|code|severity)."""

    consumed: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    first_at: float = 0.0  # wall time of the first message handled
    last_at: float = 0.0
    findings: Counter[str] | None = None

    def add(self, outcome: Outcome, at: float) -> None:
        """Count one outcome handled at wall time ``at``."""
        self.consumed += 1
        self.first_at = self.first_at or at
        self.last_at = at
        match outcome:
            case Accepted(counts=counts):
                self.accepted += 1
                if self.findings is None:
                    self.findings = Counter()
                self.findings.update(counts)
            case Duplicate():
                self.duplicates += 1
            case Rejected():
                self.rejected += 1

    def as_dict(self) -> dict[str, float]:
        """The figures a progress file carries."""
        return {
            "consumed": self.consumed,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "findings": sum((self.findings or Counter()).values()),
        }
