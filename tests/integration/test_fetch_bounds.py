"""Fetch bounds that follow the traffic (streams/consumer_tuning.py), against the real broker."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.consumer_tuning import FetchBounds, adapt
from streams.publish import make_producer
from streams.settings import Settings

from .conftest import Pipeline

pytestmark = pytest.mark.integration

BUSY = (64 * 1024, 10)


class Consumer:
    """An aiokafka consumer of one partition whose fetches are recorded as (min bytes, wait)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.tp = TopicPartition(topic, 0)
        self.kafka = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            fetch_min_bytes=BUSY[0],
            fetch_max_wait_ms=BUSY[1],
        )
        self.fetches: list[tuple[int, int]] = []

    async def start(self, bounds: FetchBounds | None) -> None:
        await self.kafka.start()
        self.kafka.assign([self.tp])
        await self.kafka.seek_to_end(self.tp)
        fetcher = self.kafka._fetcher
        if bounds is not None:
            adapt(fetcher, bounds)
        fetch = fetcher._proc_fetch_request

        async def recorded(assignment: Any, node_id: int, request: Any) -> bool:
            self.fetches.append((request._min_bytes, request._max_wait_ms))
            return bool(await fetch(assignment, node_id, request))

        fetcher._proc_fetch_request = recorded

    async def idle(self, seconds: float) -> int:
        """Fetches sent over ``seconds`` with nothing to read."""
        before = len(self.fetches)
        assert await self.kafka.getmany(timeout_ms=int(seconds * 1000)) == {}
        return len(self.fetches) - before


async def _produce(settings: Settings, count: int) -> None:
    """``count`` records on partition 0 of the topic the consumers read, as an app sends."""

    def produce() -> None:
        producer = make_producer(settings)
        try:
            for n in range(count):
                producer.send(settings.topics.rekey, f"report {n}".encode(), partition=0)
            producer.flush()
        finally:
            producer.close()

    await asyncio.to_thread(produce)


def test_an_idle_consumer_fetches_rarely_and_a_busy_one_waits_for_fuller_fetches(
    pipeline: Pipeline,
) -> None:
    bootstrap, topic = pipeline.settings.kafka.bootstrap_servers, pipeline.settings.topics.rekey
    bounds = FetchBounds(*BUSY, idle_wait_ms=500)

    async def run() -> None:
        fixed, adapting = Consumer(bootstrap, topic), Consumer(bootstrap, topic)
        await fixed.start(None)
        await adapting.start(bounds)
        try:
            fixed_idle, adapting_idle = await asyncio.gather(fixed.idle(2.0), adapting.idle(2.0))
            assert fixed_idle >= 50  # noqa: PLR2004 - one every ~10 ms
            assert adapting_idle <= 8  # noqa: PLR2004 - one every 500 ms, and a few at the start
            assert adapting.fetches[-1] == (1, 500)

            await _produce(pipeline.settings, 300)
            got = 0
            while got < 300:  # noqa: PLR2004
                batch = await adapting.kafka.getmany(timeout_ms=2000)
                assert batch, "the records did not arrive"
                got += sum(len(records) for records in batch.values())
            assert BUSY in adapting.fetches  # a fetch after one with records waits again
        finally:
            await fixed.kafka.stop()
            await adapting.kafka.stop()

    asyncio.run(run())


def test_the_first_record_after_a_quiet_spell_is_answered_at_once(pipeline: Pipeline) -> None:
    bootstrap, topic = pipeline.settings.kafka.bootstrap_servers, pipeline.settings.topics.rekey
    bounds = FetchBounds(*BUSY, idle_wait_ms=5000)  # far longer than the wait allowed below

    async def run() -> float:
        consumer = Consumer(bootstrap, topic)
        await consumer.start(bounds)
        try:
            await consumer.idle(1.0)
            assert consumer.fetches[-1] == (1, 5000)  # a long poll is in flight
            sent = time.monotonic()
            await _produce(pipeline.settings, 1)
            assert await consumer.kafka.getmany(timeout_ms=4000), "the record did not arrive"
            return time.monotonic() - sent
        finally:
            await consumer.kafka.stop()

    assert asyncio.run(run()) < 2.0  # the broker answered at the first byte, not after 5 s
