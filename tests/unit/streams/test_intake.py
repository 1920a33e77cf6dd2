import json
from contextlib import ExitStack
from datetime import UTC, datetime
from unittest.mock import ANY, AsyncMock, patch

import pytest
from aiokafka.partitioner import murmur2
from faust.types import TP

from schemas import IntakeSource, accepted_report_adapter, dead_letter_adapter
from streams import intake, topics
from streams.app import app, registry, settings, vault
from streams.intake import DeadLetter, Duplicate, Forward, Rekey, owns_report_id, route
from streams.partitioning import partition_of as kafka_partition_of
from streams.retention import Expiry
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


# -- retention: seen entries are deleted after their time (streams/retention.py)


@pytest.fixture
def expiry(monkeypatch):
    """A one-minute retention for seen entries, four deletions per message at most."""
    assert intake.seen_expiry is not None  # memory:// in unit tests: intake deletes them
    fresh = Expiry(keep_s=60, per_call=4, deleted=intake.seen_expiry.deleted)
    monkeypatch.setattr(intake, "seen_expiry", fresh)
    return fresh


def deleted_seen_entries() -> float:
    labels = {"table": "intake-seen-reports"}
    return registry.get_sample_value("grid_retention_deleted_total", labels) or 0.0


async def put_report(agent, report_factory, report_id: str, partition: int, at: float):
    raw = json.dumps(report_factory(report_id=report_id)).encode()
    await agent.put(raw, key=report_id.encode(), partition=partition, timestamp=at)


async def test_a_seen_entry_carries_its_broker_time_and_goes_after_retention(
    test_app, sends, report_factory, expiry
):
    with patch.object(intake, "owns_report_id", return_value=True):
        async with intake.intake.test_context() as agent:
            await put_report(agent, report_factory, "r-0001", 2, at=1000.0)
            assert intake.seen_reports.data["r-0001"][1:] == [2, 0, 1000.0]  # partition, offset
            await put_report(agent, report_factory, "r-0002", 2, at=1059.0)
            assert "r-0001" in intake.seen_reports.data  # not yet a minute
            before = deleted_seen_entries()
            await put_report(agent, report_factory, "r-0003", 2, at=1061.0)
            assert "r-0001" not in intake.seen_reports.data
            assert deleted_seen_entries() == before + 1
            assert "r-0002" in intake.seen_reports.data
            # a retry after retention is no longer recognised: accepted again (the trade)
            await put_report(agent, report_factory, "r-0001", 2, at=1062.0)
    assert sends["accepted_topic"].await_count == 4


async def test_seen_entries_go_only_with_messages_of_their_own_partition(
    test_app, sends, report_factory, expiry
):
    with patch.object(intake, "owns_report_id", return_value=True):
        async with intake.intake.test_context() as agent:
            await put_report(agent, report_factory, "r-0001", 2, at=1000.0)
            await put_report(agent, report_factory, "r-0002", 3, at=5000.0)
            assert "r-0001" in intake.seen_reports.data  # its changelog partition is 2
            await agent.put(b"not json", key=None, partition=2, timestamp=5000.0)
            assert "r-0001" not in intake.seen_reports.data  # any message of partition 2


async def test_an_entry_written_again_is_kept_for_its_new_time(test_app, sends, expiry):
    expiry.note(2, "r-0001", 1000.0)  # noted when first written...
    intake.seen_reports.data["r-0001"] = ["grid.reports", 2, 40, 4990.0]  # ...then again
    async with intake.intake.test_context() as agent:
        await agent.put(b"not json", key=None, partition=2, timestamp=5000.0)
    assert intake.seen_reports.data["r-0001"] == ["grid.reports", 2, 40, 4990.0]
    assert len(expiry) == 0  # its stale note is gone all the same


async def test_after_a_rebalance_the_expiry_is_rebuilt_from_the_owned_entries(
    test_app, expiry, monkeypatch
):
    intake.seen_reports.data.update(
        {
            "mine": ["grid.reports", 2, 5, 100.0],
            "rekeyed": ["grid.reports.rekey", 2, 9, 50.0],
            "legacy": ["grid.reports", 2, 7],  # written before entries had a time
            "elsewhere": ["grid.reports", 4, 1, 10.0],  # a partition another worker owns
        }
    )
    owned = {TP("grid.reports", 2), TP("grid.reports.rekey", 2), TP("alerts.commands", 4)}
    monkeypatch.setattr(app.consumer, "assignment", lambda: owned)
    monkeypatch.setattr("streams.intake.time.time", lambda: 1000.0)
    await intake.rebuild_seen_expiry()
    assert len(expiry) == 3
    assert expiry.due(4, now=10_000.0) == []
    assert expiry.due(2, now=1000.0 + 59) == ["rekeyed", "mine"]
    assert expiry.due(2, now=1000.0 + 61) == ["legacy"]  # counted from the rebuild


def test_a_seen_entry_without_a_time_is_judged_by_when_it_was_noted():
    assert intake.seen_time(["grid.reports", 2, 7, 1234.5]) == 1234.5
    assert intake.seen_time(["grid.reports", 2, 7]) == float("-inf")  # the noted time decides
    assert intake.seen_time([2, 7], default=5.0) == 5.0


