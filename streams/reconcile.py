"""After a crash, find what the dead worker already forwarded, so it is not forwarded twice.

Intake is at-least-once: a worker killed between forwarding a report and committing its
offset leaves the forward on ``grid.reports.accepted`` while the message is read again. The
seen table cannot help (its changelog write may be lost in the same crash), so the output
itself is the record. Every accepted message carries headers naming its report_id and the
source message; the reports, rekey and accepted topics use broker time (LogAppendTime). A
forward of source message *o* can only have happened after *o* was appended, so after every
rebalance, once partitions are assigned and before any message flows again, the output
records appended since the first uncommitted source message (less a margin for clock skew
between brokers) are read, and the report_ids forwarded from a source partition at or after
its committed offset are treated as already forwarded.

Faust's own ``exactly_once`` was tried and rejected: its transactional producer is chosen by
the destination partition, so forwards to a topic keyed differently (by grid_id) committed
without their source offsets, and a SIGKILL duplicated every forward since the last commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any

import faust
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.consumer.fetcher import ConsumerRecord
from prometheus_client import Counter

from streams.settings import KafkaSettings

__all__ = [
    "REPORT_ID_HEADER",
    "ReadBack",
    "SKEW_MARGIN_SECONDS",
    "SOURCE_HEADER",
    "forward_headers",
    "forwarded_since_commit",
    "parse_source",
    "read_back",
    "source_header",
]

log = logging.getLogger(__name__)

SOURCE_HEADER = "gw-source"
REPORT_ID_HEADER = "gw-report-id"
# Broker clocks of one cluster are NTP-synchronised; a minute covers any sane skew.
SKEW_MARGIN_SECONDS = 60.0
SCAN_TIMEOUT_SECONDS = 120.0


class ReadBack:
    """One stage's read-back: what it forwarded from its sources to ``output`` uncommitted.

    It runs once a rebalance has assigned partitions, on Faust's ``on_rebalance_complete``:
    the tables are recovered, and the stream partitions are still paused, not yet sought to
    their committed offsets. By then every member has revoked its partitions, and Faust's
    revoke waits for the agents' messages in flight, then flushes the producer, before the
    member rejoins: the group's join barrier puts every forward of an old owner in the
    output before any partition is assigned. Faust does not commit at revocation, so the
    committed offsets read here are where the new owners will start (they seek after this
    signal), and the end offsets close the window after the old owners' last messages.

    A read-back at revocation was too early for a worker joining the group: its own revoke
    fires at once, while the other members go on forwarding until a heartbeat tells them
    of the rebalance (up to ``broker_heartbeat_interval``). ``done`` is cleared on revoke
    (after Faust's wait for the messages in flight, so no agent holds one) and set by the
    read-back of the latest rebalance, before the streams resume: agents never wait for it
    with a message in hand, so Faust's clearing of agent buffers at the next rebalance
    cannot drop one. A read-back outlived by another rebalance is discarded (and, when
    Faust cancels its recovery step, cancelled); the next one runs at its assignment.
    """

    def __init__(
        self, sources: tuple[str, ...], output: str, partitions: int, found: Counter | None = None
    ) -> None:
        self.sources = [(topic, p) for topic in sources for p in range(partitions)]
        self.output = output
        self.found = found  # counts the ids each read-back found, when given
        self.forwarded: set[str] = set()
        self.window: Window = {}
        self.done = asyncio.Event()  # set while what was read back covers the assignment
        self.rebalances_begun = 0  # rebalances begun, so a read-back they outlive is discarded

    def in_window(self, topic: str, partition: int, offset: int) -> bool:
        """Whether a source message is between the last commit and the read-back.

        What a dead owner recorded about such a message is unconfirmed unless the read-back
        found its output.
        """
        first, end = self.window.get((topic, partition), (0, 0))
        return first <= offset < end

    def attach(self, app: faust.App, kafka: KafkaSettings, group: str) -> None:
        """Read back after every rebalance of ``app``'s group, with its other stages.

        The stages of one app read back together, with one replay window. Intake triages
        again a retry in its window whose report was forwarded, unless triage's stage holds
        its findings: with a window each, read seconds apart while reports kept arriving, a
        report forwarded between the two ends was known to one stage only, and a retry of
        it sent its findings a second time.
        """
        stages = _stages.get(app)
        if stages is None:
            stages = _stages[app] = []
            _connect(app, stages, kafka, group)
        if stages and stages[0].sources != self.sources:
            msg = f"{self.output}: the stages of one app read back the same sources"
            raise ValueError(msg)
        stages.append(self)

    def rebalancing(self) -> None:
        """A rebalance began: what was read back no longer covers it."""
        self.rebalances_begun += 1
        self.done.clear()

    def update(self, forwarded: set[str], window: Window) -> None:
        """Take what a read-back found; the agents may go on."""
        self.forwarded, self.window = forwarded, window
        if self.found is not None:
            self.found.inc(len(forwarded))
        self.done.set()


# app -> its stages, which read back together (ReadBack.attach)
_stages: weakref.WeakKeyDictionary[Any, list[ReadBack]] = weakref.WeakKeyDictionary()


def _connect(app: faust.App, stages: list[ReadBack], kafka: KafkaSettings, group: str) -> None:
    async def on_revoked(sender: Any, /, *args: Any, signal: Any = None, **kw: Any) -> None:
        for stage in stages:
            stage.rebalancing()

    async def on_recovered(sender: Any, /, *args: Any, signal: Any = None, **kw: Any) -> None:
        await read_back(stages, kafka, group)

    app.on_partitions_revoked.connect(on_revoked)
    app.on_rebalance_complete.connect(on_recovered)


async def read_back(stages: list[ReadBack], kafka: KafkaSettings, group: str) -> None:
    """Read back every stage; retried until it succeeds, since going on could duplicate.

    Discarded when a rebalance began meanwhile: that one's read-back follows.
    """
    rebalances = [stage.rebalances_begun for stage in stages]
    outputs = [stage.output for stage in stages]
    while True:
        try:
            found, window = await asyncio.to_thread(
                forwarded_since_commit, kafka, group, outputs, stages[0].sources
            )
            break
        except Exception as exc:  # noqa: BLE001 - retry: the broker may be restarting
            log.warning("reading back %s failed (%r); retrying", outputs, exc)
            await asyncio.sleep(2)
    if rebalances != [stage.rebalances_begun for stage in stages]:
        log.info("reading back %s: a rebalance began meanwhile; discarded", outputs)
        return
    for stage in stages:
        stage.update(found[stage.output], window)


def forward_headers(topic: str, partition: int, offset: int, report_id: str) -> dict[str, bytes]:
    """The headers every forwarded record carries, so a read-back can recognise it."""
    return {
        SOURCE_HEADER: source_header(topic, partition, offset),
        REPORT_ID_HEADER: report_id.encode(),
    }


def source_header(topic: str, partition: int, offset: int) -> bytes:
    """The header value naming a source message: ``topic:partition:offset``."""
    return f"{topic}:{partition}:{offset}".encode()


def parse_source(value: bytes) -> tuple[str, int, int]:
    """The inverse of ``source_header``."""
    topic, partition, offset = value.decode().rsplit(":", 2)
    return topic, int(partition), int(offset)


Window = dict[tuple[str, int], tuple[int, int]]


def forwarded_since_commit(
    kafka: KafkaSettings, group: str, outputs: list[str], sources: list[tuple[str, int]]
) -> tuple[dict[str, set[str]], Window]:
    """Per output, the report ids forwarded from ``sources`` at or after the committed offsets.

    Also returns the replay window: source → (first uncommitted offset, end offset now).
    Blocking (kafka-python); run in a thread once a rebalance has assigned partitions.
    """
    consumer = KafkaConsumer(**kafka.client_options(), group_id=None, enable_auto_commit=False)
    try:
        firsts, window = _first_unprocessed(consumer, kafka, group, sources)
        found: dict[str, set[str]] = {output: set() for output in outputs}
        if firsts:
            since = min(timestamp for _offset, timestamp in firsts.values())
            ranges: dict[TopicPartition, tuple[int, int]] = {}
            for output in outputs:
                ranges |= _offsets_since(consumer, output, since)
            for tp, ids in _scan(consumer, ranges, firsts).items():
                found[tp.topic] |= ids
        return found, window
    finally:
        consumer.close()


def _first_unprocessed(
    consumer: KafkaConsumer, kafka: KafkaSettings, group: str, sources: list[tuple[str, int]]
) -> tuple[dict[tuple[str, int], tuple[int, float]], Window]:
    """Where each source's uncommitted messages start, and the replay windows.

    Returns source → (first uncommitted offset, its broker time in seconds) and source →
    (that offset, end offset now), for the sources that have uncommitted records.
    """
    admin = KafkaAdminClient(**kafka.client_options())
    try:
        committed = admin.list_group_offsets({group: None}).get(group, {})
    finally:
        admin.close()
    parts = [TopicPartition(t, p) for t, p in sources]
    beginnings, ends = consumer.beginning_offsets(parts), consumer.end_offsets(parts)
    firsts, window = {}, {}
    for tp in parts:
        meta = committed.get(tp)
        offset = max(meta.offset if meta is not None else 0, beginnings[tp])
        if offset < ends[tp]:  # else nothing is uncommitted there
            firsts[(tp.topic, tp.partition)] = (offset, _timestamp_at(consumer, tp, offset))
            window[(tp.topic, tp.partition)] = (offset, ends[tp])
    return firsts, window


def _timestamp_at(consumer: KafkaConsumer, tp: TopicPartition, offset: int) -> float:
    """Broker time of the record at ``offset`` (which exists)."""
    consumer.assign([tp])
    consumer.seek(tp, offset)
    deadline = time.monotonic() + SCAN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for record in consumer.poll(timeout_ms=1000, max_records=1).get(tp, []):
            return float(record.timestamp) / 1000
    msg = f"no record at {tp.topic}:{tp.partition}@{offset} within {SCAN_TIMEOUT_SECONDS}s"
    raise TimeoutError(msg)


def _offsets_since(
    consumer: KafkaConsumer, topic: str, since_seconds: float
) -> dict[TopicPartition, tuple[int, int]]:
    """Partition → (first offset at or after the time, end offset), for non-empty ranges."""
    parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    since_ms = max(0, int((since_seconds - SKEW_MARGIN_SECONDS) * 1000))
    found = consumer.offsets_for_times({tp: since_ms for tp in parts})
    ends = consumer.end_offsets(parts)
    return {
        tp: (hit.offset, ends[tp])
        for tp, hit in found.items()
        if hit is not None and hit.offset < ends[tp]
    }


def _scan(
    consumer: KafkaConsumer,
    ranges: dict[TopicPartition, tuple[int, int]],
    firsts: dict[tuple[str, int], tuple[int, float]],
) -> dict[TopicPartition, set[str]]:
    """Output partition → the report ids its records in ``ranges`` forwarded since ``firsts``."""
    if not ranges:
        return {}
    consumer.assign(list(ranges))
    for tp, (start, _end) in ranges.items():
        consumer.seek(tp, start)
    found: dict[TopicPartition, set[str]] = {}
    remaining = {tp: end for tp, (_start, end) in ranges.items()}
    deadline = time.monotonic() + SCAN_TIMEOUT_SECONDS
    while remaining:
        if time.monotonic() > deadline:
            msg = f"reading {len(remaining)} output partitions took over {SCAN_TIMEOUT_SECONDS}s"
            raise TimeoutError(msg)
        for tp, records in consumer.poll(timeout_ms=1000).items():
            found.setdefault(tp, set()).update(_forwarded(records, firsts))
            if consumer.position(tp) >= remaining.get(tp, 0):
                remaining.pop(tp, None)
    return found


def _forwarded(
    records: list[ConsumerRecord], firsts: dict[tuple[str, int], tuple[int, float]]
) -> set[str]:
    found = set()
    for record in records:
        headers = dict(record.headers or ())
        if SOURCE_HEADER not in headers or REPORT_ID_HEADER not in headers:
            continue
        topic, partition, offset = parse_source(headers[SOURCE_HEADER])
        first = firsts.get((topic, partition))
        if first is not None and offset >= first[0]:
            found.add(headers[REPORT_ID_HEADER].decode())
    return found
