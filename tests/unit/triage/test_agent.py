import json
from contextlib import ExitStack
from datetime import UTC, datetime
from unittest.mock import AsyncMock, patch

import pytest

from schemas import (
    FindingsEventV1,
    IntakeSource,
    dead_letter_adapter,
    findings_event_adapter,
    grid_report_adapter,
)
from streams import intake, topics
from streams.app import app
from streams.triage import agent

SOURCE = IntakeSource(
    topic="grid.reports", partition=1, offset=5, received_at=datetime(2025, 11, 3, tzinfo=UTC)
)


@pytest.fixture
def test_app():
    app.finalize()
    app.flow_control.resume()
    intake.seen_reports.data.clear()
    for stage in (intake.read_back, agent.findings_read_back):
        stage.forwarded, stage.window = set(), {}
        stage.done.set()  # no rebalance in test_context: nothing to read back
    yield app
    for stage in (intake.read_back, agent.findings_read_back):
        stage.forwarded, stage.window = set(), {}


@pytest.fixture
def sends():
    mocks = {f"{name}_topic": AsyncMock() for name in ("accepted", "findings", "dlq", "commands")}
    with ExitStack() as stack:
        for name, mock in mocks.items():
            stack.enter_context(patch.object(getattr(topics, name), "send", mock))
        stack.enter_context(patch.object(intake, "owns_report_id", return_value=True))
        yield mocks


def raw(report: dict) -> bytes:
    return json.dumps(report, ensure_ascii=False).encode()


def findings_sent(mock: AsyncMock) -> list[FindingsEventV1]:
    return [findings_event_adapter.validate_json(c.kwargs["value"]) for c in mock.await_args_list]


async def test_each_accepted_report_gets_one_findings_event(test_app, sends, report_factory):
    hazard = report_factory(report_id="a-1", text="3号楼楼道里电瓶车在充电，住户13812345678")
    routine = report_factory(report_id="a-2", text="居民反映垃圾桶满了，已联系保洁")
    async with intake.intake.test_context() as stream:
        for report in (hazard, routine, hazard):  # the third: an app retry
            await stream.put(raw(report), key=report["report_id"].encode())
    events = findings_sent(sends["findings_topic"])
    assert [e.report_id for e in events] == ["a-1", "a-2"]
    assert [f.code for f in events[0].findings] == ["EBIKE_CHARGING"]
    assert events[0].district == "海曙区" and events[0].lat == 29.87
    assert events[1].findings == () and events[1].severity is None
    assert all(
        b"13812345678" not in c.kwargs["value"] for c in sends["findings_topic"].await_args_list
    )
    headers = sends["findings_topic"].await_args_list[0].kwargs["headers"]
    assert headers["gw-report-id"] == b"a-1"
    accepted_headers = sends["accepted_topic"].await_args_list[0].kwargs["headers"]
    assert headers["gw-source"] == accepted_headers["gw-source"]  # the report's own message
    assert sends["accepted_topic"].await_count == 2
    assert sends["dlq_topic"].await_count == 0


async def test_fraud_in_progress_goes_to_the_escalator_as_it_is_classified(
    test_app, sends, report_factory
):
    fraud = report_factory(
        report_id="f-1", text="独居老人手机被远程控制，骗子冒充银行客服，正在转账"
    )
    async with intake.intake.test_context() as stream:
        await stream.put(raw(fraud), key=b"f-1")
    (command,) = [json.loads(c.kwargs["value"]) for c in sends["commands_topic"].await_args_list]
    assert command["candidate"]["code"] == "TELECOM_FRAUD"
    assert command["candidate"]["report"]["report_id"] == "f-1"


async def test_findings_read_back_after_a_crash_are_not_sent_again(test_app, sends, report_factory):
    # The dead owner's findings event reached the topic, its accepted record did not.
    agent.findings_read_back.forwarded = {"f-1"}
    fraud = report_factory(
        report_id="f-1", text="独居老人手机被远程控制，骗子冒充银行客服，正在转账"
    )
    async with intake.intake.test_context() as stream:
        await stream.put(raw(fraud), key=b"f-1")
    assert sends["accepted_topic"].await_count == 1
    assert sends["findings_topic"].await_count == 0
    assert sends["commands_topic"].await_count == 1  # re-sent: the escalator recognises it


async def test_a_replayed_report_accepted_before_the_crash_gets_its_missing_findings(
    test_app, sends, report_factory
):
    # Offsets 0.. were not committed; the read-back found the accepted record. (Messages put
    # in a test context come from topic "<internal>", partition 0.)
    for stage in (intake.read_back, agent.findings_read_back):
        stage.window = {("<internal>", 0): (0, 10)}
    intake.read_back.forwarded = {"a-1"}
    hazard = report_factory(report_id="a-1", text="3号楼楼道里电瓶车在充电")
    async with intake.intake.test_context() as stream:
        await stream.put(raw(hazard), key=b"a-1")
        await stream.put(raw(hazard), key=b"a-1")  # and once more: nothing new
    assert sends["accepted_topic"].await_count == 0
    assert [e.report_id for e in findings_sent(sends["findings_topic"])] == ["a-1"]


async def test_a_report_that_cannot_be_delivered_is_dead_lettered(test_app, sends, report_factory):
    sends["findings_topic"].side_effect = RuntimeError("broker gone")
    async with intake.intake.test_context() as stream:
        await stream.put(raw(report_factory(report_id="a-1")), key=b"a-1")
        await stream.put(b"[]", key=None)  # the agent is still alive after the failure
    kinds = [
        dead_letter_adapter.validate_json(c.kwargs["value"]).error_kind
        for c in sends["dlq_topic"].await_args_list
    ]
    assert kinds == ["internal_error", "not_object"]


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
