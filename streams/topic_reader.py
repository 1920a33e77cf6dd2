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
) -> list[ConsumerRecord]:
    """The records of one partition in [start, stop), or from its log start if that is later.

    Raises when fewer records come back than the partition holds in that range (the broker
    did not answer in time): a caller counting them must not count a part.
    """
    tp = TopicPartition(topic, partition)
    consumer = KafkaConsumer(
        **kafka_client_options(kafka),
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=5000,
    )
    try:
        consumer.assign([tp])
        first = max(start, consumer.beginning_offsets([tp])[tp])  # older ones expired
        consumer.seek(tp, first)
        found = [] if first >= stop else _take_until(consumer, stop)
    finally:
        consumer.close()
    if len(found) != max(0, stop - first):
        msg = f"read {len(found)} of {stop - first} records of {topic}[{partition}]"
        raise RuntimeError(msg)
    return found


def _take_until(consumer: KafkaConsumer, stop: int) -> list[ConsumerRecord]:
    found = []
    for record in consumer:
        if record.offset >= stop:
            break
        found.append(record)
        if record.offset + 1 >= stop:
            break
    return found
