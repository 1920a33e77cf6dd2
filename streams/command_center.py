"""The command center's numbers: live counters, escalation gauges, consumer lag.

Each worker reports what it owns (its partitions of ``alerts.escalations``, its assigned
source partitions), so summing over workers in Prometheus gives the city.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from time import perf_counter
from typing import Any

import faust
from faust import web
from faust.types import TP
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from schemas.escalation import escalation_event_adapter
from streams.app import app, metrics, owned_partitions, revoked_of, settings
from streams.counters import GRAINS, merge, split_outcomes
from streams.escalation.agents import dead_letter
from streams.escalation.overview import Board, apply_event
from streams.escalation.web import authorized
from streams.intake import count_again, counter_part, intake_tally
from streams.settings import KafkaSettings
from streams.topics import escalations_topic

__all__ = [
    "CountersView",
    "OpenEscalationsView",
    "ask_peers",
    "open_escalations",
    "sort_open",
    "LagReader",
    "board_gauges",
    "recount_gauges",
    "escalation_board",
    "local_counts",
    "publish_gauges",
    "watch_escalations",
]

log = logging.getLogger(__name__)

# escalation id -> a small entry while it is not resolved (streams/escalation/overview.py)
escalation_board = app.Table(
    "cc-escalations",
    default=None,
    schema=faust.Schema(key_serializer="json", value_serializer="json"),
)
# The gauges of the board, changed with it by the agent below (a tick does not walk the board).
board_gauges = Board()


@escalation_board.on_recover
async def recount_gauges() -> None:
    """Count the gauges afresh once a rebalance restored the board (restores skip the agent)."""
    board_gauges.recount(escalation_board.values())


@app.agent(escalations_topic)
async def watch_escalations(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    """Keep the board of unresolved escalations from their lifecycle events."""
    async for event in stream.events():
        started = perf_counter()
        try:
            escalation = escalation_event_adapter.validate_json(event.value)
            key = escalation.escalation_id
            before = escalation_board.get(key)
            entry = apply_event(before, escalation, event.message.partition)
            if entry is None:
                escalation_board.pop(key, None)
            else:
                escalation_board[key] = entry
            board_gauges.change(before, entry)
        except Exception as exc:  # noqa: BLE001 - dead-letter, never skip
            await dead_letter("internal_error", repr(exc), event.message, event.value)
        metrics.processed("watch_escalations", started)
        yield None


def _owned_partitions() -> set[int]:
    return owned_partitions(settings.topics.escalations)


@app.timer(interval=5.0)  # type: ignore[untyped-decorator]
async def publish_gauges() -> None:
    """Turn this worker's share of the board into gauges."""
    view = board_gauges.overview(_owned_partitions(), time.time())
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

    def __init__(self, kafka: KafkaSettings, group: str) -> None:
        self.kafka = kafka
        self.group = group
        self._admin: KafkaAdminClient | None = None
        self._consumer: KafkaConsumer | None = None

    def lag(self, partitions: list[TP]) -> dict[TP, int]:
        """End offset minus committed offset for each partition (all of it if none committed)."""
        if self._admin is None or self._consumer is None:
            self._admin = KafkaAdminClient(**self.kafka.client_options())
            self._consumer = KafkaConsumer(**self.kafka.client_options(), group_id=None)
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


_lag_reader = LagReader(settings.kafka, settings.app_id)
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


# -- live counters (streams/counters.py), counted in intake's step (streams/intake.py):
# exact per source partition, merged on request
_CATCH_UP_ATTEMPTS = 3


async def _forget_revoked(sender: object, /, *args: object, **kwargs: object) -> None:
    """A partition taken away may be counted elsewhere: its next owner starts from the table."""
    intake = (settings.topics.reports, settings.topics.rekey)
    intake_tally.forget(
        counter_part(tp.topic, tp.partition)
        for tp in revoked_of(args, kwargs)
        if tp.topic in intake
    )


async def _catch_up(sender: object, /, *args: object, **kwargs: object) -> None:
    """After a rebalance (tables recovered, streams not yet flowing), count what was lost.

    For each intake source partition this worker now owns and has no counts of in memory,
    the messages between the table's flushed-through offset and the group's committed offset
    were counted by a previous owner (or a previous life of this one) that did not flush
    them. They are read again and counted, so the counters are whole before any new message
    arrives. Tried a few times: there is no later catch-up.
    """
    for attempt in range(1, _CATCH_UP_ATTEMPTS + 1):
        intake = [tp for tp in _owned_intake_tps() if counter_part(*tp) not in intake_tally.through]
        if not intake:
            return
        try:
            committed = await asyncio.to_thread(_committed_offsets, intake)
            for topic, partition in intake:
                await _count_intake_gap(topic, partition, committed.get((topic, partition), 0))
            return
        except Exception:  # a rebalance must not fail on counters
            log.exception("counters: catching up after the rebalance failed (try %d)", attempt)
            await asyncio.sleep(2.0)


