"""Gauges for the command center: open and overdue escalations, and consumer lag.

Each worker reports what it owns (its partitions of ``alerts.escalations``, its assigned
source partitions), so summing over workers in Prometheus gives the city.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from time import perf_counter

import faust
from faust.types import TP
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from schemas.escalation import escalation_event_adapter
from streams.app import app, metrics, settings
from streams.escalation.overview import apply_event, overview
from streams.topics import escalations_topic

__all__ = ["LagReader", "escalation_board", "publish_gauges", "watch_escalations"]

log = logging.getLogger(__name__)

# escalation id -> a small entry while it is not resolved (streams/escalation/overview.py)
escalation_board = app.Table(
    "cc-escalations",
    default=None,
    schema=faust.Schema(key_serializer="json", value_serializer="json"),
)


@app.agent(escalations_topic)
async def watch_escalations(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    """Keep the board of unresolved escalations from their lifecycle events."""
    async for event in stream.events():
        started = perf_counter()
        try:
            escalation = escalation_event_adapter.validate_json(event.value)
            key = escalation.escalation_id
            entry = apply_event(escalation_board.get(key), escalation, event.message.partition)
            if entry is None:
                escalation_board.pop(key, None)
            else:
                escalation_board[key] = entry
        except Exception:  # noqa: BLE001 - a bad event must not stop the board; it is counted
            log.exception(
                "escalation board: cannot apply the event at offset %s", event.message.offset
            )
        metrics.processed("watch_escalations", started)
        yield None


def _owned_entries() -> Iterable[dict[str, object]]:
    owned = {
        tp.partition for tp in app.consumer.assignment() if tp.topic == settings.topics.escalations
    }
    return (e for e in escalation_board.values() if e.get("partition") in owned)


@app.timer(interval=5.0)  # type: ignore[untyped-decorator]
async def publish_gauges() -> None:
    """Turn this worker's share of the board into gauges."""
    view = overview(_owned_entries(), time.time())
    metrics.escalations_open.clear()
    for (code, level), count in view.open_by_code_level.items():
        metrics.escalations_open.labels(code, str(level)).set(count)
    metrics.escalations_overdue.clear()
    for code, count in view.overdue_by_code.items():
        metrics.escalations_overdue.labels(code).set(count)
    metrics.escalation_oldest_unacknowledged.clear()
    for code, age in view.oldest_unacknowledged_s.items():
        metrics.escalation_oldest_unacknowledged.labels(code).set(age)


class LagReader:
    """Committed offsets of the group and end offsets, with kafka-python (run in a thread)."""

    def __init__(self, bootstrap: list[str], group: str) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self._admin: KafkaAdminClient | None = None
        self._consumer: KafkaConsumer | None = None

    def lag(self, partitions: list[TP]) -> dict[TP, int]:
        """End offset minus committed offset for each partition (all of it if none committed)."""
        if self._admin is None or self._consumer is None:
            self._admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
            self._consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        wanted = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        committed = self._admin.list_group_offsets({self.group: wanted}).get(self.group, {})
        ends = self._consumer.end_offsets(wanted)
        lags = {}
        for tp in partitions:
            kafka_tp = TopicPartition(tp.topic, tp.partition)
            meta = committed.get(kafka_tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lags[tp] = max(0, ends.get(kafka_tp, 0) - done)
        return lags


_lag_reader = LagReader(settings.kafka.bootstrap_list, settings.app_id)
# The topics agents read (not table changelogs, not Faust's leader-election topic).
_SOURCE_TOPICS = frozenset(
    name for field, name in settings.topics if field not in ("dlq", "alerts_dlq")
)


@app.timer(interval=15.0)  # type: ignore[untyped-decorator]
async def measure_lag() -> None:
    """Consumer lag of the source partitions this worker owns (changelogs left out)."""
    owned = [tp for tp in app.consumer.assignment() if tp.topic in _SOURCE_TOPICS]
    try:
        lags = await asyncio.to_thread(_lag_reader.lag, owned)
    except Exception as exc:  # noqa: BLE001 - a metric must not take the worker down
        log.warning("reading consumer lag failed: %r", exc)
        return
    metrics.consumer_lag.clear()
    for tp, lag in lags.items():
        metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)
