"""Read a topic from its start to its current end, without a consumer group.

For people and tests: showing the DLQ, counting what intake accepted. Reading with no group
never moves anybody's committed offsets.
"""

from __future__ import annotations

from collections.abc import Iterator

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from streams.settings import KafkaSettings, kafka_client_options

__all__ = ["read_range", "read_topic"]


def read_topic(
    kafka: KafkaSettings | list[str], topic: str, *, idle_timeout_ms: int = 5000
) -> Iterator[ConsumerRecord]:
    """Every record now on ``topic``, partition by partition in offset order."""
    consumer = KafkaConsumer(
        **kafka_client_options(kafka),
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=idle_timeout_ms,
    )
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        remaining = {tp: end for tp, end in consumer.end_offsets(partitions).items() if end > 0}
        for record in consumer if remaining else ():
            yield record
            tp = TopicPartition(record.topic, record.partition)
            if record.offset + 1 >= remaining.get(tp, 0):
                remaining.pop(tp, None)
            if not remaining:
                return
    finally:
        consumer.close()


def read_range(
    kafka: KafkaSettings | list[str], topic: str, partition: int, start: int, stop: int
) -> list[tuple[int, bytes]]:
    """The (offset, value) of one partition's records from ``start`` up to ``stop`` (excluded)."""
    if stop <= start:
        return []
    consumer = KafkaConsumer(
        **kafka_client_options(kafka),
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=5000,
    )
    tp = TopicPartition(topic, partition)
    try:
        consumer.assign([tp])
        consumer.seek(tp, start)
        found: list[tuple[int, bytes]] = []
        for record in consumer:
            if record.offset >= stop:
                break
            found.append((record.offset, record.value))
            if record.offset + 1 >= stop:
                break
        return found
    finally:
        consumer.close()
