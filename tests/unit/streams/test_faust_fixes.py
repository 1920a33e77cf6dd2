"""The Faust 0.15.3 fixes: seek before resuming, never fetch every partition, idempotent sends,
log lines formatted only when logged, deliveries run before they are waited for, and their puts
given up with them; a message skipped in a rebalance stays unacknowledged."""

import asyncio
import gc
import logging
import warnings
import weakref
from types import SimpleNamespace
from typing import Any, cast
from unittest import mock

import faust
import pytest
from faust.events import Event
from faust.tables.recovery import Recovery
from faust.topics import Topic
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Producer
from faust.types import TP
from faust.types.tuples import ConsumerMessage
from mode import Service
from mode.utils.logging import CompositeLogger

import streams.app  # installs the fixes
from streams import faust_fixes
from streams.settings import Settings


def fake_recovery(calls: list[object], stream: object, changelog: object):
    async def perform_seek() -> None:
        calls.append("seek")

    async def wait(coro, timeout=None) -> None:
        await coro

    consumer = mock.Mock(perform_seek=perform_seek)
    consumer.assignment.return_value = {stream, changelog}
    consumer.resume_partitions.side_effect = lambda tps: calls.append(("resume", tps))
    consumer.resume_flow.side_effect = lambda: calls.append("flow")
    app = mock.Mock(consumer=consumer, consumer_generation_id=3)
    app.on_rebalance_complete.send = mock.AsyncMock()
    app._fetcher.maybe_start = mock.AsyncMock()
    app.flow_control.resume.side_effect = lambda: calls.append("flow_control")
    return SimpleNamespace(
        app=app,
        log=mock.Mock(),
        tables=mock.Mock(values=list),
        completed=mock.Mock(),
        _set_recovery_ended=mock.Mock(),
        _is_changelog_tp=lambda tp: tp is changelog,
        _wait=wait,
    )


def test_installed_on_the_faust_version_they_were_copied_from_only():
    assert Recovery.on_recovery_completed is faust_fixes.on_recovery_completed
    assert AIOKafkaConsumerThread._fetch_records is faust_fixes.fetch_active_records
    assert Producer._settings_extra is faust_fixes.idempotent_producer_settings
    assert CompositeLogger.log is faust_fixes.log_if_enabled
    assert Consumer.wait_first is faust_fixes.step_first
    assert Topic.put is faust_fixes.put_of_delivery
    assert Consumer.wait_empty is faust_fixes.wait_for_handled
    assert Consumer.on_partitions_revoked is faust_fixes.revoke_after_commit
    assert faust_fixes.install("0.15.4") is False


async def test_stream_partitions_are_sought_while_paused_then_resumed():
    calls: list[object] = []
    stream, changelog = object(), object()
    await faust_fixes.on_recovery_completed(fake_recovery(calls, stream, changelog), 3)
    assert calls == ["seek", ("resume", {stream}), "flow_control", "flow"]


async def test_partitions_nobody_committed_are_read_from_their_start_before_resuming():
    calls: list[object] = []
    stream, changelog = TP("grid.reports", 5), TP("gw-seen-changelog", 5)
    recovery = fake_recovery(calls, stream, changelog)
    consumer = recovery.app.consumer
    consumer._committed_offset = {}  # nothing committed on the stream partition yet

    async def seek_wait(offsets):
        calls.append(("seek_wait", offsets))

    consumer.seek_wait = seek_wait
    await faust_fixes.on_recovery_completed(recovery, 3)
    assert calls == [
        "seek",
        ("seek_wait", {stream: 0}),
        ("resume", {stream}),
        "flow_control",
        "flow",
    ]


async def test_only_partitions_without_a_committed_offset_are_sought_to_their_start():
    sought: list[dict[TP, int]] = []

    async def seek_wait(offsets):
        sought.append(offsets)

    committed, zero, none = TP("t", 0), TP("t", 1), TP("t", 2)
    consumer = SimpleNamespace(_committed_offset={committed: 120, zero: None}, seek_wait=seek_wait)
    fresh = await faust_fixes.seek_uncommitted_to_start(consumer, [committed, zero, none])
    assert fresh == [zero, none]
    assert sought == [{zero: 0, none: 0}]
    consumer._committed_offset = {committed: 120, zero: 7, none: 3}
    assert await faust_fixes.seek_uncommitted_to_start(consumer, [committed, zero, none]) == []
    assert len(sought) == 1  # nothing to seek: no call


async def test_a_newer_generation_resumes_nothing():
    calls: list[object] = []
    await faust_fixes.on_recovery_completed(fake_recovery(calls, object(), object()), 2)
    assert calls == []