# -- work ahead (streams/lookahead.py): prepared without the seen table, then asked it


def without_seal(outcome: object) -> object:
    """An outcome comparable across calls: a sealed token differs each time (random IV)."""
    if isinstance(outcome, Forward):
        return Forward(outcome.report.model_copy(update={"sealed_pii": None}))
    if isinstance(outcome, DeadLetter):
        return type(outcome).__name__, outcome.letter.error_kind, outcome.letter.reason
    return outcome


@pytest.mark.parametrize(
    ("raw_changes", "key", "seen", "rekeyed"),
    [
        ({}, "own", (), False),  # first seen
        ({}, "own", ("r-0001",), False),  # an app retry
        ({}, b"330203-GL-017", (), False),  # keyed by grid: rekey
        ({}, b"330203-GL-017", (), True),  # on the rekey topic: never rekeyed again
        ({"district": "火星区"}, "own", (), False),  # invalid
        ({"contact_phone": "13812345678"}, "own", (), False),  # sealed PII
    ],
)
def test_a_prepared_message_ends_as_route_would_send_it(
    report_factory, raw_changes, key, seen, rekeyed
):
    raw = json.dumps(report_factory(**raw_changes)).encode()
    partitions = settings.kafka.partitions
    key = b"r-0001" if key == "own" else key
    where = source(kafka_partition_of(b"r-0001", partitions))
    if rekeyed:
        where = where.model_copy(update={"topic": settings.topics.rekey})
    routed = route(
        raw, key, where, seen=set(seen), partitions=partitions, rekeyed=rekeyed, vault=vault
    )
    prepared = intake.prepare(raw, key, where)
    assert without_seal(intake.seen_or_new(prepared.outcome, set(seen))) == without_seal(routed)
    assert prepared.source == where
    assert (prepared.event is not None) == isinstance(prepared.outcome, Forward)
    if prepared.event is not None:
        assert prepared.event.report_id == "r-0001"
        assert [f.code for f in prepared.event.findings] == ["EBIKE_CHARGING"]


async def test_a_message_takes_the_work_done_ahead_for_it(test_app, sends, report_factory):
    from faust.types import Message

    raw = json.dumps(report_factory()).encode()
    partition = kafka_partition_of(b"r-0001", settings.kafka.partitions)
    topic = settings.topics.reports
    message = Message(topic, partition, 41, 1.7e9, 0, [], b"r-0001", raw, None)
    # prepared from other bytes, so that what the message takes shows where it came from
    other = json.dumps(report_factory(text="2号楼消防通道堵塞了")).encode()
    intake.ahead._results[(topic, partition, 41)] = (
        raw,  # fetched: the very bytes the message carries
        intake.prepare(
            other, b"r-0001", source(partition, topic).model_copy(update={"offset": 41})
        ),
    )
    await intake.handle(message, raw)
    sent = accepted_report_adapter.validate_json(sends["accepted_topic"].await_args.kwargs["value"])
    assert sent.text == "2号楼消防通道堵塞了"
    findings = json.loads(sends["findings_topic"].await_args.kwargs["value"])
    assert [f["code"] for f in findings["findings"]] == ["BLOCKED_EXIT"]
    assert intake.ahead.take((topic, partition, 41), raw) is None  # taken once


@pytest.fixture
def caught_up():
    """Part r2 as the catch-up after a rebalance leaves it: counted through offset 0."""
    tally = intake.intake_tally
    tally.forget(["r2"])
    tally.through["r2"] = 0
    yield tally
    tally.forget(["r2"])


async def test_a_first_message_past_the_catch_up_has_those_before_it_counted_again(
    test_app, sends, report_factory, caught_up, caplog
):
    count_again = AsyncMock(return_value=6)
    raw = json.dumps(report_factory()).encode()
    with (
        patch.object(intake, "owns_report_id", return_value=True),
        patch.object(intake, "count_again", count_again),
        caplog.at_level("WARNING", logger="streams.intake"),
    ):
        async with intake.intake.test_context() as agent:
            agent.sent_offset = 7  # Faust started the partition at 7, not at 1
            await agent.put(raw, key=b"r-0001", partition=2)
            await agent.put(raw, key=b"r-0001", partition=2)  # the next one: nothing missed
    count_again.assert_awaited_once_with(ANY, 2, range(1, 7))
    assert caught_up.through["r2"] == 8  # both messages counted after the gap
    assert "started at 7, past the last counted offset: counted 6 messages" in caplog.text


async def test_a_failed_count_again_does_not_stop_the_message(
    test_app, sends, report_factory, caught_up, caplog
):
    raw = json.dumps(report_factory()).encode()
    with (
        patch.object(intake, "owns_report_id", return_value=True),
        patch.object(intake, "count_again", AsyncMock(side_effect=OSError("broker gone"))),
    ):
        async with intake.intake.test_context() as agent:
            agent.sent_offset = 7
            await agent.put(raw, key=b"r-0001", partition=2)
    sends["accepted_topic"].assert_awaited_once()  # forwarded all the same
    assert caught_up.through["r2"] == 7
    assert "could not count" in caplog.text
