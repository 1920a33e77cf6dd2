"""The plain aiokafka baseline: consume a batch, process it, produce, wait for acks, commit.

    source ──getmany──> process() ──BatchBuilder per (topic, partition)──> accepted, findings,
                        (work.py)                                            dlq, seen
             <──commit── after every send of the batch is acked

At-least-once and nothing more: offsets are committed only after the batch's outputs are
acknowledged (acks=all), dedup is an in-memory dict of report ids whose every addition is
also written to a compacted ``seen`` topic keyed by report_id (the role of Faust's table
changelog), and a partition assigned to this process first reads its ``seen`` partition
back. Records are appended to producer batches directly (``create_batch``/``send_batch``)
rather than through ``send()`` per record, which is the fastest the client allows.

Run as ``python -m streams.bench_peers.plain_loop '<PeerConfig JSON>'``; SIGTERM stops it.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Iterable
from typing import Any

import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError
from aiokafka.structs import TopicPartition

from streams.bench_peers.progress import PeerConfig, ProgressWriter
from streams.bench_peers.work import Accepted, Outcome, Record, Rejected, Tally, partition_of
from streams.bench_peers.work import process as process_one
from streams.pii_vault import PiiVault
from streams.triage import load_engine

__all__ = ["Batches", "SeenRestorer", "commit", "committable", "main", "run"]

MAX_RECORDS = 5000  # per getmany: large batches amortise the commit and the acks wait


class Batches:
    """Producer batches per (topic, partition), sent when full and at the end of a batch."""

    def __init__(self, producer: AIOKafkaProducer, partitions: int) -> None:
        self.producer = producer
        self.partitions = partitions
        self.open: dict[tuple[str, int], Any] = {}
        self.sent: list[asyncio.Future[Any]] = []
        self._spread = 0  # unkeyed records (dead letters) go round-robin

    async def add(self, topic: str, record: Record) -> None:
        """Append one record to its partition's batch."""
        if record.key is None:
            self._spread += 1
            partition = self._spread % self.partitions
        else:
            partition = partition_of(record.key, self.partitions)
        batch = self.open.get((topic, partition))
        if batch is None:
            batch = self.open[(topic, partition)] = self.producer.create_batch()
        meta = batch.append(
            key=record.key, value=record.value, timestamp=None, headers=record.headers
        )
        if meta is None:  # full: send it and start another
            await self._send(topic, partition)
            batch = self.open[(topic, partition)] = self.producer.create_batch()
            batch.append(key=record.key, value=record.value, timestamp=None, headers=record.headers)

    async def flush(self) -> None:
        """Send every open batch and wait until all the batch's sends are acknowledged."""
        for topic, partition in list(self.open):
            await self._send(topic, partition)
        sent, self.sent = self.sent, []
        await asyncio.gather(*sent)

    async def _send(self, topic: str, partition: int) -> None:
        batch = self.open.pop((topic, partition))
        batch.close()
        self.sent.append(await self.producer.send_batch(batch, topic, partition=partition))


class SeenRestorer(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, read the assigned partitions of the ``seen`` topic into the dict."""

    def __init__(self, config: PeerConfig, seen: dict[str, bytes]) -> None:
        self.config = config
        self.seen = seen

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Nothing to do: every batch is committed before the next poll."""

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        """Read the ``seen`` partitions matching the assigned source partitions."""
        wanted = [TopicPartition(self.config.seen, tp.partition) for tp in assigned]
        if not wanted:
            return
        reader = AIOKafkaConsumer(
            bootstrap_servers=self.config.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # no group: from the beginning
        )
        await reader.start()
        try:
            reader.assign(wanted)
            ends = await reader.end_offsets(wanted)
            while any([await reader.position(tp) < ends[tp] for tp in wanted]):
                for records in (await reader.getmany(timeout_ms=500)).values():
                    self.seen.update((r.key.decode(), r.value) for r in records)
        finally:
            await reader.stop()


async def run(config: PeerConfig, stop: asyncio.Event) -> Tally:
    """Drain the source until ``stop`` is set; what was done."""
    vault, tally, seen = PiiVault(None), Tally(), dict[str, bytes]()
    load_engine()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=config.bootstrap,
        group_id=config.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=32 * 1024 * 1024,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=config.bootstrap, acks="all", linger_ms=5, max_batch_size=512 * 1024
    )
    consumer.subscribe([config.source], listener=SeenRestorer(config, seen))
    await producer.start()
    await consumer.start()
    writer = ProgressWriter(config.progress, tally.as_dict)
    writer.start()
    try:
        batches = Batches(producer, config.partitions)
        while not stop.is_set():
            polled = await consumer.getmany(timeout_ms=200, max_records=MAX_RECORDS)
            if polled:
                await handle(polled, batches, seen, vault, tally, config)
                await commit(consumer, committable(polled, consumer.assignment()))
    finally:
        writer.stop()
        await consumer.stop()
        await producer.stop()
    return tally


def committable(
    polled: dict[TopicPartition, list[Any]], assigned: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    """The offsets after each polled partition's last record, for those still assigned.

    A rebalance while a batch was handled may have revoked some of its partitions: committing
    them raises, and their next owner reads those records again (their outputs are out, and
    the seen topic has them, so none is accepted twice).
    """
    still = set(assigned)
    return {tp: rs[-1].offset + 1 for tp, rs in polled.items() if tp in still and rs}


async def commit(consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
    """Commit ``offsets``; a group that rebalanced meanwhile refuses, as above."""
    if not offsets:
        return
    try:
        await consumer.commit(offsets)
    except CommitFailedError:
        pass  # the partitions' next owners read these records again


async def handle(
    polled: dict[TopicPartition, list[Any]],
    batches: Batches,
    seen: dict[str, bytes],
    vault: PiiVault,
    tally: Tally,
    config: PeerConfig,
) -> None:
    """Process one polled batch and send its outputs; return when all are acknowledged."""
    for tp, records in polled.items():
        for r in records:
            outcome = process_one(
                r.value, r.key, tp.topic, tp.partition, r.offset, seen=seen, vault=vault
            )
            await emit(outcome, batches, seen, config)
            tally.add(outcome, time.time())
    await batches.flush()


async def emit(
    outcome: Outcome, batches: Batches, seen: dict[str, bytes], config: PeerConfig
) -> None:
    """Append one outcome's records; an accepted report is remembered at once."""
    match outcome:
        case Accepted():
            await batches.add(config.accepted, outcome.accepted)
            await batches.add(config.findings, outcome.findings)
            await batches.add(config.seen, outcome.seen)
            seen[outcome.report_id] = outcome.seen.value
        case Rejected(letter):
            await batches.add(config.dlq, letter)


def main(argv: list[str] | None = None) -> int:
    """Entry point: the config as the one argument."""
    config = PeerConfig.from_json((argv or sys.argv[1:])[0])

    async def _main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await run(config, stop)

    uvloop.run(_main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
