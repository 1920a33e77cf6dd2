import json
from contextlib import ExitStack
from datetime import UTC, datetime
from unittest.mock import AsyncMock, patch

import pytest
from aiokafka.partitioner import murmur2

from schemas import IntakeSource, accepted_report_adapter, dead_letter_adapter
from streams import intake, topics
from streams.app import app
from streams.intake import DeadLetter, Duplicate, Forward, Rekey, owns_report_id, route
from streams.triage.agent import findings_read_back
from streams.validation import parse_report

PARTITIONS = 6


def partition_of(report_id: str) -> int:
    return (murmur2(report_id.encode()) & 0x7FFFFFFF) % PARTITIONS


def source(partition: int, topic: str = "grid.reports") -> IntakeSource:
    return IntakeSource(
        topic=topic, partition=partition, offset=7, received_at=datetime(2025, 1, 1, tzinfo=UTC)
    )


def route_one(raw: bytes, key: bytes | None, partition: int, seen=(), rekeyed=False):
    return route(
        raw, key, source(partition), seen=set(seen), partitions=PARTITIONS, rekeyed=rekeyed
    )


def test_first_seen_valid_report_is_forwarded(report_factory):
    raw = json.dumps(report_factory()).encode()
    outcome = route_one(raw, b"r-0001", partition_of("r-0001"))
    assert isinstance(outcome, Forward)
    assert outcome.report.intake.offset == 7


def test_seen_report_id_is_a_duplicate(report_factory):
    raw = json.dumps(report_factory()).encode()
    outcome = route_one(raw, b"r-0001", partition_of("r-0001"), seen={"r-0001"})
    assert outcome == Duplicate("r-0001")


@pytest.mark.parametrize("key", [None, b"330203-GL-017", b"r-0002"])
def test_report_not_keyed_by_its_id_is_rekeyed(report_factory, key):
    raw = json.dumps(report_factory()).encode()
    assert route_one(raw, key, partition_of("r-0001")) == Rekey("r-0001")


def test_report_on_the_wrong_partition_is_rekeyed(report_factory):
    raw = json.dumps(report_factory()).encode()
    wrong = (partition_of("r-0001") + 1) % PARTITIONS
    assert route_one(raw, b"r-0001", wrong) == Rekey("r-0001")


def test_rekeyed_message_is_never_rekeyed_again(report_factory):
    raw = json.dumps(report_factory()).encode()
    assert isinstance(route_one(raw, None, 0, rekeyed=True), Forward)


def test_invalid_message_is_dead_lettered_before_any_dedup(report_factory):
    raw = json.dumps(report_factory(text="")).encode()
    outcome = route_one(raw, b"r-0001", partition_of("r-0001"), seen={"r-0001"})
    assert isinstance(outcome, DeadLetter)
    assert outcome.letter.error_kind == "text_empty"


@pytest.mark.parametrize(
    ("key", "java_murmur2"),  # vectors from Kafka's own UtilsTest.testMurmur2
    [
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ],
)
def test_partitioning_matches_the_java_default_partitioner(report_factory, key, java_murmur2):
    report = parse_report(json.dumps(report_factory(report_id=key.decode())).encode())
    expected = (java_murmur2 & 0x7FFFFFFF) % PARTITIONS
    assert owns_report_id(key, report, expected, PARTITIONS)
    assert not owns_report_id(key, report, (expected + 1) % PARTITIONS, PARTITIONS)


@pytest.fixture
def test_app():
    app.finalize()  # the store is memory:// unless GRID_STORE says otherwise (cleared here)
    app.flow_control.resume()
    intake.seen_reports.data.clear()  # the memory store outlives a test_context
    for stage in (intake.read_back, findings_read_back):
        stage.done.set()  # no rebalance in test_context: nothing to read back
    return app


SENT_TO = ("accepted", "dlq", "rekey", "findings", "commands", "indicators")


@pytest.fixture
def sends():
    """Every topic intake sends to, mocked: ``{"accepted_topic": AsyncMock, ...}``."""
    mocks = {f"{name}_topic": AsyncMock() for name in SENT_TO}
    with ExitStack() as stack:
        for name, mock in mocks.items():
            stack.enter_context(patch.object(getattr(topics, name), "send", mock))
        yield mocks


async def test_agent_forwards_then_drops_the_retry(test_app, sends, report_factory):
    raw = json.dumps(report_factory()).encode()
    with patch.object(intake, "owns_report_id", return_value=True):
        async with intake.intake.test_context() as agent:
            await agent.put(raw, key=b"r-0001")
            await agent.put(raw, key=b"r-0001")
    assert sends["accepted_topic"].await_count == 1
    sent = sends["accepted_topic"].await_args.kwargs
    assert sent["key"] == b"330203-GL-017"
    accepted = accepted_report_adapter.validate_json(sent["value"])
    assert accepted.contact_phone == "138****5678"
    assert sends["dlq_topic"].await_count == 0


async def test_agent_dead_letters_bad_bytes_with_reason(test_app, sends):
    async with intake.intake.test_context() as agent:
        await agent.put(b"\xff\xfe not json", key=None)
    letter = dead_letter_adapter.validate_json(sends["dlq_topic"].await_args.kwargs["value"])
    assert letter.error_kind == "not_utf8"
    assert letter.original() == b"\xff\xfe not json"


async def test_agent_dead_letters_on_internal_error(test_app, sends, report_factory):
    raw = json.dumps(report_factory()).encode()
    sends["accepted_topic"].side_effect = RuntimeError("13812345678 could not be sent")
    with patch.object(intake, "owns_report_id", return_value=True):
        async with intake.intake.test_context() as agent:
            await agent.put(raw, key=b"r-0001")
            await agent.put(b"[]", key=None)  # the agent is still alive after the failure
    letters = [
        dead_letter_adapter.validate_json(call.kwargs["value"])
        for call in sends["dlq_topic"].await_args_list
    ]
    assert [(x.error_kind, x.reason) for x in letters] == [
        ("internal_error", "processing failed: RuntimeError"),
        ("not_object", "$: Input should be an object"),
    ]
    assert letters[0].original() == raw


async def test_agent_rekeys_a_report_keyed_by_grid(test_app, sends, report_factory):
    raw = json.dumps(report_factory()).encode()
    async with intake.intake.test_context() as agent:
        await agent.put(raw, key=b"330203-GL-017")
    sends["rekey_topic"].assert_awaited_once_with(key=b"r-0001", value=raw)
    assert sends["accepted_topic"].await_count == 0


def test_table_entry_from_the_replay_window_needs_the_read_back(test_app):
    read_back = intake.read_back
    read_back.window = {("grid.reports", 2): (100, 150)}  # last commit 100, read back at 150
    intake.seen_reports.data["before"] = ["grid.reports", 2, 99]
    intake.seen_reports.data["lost-in-crash"] = ["grid.reports", 2, 120]
    intake.seen_reports.data["confirmed"] = ["grid.reports", 2, 130]
    read_back.forwarded = {"confirmed"}
    try:
        assert "before" in intake.seen
        assert "lost-in-crash" not in intake.seen  # its forward never reached the topic
        assert "confirmed" in intake.seen
        assert "never" not in intake.seen
    finally:
        read_back.window, read_back.forwarded = {}, set()