def _committed_offsets(partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
    wanted = [TopicPartition(topic, p) for topic, p in partitions]
    admin = KafkaAdminClient(**settings.kafka.client_options())
    try:
        found = admin.list_group_offsets({settings.app_id: wanted}).get(settings.app_id, {})
    finally:
        admin.close()
    return {
        (tp.topic, tp.partition): max(0, meta.offset)
        for tp, meta in found.items()
        if meta is not None
    }


async def _count_intake_gap(topic: str, partition: int, up_to: int) -> None:
    """Count again, as they were counted, intake's messages a dead owner did not flush."""
    part = counter_part(topic, partition)
    gap = intake_tally.gap(part, up_to)
    if gap:
        n = await count_again(topic, partition, gap)
        log.info("counters: counted %d messages of %s again (%s)", n, part, gap)
    intake_tally.caught_up(part, up_to)


app.on_partitions_revoked.connect(_forget_revoked)
app.on_rebalance_complete.connect(_catch_up)


def _owned_intake_tps() -> list[tuple[str, int]]:
    intake = (settings.topics.reports, settings.topics.rekey)
    return sorted(
        (tp.topic, tp.partition) for tp in app.consumer.assignment() if tp.topic in intake
    )


def local_counts(grain: str) -> tuple[list[int], dict[str, Any], dict[str, Any]]:
    """This worker's share: reports partitions, reports and findings, intake's outcomes.

    The partitions are those of ``grid.reports`` (their rekey partitions go with them); the
    two others are bucket → counts.
    """
    owned = _owned_intake_tps()
    counts = intake_tally.counts([counter_part(*tp) for tp in owned], grain)
    partitions = sorted({p for topic, p in owned if topic == settings.topics.reports})
    by_district, outcomes = split_outcomes(counts)
    return partitions, by_district, outcomes


@app.page("/counters")
class CountersView(web.View):
    """Reports, findings and intake outcomes by bucket: ``?grain=minute|hour|day``.

    The whole city by default. ``buckets``: reports and findings by district; ``intake``:
    intake's outcomes in the same buckets, apart so that readers of ``buckets`` (the live
    page) see only what is by district. ``partitions`` (and, the same, ``intake_partitions``):
    the reports partitions counted, with their rekey partitions.
    """

    async def get(self, request: web.Request) -> web.Response:
        """This worker's partitions with ``local=1``; else merged with every other worker's."""
        if not authorized(request):
            return self.json({"error": "missing or wrong bearer token"}, status=401)
        grain = request.query.get("grain", "minute")
        if grain not in GRAINS:
            return self.json({"error": f"grain must be one of {list(GRAINS)}"}, status=400)
        owned, by_district, outcomes = local_counts(grain)
        parts, intake_parts, covered = [by_district], [outcomes], set(owned)
        if request.query.get("local") != "1":
            for peer in await ask_peers(request, f"/counters?grain={grain}&local=1"):
                parts.append(peer["buckets"])
                intake_parts.append(peer.get("intake", {}))
                covered |= set(peer["partitions"])
        return self.json(
            {
                "grain": grain,
                "partitions": sorted(covered),
                "intake_partitions": sorted(covered),
                "complete": covered == set(range(settings.kafka.partitions)),
                "buckets": merge(parts),
                "intake": merge(intake_parts),
            }
        )


async def ask_peers(request: web.Request, path: str) -> list[dict[str, Any]]:
    """Every other worker's answer to ``path`` (their local share), with the caller's token."""
    me = str(app.conf.canonical_url).rstrip("/")
    headers = {"Authorization": request.headers.get("Authorization", "")}
    answers = []
    for url in app.router.tables_metadata():
        if str(url).rstrip("/") == me:
            continue
        async with app.http_client.get(f"{str(url).rstrip('/')}{path}", headers=headers) as reply:
            if reply.status == 200:  # noqa: PLR2004
                answers.append(await reply.json())
    return answers


_FRAUD_CODES = ("TELECOM_FRAUD", "FRAUD_CAMPAIGN")


def open_escalations(now: float) -> list[dict[str, Any]]:
    """This worker's unresolved escalations: fraud first, then the oldest."""
    owned = _owned_partitions()
    found = [
        {
            "escalation_id": esc_id,
            "code": entry["code"],
            "level": entry.get("level", 0),
            "age_s": round(now - float(entry["opened_at"]), 1),
            "acknowledged": bool(entry.get("acked")),
            "overdue": bool(entry.get("missed")) and not entry.get("acked"),
        }
        for esc_id, entry in escalation_board.items()
        if entry.get("partition") in owned
    ]
    return sort_open(found)


def sort_open(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fraud first, then unacknowledged, then the oldest."""
    return sorted(
        found, key=lambda e: (e["code"] not in _FRAUD_CODES, e["acknowledged"], -e["age_s"])
    )


@app.page("/escalations")
class OpenEscalationsView(web.View):
    """Unresolved escalations of the whole city (``local=1``: this worker's share)."""

    async def get(self, request: web.Request) -> web.Response:
        """The list, fraud first, with age, level, acknowledged and overdue."""
        if not authorized(request):
            return self.json({"error": "missing or wrong bearer token"}, status=401)
        found, covered = open_escalations(time.time()), _owned_partitions()
        if request.query.get("local") != "1":
            for peer in await ask_peers(request, "/escalations?local=1"):
                found += peer["escalations"]
                covered |= set(peer["partitions"])
        complete = covered == set(range(settings.kafka.partitions))
        body = {
            "partitions": sorted(covered),
            "complete": complete,
            "escalations": sort_open(found),
        }
        return self.json(body)