def fake_thread(seen: list[object]):
    async def fetched_records(partitions, timeout=0, max_records=None):
        seen.append(partitions)
        return {TP("t", 0): ["record"]}

    fetcher = mock.MagicMock(_closed=False, fetched_records=fetched_records)
    consumer = mock.Mock(_closed=False, _fetcher=fetcher)
    thread = SimpleNamespace(consumer=SimpleNamespace(flow_active=True))
    return thread, consumer


async def test_no_active_partition_fetches_nothing_rather_than_everything():
    seen: list[object] = []
    thread, consumer = fake_thread(seen)
    assert await faust_fixes.fetch_active_records(thread, consumer, set(), 1.0, 500) == {}
    assert seen == []


async def test_fetches_for_a_snapshot_of_the_active_partitions():
    seen: list[object] = []
    thread, consumer = fake_thread(seen)
    active = {TP("t", 0), TP("t", 1)}
    records = await faust_fixes.fetch_active_records(thread, consumer, active, 1.0, 500)
    assert records == {TP("t", 0): ["record"]}
    assert seen == [{TP("t", 0), TP("t", 1)}]
    assert seen[0] is not active


async def test_the_worker_producer_is_idempotent_outside_transactions(tmp_path):
    app = streams.app.create_app(Settings(app_id="gw-idempotent-unit", data_dir=tmp_path))
    assert not app.in_transaction
    producer = cast(Producer, app.producer)._new_producer()
    # aiokafka keeps a transaction manager, which numbers each batch, only when idempotent.
    assert producer._txn_manager is not None
    await producer.stop()


def test_a_message_below_the_level_is_not_formatted():
    formatter = mock.Mock(return_value="formatted")
    logger = logging.getLogger("gridwatch.test.composite")
    logger.setLevel(logging.INFO)
    composite = CompositeLogger(logger, formatter=formatter)
    with mock.patch.object(logger, "log") as log:
        composite.log(logging.DEBUG, "%r yielded: %r", "agent", "value")
        formatter.assert_not_called()
        log.assert_not_called()
        composite.log(logging.WARNING, "%r yielded: %r", "agent", "value")
    formatter.assert_called_once()
    assert log.call_args.args[:2] == (logging.WARNING, "formatted")


class Fetcher(Service):
    """A service to wait on, as Faust's consumer does for each message it delivers."""


async def test_a_delivery_that_need_not_wait_runs_at_once_without_tasks():
    service, suspend, delivered = Fetcher(), asyncio.Event(), []

    async def deliver(message: str) -> str:
        delivered.append(message)
        return "ok"

    loop, created = asyncio.get_running_loop(), []

    def count_tasks(loop: asyncio.AbstractEventLoop, coro: Any) -> asyncio.Task[Any]:
        created.append(coro)
        return asyncio.Task(coro, loop=loop)

    loop.set_task_factory(count_tasks)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the unawaited suspend.wait() is closed, not left
            result = await faust_fixes.step_first(service, deliver("m1"), suspend.wait())
    finally:
        loop.set_task_factory(None)
    assert delivered == ["m1"]
    assert result.results == ["ok"] and not result.stopped
    assert created == []


async def test_a_delivery_that_waits_is_carried_on_to_its_end():
    service, suspend, space = Fetcher(), asyncio.Event(), asyncio.Event()
    steps: list[str] = []

    async def deliver() -> str:
        steps.append("before")
        await space.wait()  # a full buffer
        steps.append("after")
        await asyncio.sleep(0)
        return "put"

    waiting = asyncio.ensure_future(faust_fixes.step_first(service, deliver(), suspend.wait()))
    await asyncio.sleep(0.01)
    assert steps == ["before"] and not waiting.done()
    space.set()
    result = await asyncio.wait_for(waiting, 1)
    assert steps == ["before", "after"]
    assert result.results == ["put"] and not result.stopped


async def test_a_waiting_delivery_is_abandoned_when_the_flow_is_suspended():
    service, suspend, cancelled = Fetcher(), asyncio.Event(), []

    async def deliver() -> None:
        try:
            await asyncio.Event().wait()  # never has room
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    waiting = asyncio.ensure_future(faust_fixes.step_first(service, deliver(), suspend.wait()))
    await asyncio.sleep(0.01)
    suspend.set()
    result = await asyncio.wait_for(waiting, 1)
    await asyncio.sleep(0)
    assert result.results == [True]  # the suspension won
    assert cancelled == [True]


async def test_a_delivery_that_fails_at_once_raises_to_the_fetcher():
    service, suspend = Fetcher(), asyncio.Event()

    async def deliver() -> None:
        raise ValueError("bad message")

    with pytest.raises(ValueError, match="bad message"):
        await faust_fixes.step_first(service, deliver(), suspend.wait())


