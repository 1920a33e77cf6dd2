"""The outbox: records batched per partition, handed over in order, before every commit."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch
from faust.transport.drivers.aiokafka import Producer
from faust.types import TP

from streams import outbox
from streams.app import app, outputs
from streams.outbox import Outbox


class FakeProducer:
    """The part of ``AIOKafkaProducer`` the outbox uses; each batch's delivery is ours to settle."""

    def __init__(self, batch_size: int = 16384, partitions: int = 1) -> None:
        self.batch_size = batch_size
        self._metadata = SimpleNamespace(partitions_for_topic=lambda _: set(range(partitions)))
        self.sent: list[tuple[str, int, list[tuple[bytes | None, bytes | None, list[Any]]]]] = []
        self.deliveries: list[asyncio.Future[Any]] = []
        self.client = SimpleNamespace(_wait_on_metadata=AsyncMock())

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(self.batch_size, 0)

    def _partition(self, topic: str, partition: int | None, *_: object) -> int:
        return 0 if partition is None else partition

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> Any:
        records = DefaultRecordBatch(bytearray(batch._build()))
        self.sent.append((topic, partition, [(r.key, r.value, r.headers) for r in records]))
        delivery = asyncio.get_running_loop().create_future()
        self.deliveries.append(delivery)
        return delivery

    def values(self) -> list[tuple[str, int, list[bytes | None]]]:
        return [(t, p, [value for _, value, _ in records]) for t, p, records in self.sent]


@pytest.fixture
def fake() -> FakeProducer:
    return FakeProducer()


@pytest.fixture(autouse=True)
def outbox_as_topic_sends() -> None:
    """The real ``Outbox.add`` here (the conftest's fixture of this name routes it to sends)."""


def an_outbox(fake: FakeProducer, linger: float = 0.001) -> Outbox:
    box = Outbox(lambda: fake, linger=linger)
    outbox._before_flush.remove(box.hand_over)  # not the app's: keep Faust's flush as it is
    return box


async def test_records_of_a_partition_leave_together_in_order_after_the_linger(fake):
    box = an_outbox(fake, linger=0.01)
    for i in range(3):
        await box.add("grid.findings", b"g", f"v{i}".encode(), headers={"h": b"1"})
    box.append("grid.findings", None, b"other", partition=2)
    assert fake.sent == [] and box.pending == 4
    await asyncio.sleep(0.05)
    assert fake.values() == [
        ("grid.findings", 0, [b"v0", b"v1", b"v2"]),
        ("grid.findings", 2, [b"other"]),
    ]
    assert fake.sent[0][2][0][2] == [("h", b"1")]
    assert box.pending == 0


async def test_a_keyed_record_goes_where_kafkas_default_partitioner_puts_its_key():
    fake = FakeProducer(partitions=12)
    box = an_outbox(fake, linger=0.001)
    keys = [f"330206-MS-{n}".encode() for n in range(40)]
    for key in keys:
        await box.add("grid.findings", key, key)
    await box.hand_over()
    placed = {value: partition for _, partition, values in fake.values() for value in values}
    assert placed == {key: (aiokafka_murmur2(key) & 0x7FFFFFFF) % 12 for key in keys}
    assert len(set(placed.values())) > 6  # spread, not all on one partition


async def test_a_full_batch_leaves_at_once_and_before_the_next_one(fake):
    fake.batch_size = 200
    box = an_outbox(fake, linger=60.0)
    values = [bytes([65 + i]) * 60 for i in range(5)]
    for value in values:
        box.append("t", None, value, partition=1)
    await asyncio.sleep(0.01)  # only the full batches: the linger is a minute
    assert [v for _, _, vs in fake.values() for v in vs] == values[: len(values) - box.pending]
    assert len(fake.sent) >= 1
    await box.hand_over()
    assert [v for _, _, vs in fake.values() for v in vs] == values


async def test_faust_producer_flush_hands_the_outbox_over_first(fake):
    box = Outbox(lambda: fake, linger=60.0)
    try:
        box.append("t", b"k", b"v", partition=0)
        calls: list[str] = []
        faust_producer = SimpleNamespace(
            buffer=SimpleNamespace(flush=AsyncMock(side_effect=lambda: calls.append("faust"))),
            _producer=None,
            _transaction_producers={},
        )
        with patch.object(Producer, "flush", outbox._flush_outboxes_first):
            await Producer.flush(faust_producer)  # type: ignore[arg-type]
        assert fake.values() == [("t", 0, [b"v"])]
        assert calls == ["faust"]
    finally:
        outbox._before_flush.remove(box.hand_over)


async def test_delivered_hears_the_last_offset_of_its_batch(fake):
    box = an_outbox(fake)
    heard: list[tuple[TP, int]] = []
    for value in (b"a", b"b", b"c"):
        box.append("t-changelog", b"k", value, partition=3, delivered=lambda *a: heard.append(a))
    await box.hand_over()
    fake.deliveries[0].set_result(SimpleNamespace(offset=100))
    await asyncio.sleep(0)
    assert heard == [(TP("t-changelog", 3), 102)]


async def test_the_log_end_of_what_it_delivered_is_kept_per_partition(fake):
    box = an_outbox(fake)
    for value in (b"a", b"b"):
        await box.add("alerts.commands", None, value, partition=1)
    await box.hand_over()
    await box.add("alerts.commands", None, b"c", partition=1)
    await box.hand_over()
    assert box.produced == {}, "nothing delivered yet"
    fake.deliveries[1].set_result(SimpleNamespace(offset=52))  # settled out of order
    fake.deliveries[0].set_result(SimpleNamespace(offset=50))
    await asyncio.sleep(0)
    assert box.produced == {("alerts.commands", 1): 53}, "the end never moves back"


async def test_a_failed_batch_fails_the_next_hand_over(fake):
    box = an_outbox(fake)
    box.append("t", b"k", b"v", partition=0)
    await box.hand_over()
    fake.deliveries[0].set_exception(RuntimeError("not delivered"))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="not delivered"):
        await box.hand_over()


async def test_table_changelogs_go_through_the_outbox(fake):
    from streams.intake import seen_reports  # noqa: PLC0415

    app.finalize()
    with (
        patch.object(outputs, "producer", lambda: fake),
        patch.object(seen_reports, "partition_for_key", return_value=3),
    ):
        seen_reports.on_key_set("r-0001", ["grid.reports", 3, 17])  # what a table write calls
        seen_reports.on_key_del("r-0002")  # and a delete
        await outputs.hand_over()
    ((topic, partition, records),) = fake.sent
    assert topic == seen_reports.changelog_topic.get_topic_name()
    assert partition == 3
    (key, value, _), (deleted, tombstone, _) = records
    assert (json.loads(key), json.loads(value)) == ("r-0001", ["grid.reports", 3, 17])
    assert (json.loads(deleted), tombstone) == ("r-0002", None)
