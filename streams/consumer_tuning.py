"""Let the worker's consumer wait a little for a fuller fetch; Faust offers no setting for it.

Faust builds its aiokafka consumer with ``fetch_max_wait_ms=1500`` and aiokafka's default
``fetch_min_bytes=1``: the broker answers a fetch as soon as one record is there. Draining a
backlog, every fetch is full anyway; at a steady trickle (a city's live traffic) each one
carries a few records, and the consumer thread and the agents pay their per-batch cost
hundreds of times a second. A minimum size with a short wait trades a few milliseconds of
latency per hop for far fewer, fuller batches.

That short wait alone made an idle worker fetch a hundred times a second (12% of a core
here, and the broker's time to answer). So the bounds follow the traffic: after a fetch that
brought nothing, the next one asks for any byte and may wait ``idle_wait_ms`` (the broker
answers it at the first record, so the first report after a quiet spell is not delayed); after
one that brought records, the next waits for a fuller batch again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

__all__ = ["FetchBounds", "adapt", "install"]

_create_worker_consumer = AIOKafkaConsumerThread._create_worker_consumer


@dataclass(frozen=True)
class FetchBounds:
    """What a fetch asks the broker for while records flow, and while none do."""

    min_bytes: int
    max_wait_ms: int
    idle_wait_ms: int

    def after(self, fetched: bool) -> tuple[int, int]:
        """(min bytes, max wait ms) of the next fetch, given whether the last one had records."""
        return (self.min_bytes, self.max_wait_ms) if fetched else (1, self.idle_wait_ms)


def adapt(fetcher: Any, bounds: FetchBounds) -> None:
    """Make an aiokafka ``Fetcher`` set each fetch's bounds from the one before (``after``).

    Wraps the fetcher's ``_proc_fetch_request`` (aiokafka 0.14), which sends one fetch and
    returns whether it added records; the next request is built from the two attributes.
    One pair for the fetcher: with partitions led by several brokers, the last answer of any
    of them sets the bounds of the next fetch to each.
    """
    fetch: Callable[..., Awaitable[bool]] = fetcher._proc_fetch_request

    async def fetch_and_adapt(*args: Any) -> bool:
        fetched = await fetch(*args)
        fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms = bounds.after(bool(fetched))
        return fetched

    fetcher._proc_fetch_request = fetch_and_adapt


def install(bounds: FetchBounds) -> None:
    """Make every worker consumer Faust creates from now on fetch within ``bounds``."""

    def create(self: AIOKafkaConsumerThread, transport: Any) -> Any:
        consumer = _create_worker_consumer(self, transport)
        # Read by AIOKafkaConsumer.start() when it builds its fetcher; not yet started here.
        consumer._fetch_min_bytes = bounds.min_bytes
        consumer._fetch_max_wait_ms = bounds.max_wait_ms
        start = consumer.start

        async def start_and_adapt() -> None:
            await start()
            adapt(consumer._fetcher, bounds)

        consumer.start = start_and_adapt
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = create  # type: ignore[method-assign]
