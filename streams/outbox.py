"""The hot path's records, appended straight to the producer's record batches.

    intake's outputs ──add()────┐
    table changelogs ──append()─┴─> open batch per (topic, partition) ──hand_over()──> aiokafka
                                    handed over when full, ``linger`` after the first record,
                                    and before every commit

Faust's ``topic.send`` and its table changelog (``send_soon``, a buffer and a task) wrap
every record in futures and callbacks before aiokafka adds it to a batch, itself with a
future per record. The plain-loop peer of ``gridwatch bench throughput`` appends to batches
itself (``create_batch`` / ``send_batch``), the fastest aiokafka allows; this does the same
inside the worker: one future per batch.

Delivery stays at least once: Faust flushes the producer before it commits offsets and when
partitions are revoked, and ``install`` makes that flush hand the open batches over first, so
an offset is never committed while the output of its message waits here. A batch that fails
for good is raised from the next hand-over, so the commit that would step over it fails.
Records of one partition leave in the order they were added.

It uses three private parts of aiokafka 0.14 (``producer._partition``, the default partitioner
as ``send`` applies it, ``producer._metadata`` for a topic's partitions, and
``client._wait_on_metadata``): re-check them on an upgrade.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from faust.transport.drivers.aiokafka import Producer
from faust.types import TP

from streams.partitioning import remembered_partition_of

__all__ = ["Delivered", "Outbox", "install"]

log = logging.getLogger(__name__)

Delivered = Callable[[TP, int], None]  # (partition, offset of its last record in the batch)

_before_flush: list[Callable[[], Awaitable[None]]] = []
_faust_flush = Producer.flush


async def _flush_outboxes_first(self: Producer) -> None:
    """Faust's ``Producer.flush``, after every outbox has handed its batches over."""
    for hand_over in _before_flush:
        await hand_over()
    await _faust_flush(self)


def install() -> None:
    """Make Faust's producer flush (before commits and on revocation) empty the outboxes."""
    Producer.flush = _flush_outboxes_first  # type: ignore[method-assign]


class _Open:
    """A batch being filled, and whom to tell its last offset once it is delivered."""

    __slots__ = ("batch", "delivered")

    def __init__(self, batch: Any, delivered: Delivered | None) -> None:
        self.batch = batch
        self.delivered = delivered


class Outbox:
    """Open record batches of one producer, per (topic, partition).

    ``producer``: the started ``AIOKafkaProducer``, or None before Faust has started it.
    """

    def __init__(self, producer: Callable[[], Any], linger: float = 0.002) -> None:
        self.producer = producer
        self.linger = linger
        self._open: dict[tuple[str, int], _Open] = {}
        # (topic, partition) -> the offset after the last record delivered: a log end fresher
        # than the consumer's, whose high-water mark is only as new as its last fetch there
        self.produced: dict[tuple[str, int], int] = {}
        self._ready: dict[tuple[str, int], deque[_Open]] = {}  # closed, in order
        self._senders: dict[tuple[str, int], asyncio.Future[None]] = {}
        self._known_topics: set[str] = set()
        self._armed: asyncio.Handle | None = None
        self._failure: BaseException | None = None
        _before_flush.append(self.hand_over)

    @property
    def pending(self) -> int:
        """Records appended and not yet handed over."""
        batches = [o.batch for o in self._open.values()]
        batches += [o.batch for queue in self._ready.values() for o in queue]
        return sum(batch.record_count() for batch in batches)

    async def add(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: Mapping[str, bytes] | None = None,
        partition: int | None = None,
    ) -> None:
        """Append a record to the key's partition (as ``topic.send`` picks it) or ``partition``."""
        producer = self.producer()
        if topic not in self._known_topics:  # the partition count comes from the metadata
            await producer.client._wait_on_metadata(topic)
            self._known_topics.add(topic)
        if partition is None and key is not None:  # the default partitioner, cheaper
            count = len(producer._metadata.partitions_for_topic(topic))
            chosen = remembered_partition_of(key, count)
        else:
            chosen = producer._partition(topic, partition, None, None, key, value)
        self.append(topic, key, value, partition=chosen, headers=headers)

    def append(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int,
        headers: Mapping[str, bytes] | None = None,
        delivered: Delivered | None = None,
    ) -> None:
        """Append a record to ``partition`` of ``topic``; ``delivered`` hears of its batch."""
        tp = (topic, partition)
        record: dict[str, Any] = {"key": key, "value": value, "timestamp": None, "headers": []}
        if headers:
            record["headers"] = list(headers.items())
        current = self._open.get(tp)
        if current is None:
            current = self._open[tp] = _Open(self.producer().create_batch(), delivered)
        if current.batch.append(**record) is None:  # full: it leaves now, the next one starts
            self._ready.setdefault(tp, deque()).append(self._open.pop(tp))
            current = self._open[tp] = _Open(self.producer().create_batch(), delivered)
            current.batch.append(**record)  # an empty batch takes any one record
            self._arm(0.0)
        current.delivered = delivered or current.delivered
        if self._armed is None:
            self._arm(self.linger)

    async def hand_over(self) -> None:
        """Give every batch to the producer, in order; raise a batch that failed for good.

        One task per partition sends, and callers only wait for them: a partition whose
        leader is being elected holds up its own batches, not the others', and a commit
        cancelled mid-way (a rebalance) does not drop the batches it was handing over.
        """
        if self._armed is not None:
            self._armed.cancel()
            self._armed = None
        if self._failure is not None:
            raise self._failure
        for tp, current in self._open.items():
            self._ready.setdefault(tp, deque()).append(current)
        self._open = {}
        for tp, queue in self._ready.items():
            sender = self._senders.get(tp)
            if queue and (sender is None or sender.done()):
                sender = self._senders[tp] = asyncio.ensure_future(self._send_ready(tp, queue))
                sender.add_done_callback(self._check)
        waiting = [sender for sender in self._senders.values() if not sender.done()]
        if waiting:
            await asyncio.shield(asyncio.gather(*waiting))

    async def _send_ready(self, tp: tuple[str, int], queue: deque[_Open]) -> None:
        """Send one partition's batches in order; each leaves the queue once the producer has it."""
        producer = self.producer()
        while queue:
            await self._send(producer, tp, queue[0])
            queue.popleft()
        if self._ready.get(tp) is queue:
            del self._ready[tp]
            del self._senders[tp]

    def _arm(self, delay: float) -> None:
        if self._armed is not None:
            self._armed.cancel()
        self._armed = asyncio.get_running_loop().call_later(delay, self._hand_over_soon)

    def _hand_over_soon(self) -> None:
        self._armed = None
        asyncio.ensure_future(self.hand_over()).add_done_callback(self._check)

    async def _send(self, producer: Any, tp: tuple[str, int], current: _Open) -> None:
        batch = current.batch
        batch.close()
        count = batch.record_count()
        delivery = await producer.send_batch(batch, tp[0], partition=tp[1])

        def settled(future: asyncio.Future[Any]) -> None:
            if not self._check(future):
                return
            end = future.result().offset + count
            self.produced[tp] = max(end, self.produced.get(tp, 0))
            if current.delivered is not None:
                current.delivered(TP(*tp), end - 1)

        delivery.add_done_callback(settled)

    def _check(self, future: asyncio.Future[Any]) -> bool:
        """Whether ``future`` succeeded; the first failure is kept for the next hand-over."""
        if future.cancelled():
            return False
        failure = future.exception()
        if failure is None:
            return True
        if self._failure is None:
            self._failure = failure
            log.error("outbox: a batch was not delivered (%r); the next commit fails", failure)
        return False
