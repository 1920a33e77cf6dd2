"""Let the worker's consumer wait a little for a fuller fetch; Faust offers no setting for it.

Faust builds its aiokafka consumer with ``fetch_max_wait_ms=1500`` and aiokafka's default
``fetch_min_bytes=1``: the broker answers a fetch as soon as one record is there. Draining a
backlog, every fetch is full anyway; at a steady trickle (a city's live traffic) each one
carries a few records, and the consumer thread and the agents pay their per-batch cost
hundreds of times a second. A minimum size with a short wait trades a few milliseconds of
latency per hop for far fewer, fuller batches.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

__all__ = ["install"]

_create_worker_consumer = AIOKafkaConsumerThread._create_worker_consumer


def install(min_bytes: int, max_wait_ms: int) -> None:
    """Make every worker consumer Faust creates from now on fetch with these bounds."""

    def create(self: AIOKafkaConsumerThread, transport: Any) -> Any:
        consumer = _create_worker_consumer(self, transport)
        # Read by AIOKafkaConsumer.start() when it builds its fetcher; not yet started here.
        consumer._fetch_min_bytes = min_bytes
        consumer._fetch_max_wait_ms = max_wait_ms
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = create  # type: ignore[method-assign]