def full_buffer() -> tuple[faust.App, Topic]:
    """An agent's buffer (a topic iterator's queue) that has no room left."""
    app = faust.App("gw-fix6-unit", stream_buffer_maxsize=1)
    topic = app.topic("reports").clone(is_iterator=True)
    app.flow_control.resume()  # as in a running worker (an app starts suspended)
    topic.queue.put_nowait("earlier")
    return app, cast(Topic, topic)


class Message:
    """Stands for Faust's message, which its consumer tracks by weak reference."""


async def test_an_abandoned_delivery_lets_go_of_its_put_into_a_full_buffer():
    app, topic = full_buffer()
    service, suspend = Fetcher(), asyncio.Event()
    message = Message()
    events, tracked = [SimpleNamespace(message=message)], weakref.ref(message)

    def revoke() -> None:  # a revocation's first, synchronous steps
        app.flow_control.suspend()
        app.flow_control.clear()
        suspend.set()

    async def deliver() -> None:  # what Faust's conductor does when the buffer is full
        put = asyncio.ensure_future(topic.put(cast(Any, events[0])))
        revoke()  # lands before the put's first step: the put waits for the suspended flow
        await asyncio.wait([put])

    waiting = asyncio.ensure_future(faust_fixes.step_first(service, deliver(), suspend.wait()))
    result = await asyncio.wait_for(waiting, 1)
    assert result.results == [True]  # the suspension won
    events.clear()
    del message
    await asyncio.sleep(0.01)
    gc.collect()
    assert tracked() is None  # nothing holds the message: the revocation's wait can end
    app.flow_control.resume()
    await asyncio.sleep(0.01)
    assert topic.queue.empty()  # and it is not handed to the agent after the rebalance


async def test_a_waiting_delivery_puts_once_the_buffer_has_room():
    _, topic = full_buffer()
    service, suspend = Fetcher(), asyncio.Event()

    async def deliver() -> str:
        await asyncio.wait([asyncio.ensure_future(topic.put(cast(Any, "next")))])
        return "put"

    waiting = asyncio.ensure_future(faust_fixes.step_first(service, deliver(), suspend.wait()))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    assert topic.queue.get_nowait() == "earlier"
    result = await asyncio.wait_for(waiting, 1)
    assert result.results == ["put"]
    assert topic.queue.get_nowait() == "next"


async def test_a_put_outside_a_delivery_waits_for_room_as_before():
    _, topic = full_buffer()
    put = asyncio.ensure_future(topic.put(cast(Any, "next")))
    await asyncio.sleep(0.01)
    assert not put.done()
    assert topic.queue.get_nowait() == "earlier"
    await asyncio.wait_for(put, 1)
    assert topic.queue.get_nowait() == "next"


class Tracked:
    """A consumer message as ``wait_for_handled`` sees it."""

    def __init__(self, offset: int) -> None:
        self.topic, self.partition, self.offset, self.acked = "alerts", 5, offset, False


def revoking_consumer(handled: list[Tracked]) -> tuple[Any, list[str]]:
    """A consumer in its revocation's wait; ``handled``: what agents' streams hold now."""
    calls: list[str] = []
    stream = SimpleNamespace(current_event=None)
    consumer = SimpleNamespace(should_stop=False, _unacked_messages=weakref.WeakSet())

    async def commit() -> None:
        calls.append("commit")

    async def wait_for_ack(timeout: float) -> None:
        calls.append("wait")
        stream.current_event = SimpleNamespace(message=handled[0]) if handled else None
        await asyncio.sleep(0)

    async def commit_and_end_transactions() -> None:
        calls.append("final commit")

    consumer.commit, consumer._wait_for_ack = commit, wait_for_ack
    consumer.commit_and_end_transactions = commit_and_end_transactions
    consumer._clean_unacked_messages = lambda: Consumer._clean_unacked_messages(cast(Any, consumer))
    actor = SimpleNamespace(stream=stream)
    consumer.app = SimpleNamespace(agents={"notify": SimpleNamespace(_actors=[actor])})
    return consumer, calls


async def test_the_revocation_lets_go_of_a_message_no_agent_holds(caplog):
    orphan = Tracked(125)
    consumer, calls = revoking_consumer([])
    consumer._unacked_messages.add(orphan)
    with caplog.at_level(logging.WARNING, logger="streams.faust_fixes"):
        await asyncio.wait_for(faust_fixes.wait_for_handled(consumer), 5)
    assert calls.count("wait") == faust_fixes.ORPHAN_ROUNDS
    assert calls[-1] == "final commit"
    assert not orphan.acked  # not acknowledged: its offset is not committed, it is read again
    assert "alerts[5]@125" in caplog.text


