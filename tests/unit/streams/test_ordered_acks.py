"""Acknowledgements in offset order: a commit never steps over a message still in hand."""

import asyncio
import random
from types import SimpleNamespace
from typing import Any, cast

import faust
from faust.events import Event
from faust.types import TP
from faust.types.tuples import ConsumerMessage

import streams.app  # noqa: F401 - installs the Faust fixes, as in the worker
from streams.ordered_acks import InOrder

TP0, TP1 = TP("alerts.escalations", 0), TP("alerts.escalations", 1)


def event(tp: TP, offset: int) -> Any:
    return SimpleNamespace(message=SimpleNamespace(tp=tp, offset=offset))


def test_any_finishing_order_acknowledges_each_once_oldest_first():
    rng = random.Random(11)
    for trial in range(300):
        acks, released = InOrder(), []
        offsets = {
            TP0: list(range(40, 40 + rng.randrange(1, 20))),
            TP1: list(range(rng.randrange(1, 9))),
        }
        events = {(tp, o): event(tp, o) for tp, os in offsets.items() for o in os}
        for tp, os in offsets.items():
            for o in os:
                acks.taken(tp, o)
        order = list(events)
        rng.shuffle(order)
        done: set[tuple[TP, int]] = set()
        for tp, o in order:
            done.add((tp, o))
            for ready in acks.done(tp, o, events[tp, o]):
                released.append((ready.message.tp, ready.message.offset))
                # released only once everything older of its partition is done
                assert all(
                    (ready.message.tp, older) in done
                    for older in offsets[tp]
                    if older < ready.message.offset
                )
        for tp, os in offsets.items():
            assert [o for t, o in released if t == tp] == os, trial
            assert acks.in_hand(tp) == 0


def test_a_revoked_partition_releases_nothing_and_forgets_what_it_held():
    acks = InOrder()
    for offset in (5, 6, 7):
        acks.taken(TP0, offset)
    acks.taken(TP1, 0)
    assert acks.done(TP0, 6, event(TP0, 6)) == []  # 5 still in hand
    acks.forget([TP0])
    assert acks.done(TP0, 5, event(TP0, 5)) == []  # read again by the next owner
    assert acks.in_hand(TP0) == 0
    assert acks.in_hand(TP1) == 1


async def commit_while_oldest_in_hand(in_order: bool) -> tuple[int | None, int | None]:
    """Offsets 10, 11, 12 handled at once by a real Faust stream, 10 the slowest.

    Returns the offset Faust would commit while 10 is in hand, then once all are done.
    """
    app = faust.App(f"gw-order-{in_order}", broker="kafka://127.0.0.1:1")
    topic = app.topic("alerts.escalations", value_serializer="raw")
    app.topics.acking_topics.add(topic.get_topic_name())
    app.flow_control.resume()
    app.consumer_generation_id = 1
    consumer = cast(Any, app.consumer)
    tp = TP("alerts.escalations", 0)
    consumer._committed_offset[tp] = 10  # committed through 9, as after a seek
    stream = cast(faust.Stream[bytes], app.stream(topic)).noack()
    acks, fast_done, slow = InOrder(), asyncio.Event(), asyncio.Event()
    handlers: list[asyncio.Task[None]] = []

    async def handle(e: Any) -> None:
        async def work() -> None:
            if e.message.offset == 10:
                await slow.wait()  # a webhook being retried
            elif e.message.offset == 12:
                fast_done.set()

        if in_order:
            async with acks.handling(stream, e):
                await work()
        else:
            await work()
            await stream.ack(e)

    async def take() -> None:
        async for e in stream.events():
            handlers.append(asyncio.ensure_future(handle(e)))

    taking = asyncio.ensure_future(take())
    for offset in (10, 11, 12):
        message = ConsumerMessage(
            tp.topic, 0, offset, 0.0, 0, [], None, b"e", None, generation_id=1
        )
        message.incref()
        await cast(Any, stream.channel).put(Event(app, None, message.value, {}, message))
    await asyncio.wait_for(fast_done.wait(), 1)
    await asyncio.sleep(0.01)
    while_in_hand = consumer._new_offset(tp)
    slow.set()
    await asyncio.wait_for(asyncio.gather(*handlers), 1)
    after = consumer._new_offset(tp)
    taking.cancel()
    return while_in_hand, after


async def test_a_commit_waits_for_the_oldest_message_in_hand():
    assert await commit_while_oldest_in_hand(in_order=True) == (None, 13)


async def test_without_it_faust_commits_past_a_message_still_in_hand():
    """Why: Faust lets one missing offset after the committed one pass."""
    while_in_hand, _ = await commit_while_oldest_in_hand(in_order=False)
    assert while_in_hand == 13
