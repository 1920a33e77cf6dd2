"""A report's timeline from its log records and escalations (no broker)."""

from __future__ import annotations

import json

from streams.intake import owns_report_id
from streams.report_timeline import LogRecord, report_partition, timeline
from streams.validation import parse_report


def _record(topic: str, ms: int, **value: object) -> LogRecord:
    return LogRecord(topic, 2, 41, ms, dict(value))


def test_the_partition_is_the_one_intake_keeps_the_report_on(report_factory):
    for n in range(50):
        report = parse_report(json.dumps(report_factory(report_id=f"r-{n}")).encode())
        partition = report_partition(report.report_id, 6)
        assert owns_report_id(report.report_id.encode(), report, partition, 6)
        assert not owns_report_id(report.report_id.encode(), report, (partition + 1) % 6, 6)


def test_steps_come_in_time_order_whatever_zone_their_times_are_written_in():
    source = _record("grid.reports", 1_700_000_000_000)
    accepted = _record(  # its record is appended after the findings event's classified_at
        "grid.reports.accepted",
        1_700_000_000_095,
        intake={"received_at": "2023-11-14T22:13:20.050000Z"},
    )
    findings = _record(
        "grid.findings",
        1_700_000_000_090,
        classified_at="2023-11-15T06:13:20.070+08:00",  # = ...22:13:20.070 UTC
        severity="critical",
        findings=[{"code": "TELECOM_FRAUD", "severity": "critical", "evidence": []}],
    )
    escalation = {
        "escalation_id": "esc-330203-00000000000000aa",
        "timeline": [
            {"type": "acknowledged", "at": "2023-11-14T22:14:00+00:00", "by": "王警官"},
            {"type": "opened", "at": "2023-11-14T22:13:20.100000Z"},
            {
                "type": "notified",
                "at": "2023-11-14T22:13:20.200Z",
                "level": 1,
                "targets": ["anti_fraud_centre", "bank_hotline"],
            },
        ],
    }
    steps = timeline(source, accepted, findings, [escalation])
    assert [s["step"] for s in steps] == [
        "received",
        "accepted",
        "classified",
        "escalation opened",
        "escalation notified",
        "escalation acknowledged",
    ]
    assert steps[0] | {"at": None} == {
        "at": None,
        "step": "received",
        "topic": "grid.reports",
        "partition": 2,
        "offset": 41,
    }
    assert steps[2]["findings"] == [{"code": "TELECOM_FRAUD", "severity": "critical"}]
    assert steps[4]["targets"] == ["anti_fraud_centre", "bank_hotline"]
    assert steps[5]["by"] == "王警官"


def test_a_report_without_findings_or_escalation_has_what_was_found():
    source = _record("grid.reports", 1_700_000_000_000)
    steps = timeline(source, None, None, [])
    assert [s["step"] for s in steps] == ["received"]
    assert steps[0]["at"].startswith("2023-11-14T22:13:20")