async def test_the_revocation_waits_for_a_message_an_agent_is_handling():
    handled = Tracked(7)
    consumer, calls = revoking_consumer([handled])
    consumer._unacked_messages.add(handled)
    waiting = asyncio.ensure_future(faust_fixes.wait_for_handled(consumer))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiting.done()  # still handled after many rounds: waited for, as Faust does
    assert calls.count("wait") > faust_fixes.ORPHAN_ROUNDS
    handled.acked = True
    await asyncio.wait_for(waiting, 1)
    assert calls[-1] == "final commit"


async def skipped_and_handled(app: faust.App) -> tuple[list[bytes], list[Any]]:
    """Two messages through a real stream: offset 5 fetched in generation 1, 6 in the
    current generation 2. Returns what the stream yielded and the offsets acknowledged."""
    topic = app.topic("reports", value_serializer="raw")
    app.topics.acking_topics.add("reports")  # as the conductor does for a subscribed topic
    app.flow_control.resume()
    app.consumer_generation_id = 2
    stream, seen = app.stream(topic), []

    async def handle() -> None:
        async for value in stream:
            seen.append(value)

    task = asyncio.ensure_future(handle())
    for offset, generation in [(5, 1), (6, 2)]:
        message = ConsumerMessage(
            "reports",
            0,
            offset,
            0.0,
            0,
            [],
            None,
            b"v%d" % offset,
            None,
            generation_id=generation,
        )
        message.incref()
        await cast(Any, stream.channel).put(Event(app, None, message.value, {}, message))
    await asyncio.sleep(0.05)
    task.cancel()
    return seen, cast(Any, app.consumer)._acked[TP("reports", 0)]


async def test_a_message_skipped_after_a_rebalance_is_not_acknowledged():
    """Faust's Cython stream iterator, the worker's, leaves a skipped message unacknowledged:
    no commit steps over it before it is read again (module docstring of faust_fixes)."""
    assert getattr(faust.streams, "_CStreamIterator", None) is not None, (
        "faust's Cython extensions are missing"
    )
    seen, acked = await skipped_and_handled(faust.App("gw-skip-unit", broker="kafka://127.0.0.1:1"))
    assert seen == [b"v6"]
    assert acked == [6]


async def test_without_the_cython_iterator_a_skipped_message_is_acknowledged(monkeypatch, caplog):
    """Why the worker warns: the pure-Python iterator acknowledges the skipped offset 5."""
    monkeypatch.setattr(faust.streams, "_CStreamIterator", None)
    seen, acked = await skipped_and_handled(faust.App("gw-skip-py", broker="kafka://127.0.0.1:1"))
    assert seen == [b"v6"]
    assert acked == [5, 6]
    with caplog.at_level(logging.WARNING, logger="streams.faust_fixes"):
        assert faust_fixes.install()
    assert "without its Cython stream iterator" in caplog.text


async def revoke_with_acknowledged(revoke: Any) -> list[dict[TP, int]]:
    """A revocation of a partition whose offsets 10 and 11 were acknowledged before it
    began, none during it (nothing in flight). Returns the commits it made."""
    app = faust.App("gw-fix8-unit", broker="kafka://127.0.0.1:1")
    consumer = cast(Any, app.consumer)
    tp, commits = TP("grid.reports", 3), []
    consumer._committed_offset[tp] = 10
    for offset in (10, 11):
        consumer._acked[tp].append(offset)
        consumer._acked_index[tp].add(offset)

    async def commit(offsets: dict[TP, int]) -> bool:
        commits.append(dict(offsets))
        return True

    async def app_revocation(revoked: set[TP]) -> None:  # the app's wait for messages in flight
        await consumer.commit()

    consumer._commit, consumer._on_partitions_revoked = commit, app_revocation
    with (
        mock.patch.object(consumer, "assignment", return_value={tp}),
        mock.patch.object(app.producer, "flush", mock.AsyncMock()),
    ):
        await revoke(consumer, {tp})
    assert tp not in consumer._acked and tp not in consumer._committed_offset  # forgotten
    return commits


async def test_a_revocation_commits_what_was_acknowledged_before_it():
    assert await revoke_with_acknowledged(faust_fixes.revoke_after_commit) == [
        {TP("grid.reports", 3): 12}
    ]


async def test_faust_forgets_what_was_acknowledged_before_the_revocation_commits():
    """Why: the next owner would replay 10 and 11 from the last periodic commit."""
    original = faust_fixes._faust_on_partitions_revoked
    assert await revoke_with_acknowledged(original) == []
