import json
from datetime import UTC, datetime
from unittest.mock import AsyncMock, patch

import pytest

from schemas import IntakeSource, dead_letter_adapter, findings_event_adapter, grid_report_adapter
from streams import topics
from streams.app import app
from streams.triage import agent

SOURCE = IntakeSource(
    topic="grid.reports", partition=1, offset=5, received_at=datetime(2025, 11, 3, tzinfo=UTC)
)


def accepted_bytes(report: dict) -> bytes:
    parsed = grid_report_adapter.validate_json(json.dumps(report))
    return parsed.accepted(SOURCE).model_dump_json(exclude_none=True).encode()


@pytest.fixture
def test_app():
    app.finalize()
    app.flow_control.resume()
    agent.read_back.forwarded = set()
    agent.read_back.done.set()  # no rebalance in test_context: nothing to read back
    return app


@pytest.fixture
def sends():
    findings, dlq = AsyncMock(), AsyncMock()
    with (
        patch.object(topics.findings_topic, "send", findings),
        patch.object(topics.dlq_topic, "send", dlq),
    ):
        yield findings, dlq


async def test_each_accepted_report_gets_one_findings_event(test_app, sends, report_factory):
    findings, dlq = sends
    hazard = report_factory(report_id="a-1", text="3号楼楼道里电瓶车在充电，住户13812345678")
    routine = report_factory(report_id="a-2", text="居民反映垃圾桶满了，已联系保洁")
    async with agent.triage.test_context() as triage:
        await triage.put(accepted_bytes(hazard), key=b"330203-GL-017")
        await triage.put(accepted_bytes(routine), key=b"330203-GL-017")
    events = [
        findings_event_adapter.validate_json(c.kwargs["value"]) for c in findings.await_args_list
    ]
    assert [e.report_id for e in events] == ["a-1", "a-2"]
    assert [f.code for f in events[0].findings] == ["EBIKE_CHARGING"]
    assert events[0].district == "海曙区" and events[0].lat == 29.87
    assert events[1].findings == () and events[1].severity is None
    assert all(b"13812345678" not in c.kwargs["value"] for c in findings.await_args_list)
    assert findings.await_args_list[0].kwargs["headers"]["gw-report-id"] == b"a-1"
    assert dlq.await_count == 0


async def test_report_read_back_after_a_crash_is_not_emitted_again(test_app, sends, report_factory):
    findings, _ = sends
    agent.read_back.forwarded = {"a-1"}
    async with agent.triage.test_context() as triage:
        await triage.put(accepted_bytes(report_factory(report_id="a-1")), key=b"g")
    assert findings.await_count == 0


async def test_unreadable_accepted_record_is_dead_lettered(test_app, sends):
    findings, dlq = sends
    async with agent.triage.test_context() as triage:
        await triage.put(b'{"not": "a report"}', key=b"g")
    letter = dead_letter_adapter.validate_json(dlq.await_args.kwargs["value"])
    assert letter.error_kind == "internal_error"
    assert letter.original() == b'{"not": "a report"}'
    assert findings.await_count == 0


def test_findings_event_carries_place_and_time(report_factory):
    report = grid_report_adapter.validate_json(json.dumps(report_factory(address="东门口5号")))
    accepted = report.accepted(SOURCE)
    event = agent.findings_event(accepted, agent.classify(accepted), SOURCE.received_at)
    assert (event.address, event.place_type, event.grid_id) == (
        "东门口5号",
        "old_residential",
        "330203-GL-017",
    )
    assert event.reported_at == report.reported_at
