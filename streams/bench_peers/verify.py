"""Check that a variant did all the work: every valid report accepted once, triaged once.

Nobody may win the throughput bench by skipping work, so after each drain the outputs are
read back (committed records only, so an exactly-once variant's aborted writes do not count)
and compared with what the backlog holds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from streams.reconcile import REPORT_ID_HEADER

__all__ = ["Expected", "TopicCount", "check", "count_topic"]


@dataclass(frozen=True)
class Expected:
    """What the backlog holds: messages, distinct valid reports, app retries, bad payloads."""

    messages: int
    valid: int
    retries: int
    invalid: int


@dataclass(frozen=True)
class TopicCount:
    """Records on one output topic and the distinct report ids among them (by header)."""

    records: int
    distinct: int


def check(
    expected: Expected, accepted: TopicCount, findings: TopicCount, dlq: TopicCount
) -> list[str]:
    """What is wrong with a variant's outputs (empty: accepted = findings = valid, once each)."""
    problems = []
    for name, count in (("accepted", accepted), ("findings", findings)):
        if count.distinct != expected.valid:
            problems.append(f"{name}: {count.distinct} distinct reports, expected {expected.valid}")
        if count.records != count.distinct:
            problems.append(f"{name}: {count.records - count.distinct} duplicates")
    if dlq.records != expected.invalid:
        problems.append(f"dlq: {dlq.records} dead letters, expected {expected.invalid}")
    return problems


async def count_topic(
    bootstrap: str, topic: str, partitions: int, idle_s: float = 10.0
) -> TopicCount:
    """Count the committed records of ``topic`` and their distinct ``gw-report-id`` headers."""
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        # no group, so no committed offsets: every partition starts at its beginning (an
        # explicit seek_to_beginning raced with the default "latest" reset and lost at times)
        auto_offset_reset="earliest",
    )
    await reader.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        reader.assign(parts)
        ends = await reader.end_offsets(parts)
        records, ids = 0, set[bytes]()
        deadline = asyncio.get_running_loop().time() + idle_s
        while any([await reader.position(tp) < ends[tp] for tp in parts]):
            polled = await reader.getmany(timeout_ms=500, max_records=10_000)
            for batch in polled.values():
                records += len(batch)
                ids.update(v for r in batch for k, v in r.headers if k == REPORT_ID_HEADER)
            if polled:
                deadline = asyncio.get_running_loop().time() + idle_s
            elif asyncio.get_running_loop().time() > deadline:
                break
        return TopicCount(records, len(ids))
    finally:
        await reader.stop()
