"""Intake: each message on grid.reports is accepted once, dead-lettered, or known as a retry.

    grid.reports ───────┐               ┌─> grid.reports.accepted  valid, first seen; key grid_id
                        ├─> intake ─────┼─> grid.findings          findings (triage/agent.py)
    grid.reports.rekey ─┘  (seen table) ├─> grid.reports.dlq       invalid: reason + original bytes
                                        └─> grid.reports.rekey     valid, not keyed by report_id

Duplicates are found with the ``intake-seen-reports`` table, keyed by report_id. A Faust
table is partitioned like the stream that writes it, so every copy of one report_id must
arrive on one partition: apps publish keyed by report_id (the contract), and a message that
is not is re-sent once through ``grid.reports.rekey`` keyed by it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Container, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from time import perf_counter
from typing import Any

import faust
from aiokafka import TopicPartition
from faust.types import TP

from schemas.dead_letter import DeadLetterV1
from schemas.findings import FindingsEventV1
from schemas.grid_report import AcceptedReportV1, GridReportV1, IntakeSource
from streams.app import (
    app,
    metrics,
    outputs,
    owned_partitions,
    retained,
    retained_expiry,
    settings,
    vault,
)
from streams.counters import Tally, counter_keys
from streams.errors import InvalidReport
from streams.lookahead import Ahead
from streams.partitioning import partition_of
from streams.pii_vault import PiiVault
from streams.priority import Gate, buffered, unread
from streams.reconcile import ReadBack, forward_headers
from streams.topic_reader import read_range
from streams.topics import (
    rekey_topic,
    reports_topic,
    send_dead_letter,
    send_internal_error,
)
from streams.triage import load_engine
from streams.triage.agent import findings_read_back, triage
from streams.triage.events import classify, findings_event
from streams.validation import dead_letter_for, parse_report

__all__ = [
    "DeadLetter",
    "Duplicate",
    "Forward",
    "Prepared",
    "Rekey",
    "ACCEPTED",
    "URGENT_TOPICS",
    "give_way_to_escalations",
    "sources_gate",
    "accepted_report",
    "ahead",
    "count_again",
    "count_message",
    "count_missed",
    "counter_groups",
    "counter_part",
    "findings_of",
    "intake",
    "intake_tally",
    "outcome_key",
    "owns_report_id",
    "prepare",
    "replayed_counter_groups",
    "replayed_outcome_key",
    "route",
    "forget_expired_seen",
    "rebuild_seen_expiry",
    "remember_seen",
    "seen_entry",
    "seen_expiry",
    "seen_or_new",
    "seen_reports",
    "seen_time",
    "seen_where",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Forward:
    """A valid report seen for the first time: forward it, then remember its id."""

    report: AcceptedReportV1


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A report whose id was accepted before: an app retry, counted and dropped."""

    report_id: str


@dataclass(frozen=True, slots=True)
class Rekey:
    """A valid report on a partition that does not own its id: re-send it keyed by the id."""

    report_id: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that cannot be accepted, with its reason and original bytes."""

    letter: DeadLetterV1


Outcome = Forward | Duplicate | Rekey | DeadLetter


def owns_report_id(
    key: bytes | None, report: GridReportV1, partition: int, partitions: int
) -> bool:
    """Whether this message sits where the default partitioner puts its report_id."""
    rid = report.report_id.encode("ascii")
    return key == rid and partition_of(rid, partitions) == partition


def route(
    raw: bytes,
    key: bytes | None,
    source: IntakeSource,
    *,
    seen: Container[str],
    partitions: int,
    rekeyed: bool,
    vault: PiiVault | None = None,
) -> Outcome:
    """Decide what happens to one message; pure, so every path is tested without Kafka."""
    try:
        report = parse_report(raw)
    except InvalidReport as exc:
        return DeadLetter(dead_letter_for(exc, raw, key, source, source.received_at))
    if not rekeyed and not owns_report_id(key, report, source.partition, partitions):
        return Rekey(report.report_id)
    if report.report_id in seen:
        return Duplicate(report.report_id)
    return Forward(accepted_report(report, source, vault))


def accepted_report(
    report: GridReportV1, source: IntakeSource, vault: PiiVault | None
) -> AcceptedReportV1:
    """The report as intake forwards it: masked, with its raw PII sealed when a vault is given."""
    if vault is None:
        return report.accepted(source)
    sealed, indicators = vault.seal(report), vault.indicators(report.text)
    return report.accepted(source, sealed_pii=sealed, indicators=indicators)


@dataclass(frozen=True, slots=True)
class Prepared:
    """What ``route`` made of a message, and the findings of a ``Forward`` (``event``).

    Prepared ahead, without the seen table, ``outcome`` is never a ``Duplicate``.
    """

    source: IntakeSource
    outcome: Outcome
    event: FindingsEventV1 | None


def prepare(
    raw: bytes, key: bytes | None, source: IntakeSource, seen: Container[str] = ()
) -> Prepared:
    """Intake's work for one message before any send: validate, seal, classify.

    Ahead of time (``streams/lookahead.py``) ``seen`` is empty and ``seen_or_new`` asks the
    table later; a message prepared when it comes passes the table, so a retry is not classified.
    """
    outcome = route(
        raw,
        key,
        source,
        seen=seen,
        partitions=settings.kafka.partitions,
        rekeyed=source.topic == settings.topics.rekey,
        vault=vault,
    )
    event = None
    if isinstance(outcome, Forward):
        event = findings_event(outcome.report, classify(outcome.report), source.received_at)
    return Prepared(source, outcome, event)


def seen_or_new(outcome: Outcome, seen: Container[str]) -> Outcome:
    """A prepared ``Forward`` of a report_id in ``seen`` is a ``Duplicate`` (as ``route``)."""
    if isinstance(outcome, Forward) and outcome.report.report_id in seen:
        return Duplicate(outcome.report.report_id)
    return outcome


# report_id -> [topic, partition, offset, broker time] of the message that was accepted;
# survives restarts in its changelog topic, so a retry after a restart is still recognised.
# Older entries are [topic, partition, offset] or [partition, offset] (``seen_where``).
seen_reports = app.Table(
    "intake-seen-reports",
    default=None,
    schema=faust.Schema(key_serializer="json", value_serializer="json"),
    **retained(settings, settings.retention.seen_reports_days),
)
# Entries are deleted ``seen_reports_days`` after their message: by RocksDB with
# ``rocksdb://`` (``retained``), else by intake as it goes (streams/retention.py).
seen_expiry = retained_expiry(seen_reports, settings.retention.seen_reports_days)


def seen_entry(source: IntakeSource, at: float) -> list[Any]:
    """What the seen table keeps of the message a report was accepted from."""
    return [source.topic, source.partition, source.offset, at]


def seen_where(entry: list[Any]) -> list[Any]:
    """[topic, partition, offset] of a seen entry of any age."""
    if len(entry) == 2:  # noqa: PLR2004 - before the source topic was recorded
        return [settings.topics.reports, *entry]
    return entry[:3]


def seen_time(entry: list[Any], default: float = -math.inf) -> float:
    """The broker time of a seen entry; ``default`` for entries older than the field."""
    return float(entry[3]) if len(entry) > 3 else default  # noqa: PLR2004


def remember_seen(report_id: str, source: IntakeSource, at: float) -> None:
    """Write the seen entry of an accepted report, to be deleted after its retention."""
    seen_reports[report_id] = seen_entry(source, at)
    if seen_expiry is not None:
        seen_expiry.note(source.partition, report_id, at)


def forget_expired_seen(partition: int, now: float) -> None:
    """Delete a few seen entries of ``partition`` past retention (inside stream iteration)."""
    if seen_expiry is not None:
        seen_expiry.sweep(seen_reports, partition, now, seen_time)


@seen_reports.on_recover
async def rebuild_seen_expiry() -> None:
    """After a rebalance: every seen entry this worker now holds, by partition and time.

    Entries written before they carried a time count from now. Nothing to do when RocksDB
    deletes them: a rebalance then reads none of them.
    """
    if seen_expiry is None:
        return
    now = time.time()
    owned = owned_partitions(*_SOURCES)
    seen_expiry.rebuild(
        (where[1], report_id, seen_time(entry, now))
        for report_id, entry in seen_reports.items()
        if (where := seen_where(entry))[1] in owned
    )


read_back = ReadBack(
    (settings.topics.reports, settings.topics.rekey),
    settings.topics.accepted,
    settings.kafka.partitions,
    found=metrics.reports_reconciled,
)


class Seen:
    """Whether a report_id was forwarded: the seen table, corrected by the read-back.

    A SIGKILL can persist a table entry whose forward was lost (the producer sends the
    changelog and the output in separate batches). An entry written by a message in the
    replay window is therefore trusted only when the read-back found the forward itself.
    """

    def __contains__(self, report_id: object) -> bool:
        if report_id in read_back.forwarded:
            return True
        entry = seen_reports.get(report_id)
        if entry is None:
            return False
        # [partition, offset] entries predate the source topic being recorded: trusted.
        return len(entry) == 2 or not read_back.in_window(*entry[:3])  # noqa: PLR2004


seen = Seen()

# -- escalations first (streams/priority.py): intake's sources are paused at the consumer
# while the escalator, or the notifier and board that follow its events, are behind.
URGENT_TOPICS = frozenset((settings.topics.escalation_commands, settings.topics.escalations))
_SOURCES = frozenset((settings.topics.reports, settings.topics.rekey))
sources_gate = Gate()


def _prepare_record(record: Any, tp: TP) -> Prepared:
    source = IntakeSource(
        topic=tp.topic, partition=tp.partition, offset=record.offset, received_at=datetime.now(UTC)
    )
    return prepare(record.value, record.key, source)


# A fetch's worth at most, plus what the agent's buffer can hold ahead of it.
ahead = Ahead(
    _SOURCES,
    _prepare_record,
    limit=app.conf.broker_max_poll_records + app.conf.stream_buffer_maxsize,
)
if settings.work_ahead:
    ahead.attach()


@app.timer(interval=0.1)  # type: ignore[untyped-decorator]
async def give_way_to_escalations() -> None:
    """Pause or resume intake's sources as the urgent backlog asks (``Gate``)."""
    if app.rebalancing or app.in_recovery:
        sources_gate.paused = False  # a new assignment starts unpaused in aiokafka
        return  # and Faust pauses and resumes partitions itself meanwhile
    try:
        consumer = app.consumer
        assigned = consumer.assignment()
        produced = outputs.produced  # fresher than a fetch's high-water mark for what we wrote
        highwater = {
            tp: max(consumer.highwater(tp) or 0, produced.get((tp.topic, tp.partition), 0))
            for tp in assigned
            if tp.topic in URGENT_TOPICS
        }
        read = consumer._read_offset  # type: ignore[attr-defined]
        behind, offsets = unread(assigned, URGENT_TOPICS, highwater, read)
        waiting = buffered(app.topics, URGENT_TOPICS)  # read, not yet taken by their agents
        pause = sources_gate.decide(behind + waiting, offsets - waiting, time.monotonic())
        if pause is not None:
            await _hold(consumer, [tp for tp in assigned if tp.topic in _SOURCES], pause=pause)
            metrics.labelled(metrics.intake_paused, "paused" if pause else "resumed").inc()
    except Exception as exc:  # noqa: BLE001 - a timer that raises stops for good; try again
        log.warning("could not pause or resume intake's sources: %r", exc)


async def _hold(consumer: faust.types.ConsumerT, tps: list[TP], *, pause: bool) -> None:
    """Pause or resume fetching ``tps``, in the consumer's own thread.

    aiokafka is not thread-safe, and Faust runs it in a thread of its own. Uses private parts
    of faust 0.15: ``_thread``, ``_ensure_consumer`` (and ``_read_offset`` above).
    """
    thread = consumer._thread  # type: ignore[attr-defined]
    kafka = thread._ensure_consumer()
    partitions = [TopicPartition(tp.topic, tp.partition) for tp in tps]

    async def apply() -> None:
        (kafka.pause if pause else kafka.resume)(*partitions)

    await thread.call_thread(apply)


# -- counters (streams/counters.py): outcomes, reports and findings; streams/command_center.py
# serves them and, after a rebalance, counts again what a previous owner did not flush.

# "{part}|{grain}|{bucket}" -> {"intake|accepted": n, "findings|...": n, ..., THROUGH: offset};
# "{part}|flushed" and "{part}|writing" -> offset
intake_tally = Tally(
    app.Table(
        "intake-counters",
        default=None,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
    )
)


def counter_part(topic: str, partition: int) -> str:
    """A source partition as a tally part: ``r3`` (reports) or ``k3`` (rekey) for partition 3."""
    return f"{'k' if topic == settings.topics.rekey else 'r'}{partition}"


ACCEPTED = "intake|accepted"


def outcome_key(outcome: Outcome, source: IntakeSource, seen: Mapping[str, object]) -> str:
    """What one handled message counts as; ``seen``: the seen table, after its delivery.

    A duplicate whose seen entry names this very message is the accepted one: its forward
    was made by an owner that died before committing, and found by the read-back.
    """
    match outcome:
        case Forward():
            return ACCEPTED
        case Duplicate(report_id):
            accepted = _names(seen.get(report_id), source)
            return ACCEPTED if accepted else "intake|duplicate"
        case Rekey():
            return "intake|rekeyed"
        case DeadLetter(letter):
            return f"intake|dead|{letter.error_kind}"


def replayed_outcome_key(
    raw: bytes, key: bytes | None, source: IntakeSource, seen: Mapping[str, object]
) -> str:
    """What a committed message counted as, derived again from its bytes and the seen table.

    For the messages an owner handled and committed but whose counts died with it. ``route``
    gives again the dead letter's kind, or that it was rekeyed; a valid report was accepted
    from the message its seen entry names. The entries of committed messages are reliable:
    Faust flushes the producer, table changelogs included, before it commits an offset, and
    only the first message of a report_id writes its entry (the read-back case: the one the
    lost forward came from). No entry at all: its delivery failed (an internal error).
    """
    rekeyed = source.topic == settings.topics.rekey
    outcome = route(
        raw, key, source, seen=(), partitions=settings.kafka.partitions, rekeyed=rekeyed
    )
    if isinstance(outcome, Forward):
        if seen.get(outcome.report.report_id) is None:
            return "intake|dead|internal_error"
        outcome = Duplicate(outcome.report.report_id)
    return outcome_key(outcome, source, seen)


def counter_groups(
    broker_ts: float, counted: str, event: FindingsEventV1 | None
) -> list[tuple[float, list[str]]]:
    """What one message adds to the counters, as (time, keys) groups.

    Its outcome at its broker time; with ``event`` (the message a report was accepted from),
    the report and its findings at the report's own time.
    """
    groups = [(broker_ts, [counted])]
    if event is not None:
        groups.append((event.reported_at.timestamp(), counter_keys(event)))
    return groups


def findings_of(raw: bytes, source: IntakeSource) -> FindingsEventV1:
    """The findings event of a valid message, classified again (the rules are deterministic)."""
    report = accepted_report(parse_report(raw), source, None)
    return findings_event(report, classify(report), datetime.now(UTC))


def replayed_counter_groups(
    raw: bytes, key: bytes | None, source: IntakeSource, seen: Mapping[str, object], ts: float
) -> list[tuple[float, list[str]]]:
    """``counter_groups`` of a committed message whose counts died with its owner."""
    counted = replayed_outcome_key(raw, key, source, seen)
    return counter_groups(ts, counted, findings_of(raw, source) if counted == ACCEPTED else None)


def _names(entry: object, source: IntakeSource) -> bool:
    """Whether a seen entry (of any age, ``seen_where``) is ``source``."""
    here = [source.topic, source.partition, source.offset]
    return isinstance(entry, list) and seen_where(entry) == here


def count_message(message: faust.types.Message, groups: list[tuple[float, list[str]]]) -> None:
    """Count one message (``counter_groups``) unless counted before; flush now and then."""
    part = counter_part(message.topic, message.partition)
    intake_tally.add_groups(part, message.offset, groups)
    intake_tally.flush_due(part, time.time())


async def count_again(topic: str, partition: int, offsets: range) -> int:
    """Count, as they were counted when handled, the messages at ``offsets`` read again.

    The outcome comes from the message's bytes and key and the seen table, the findings of
    an accepted one from classifying it again, the buckets from its broker time and its
    report's time (``replayed_counter_groups``). Returns how many were read.
    """
    part = counter_part(topic, partition)
    records = await asyncio.to_thread(
        read_range, settings.kafka, topic, partition, offsets.start, offsets.stop
    )
    for record in records:
        source = IntakeSource(
            topic=topic, partition=partition, offset=record.offset, received_at=datetime.now(UTC)
        )
        groups = replayed_counter_groups(
            record.value, record.key, source, seen_reports, record.timestamp / 1000
        )
        intake_tally.add_groups(part, record.offset, groups)
    return len(records)


async def count_missed(message: faust.types.Message, missed: range) -> None:
    """At a partition's first message, count the messages before it that nobody counted.

    The catch-up after a rebalance counted up to the committed offset it read; Faust can
    start past it (a commit sent at revocation landing later), with the counts of the
    messages in between dropped with the revoked partition (``Tally.missed``).
    """
    try:
        n = await count_again(message.topic, message.partition, missed)
    except Exception:  # the message must go on; its partition's counts fall short
        log.exception("counters: could not count %s[%d] %s again", *message.tp, missed)
        return
    log.warning(
        "counters: %s[%d] started at %d, past the last counted offset: counted %d messages "
        "of %s again",
        message.topic,
        message.partition,
        message.offset,
        n,
        missed,
    )


read_back.attach(app, settings.kafka, settings.app_id)


@app.agent(reports_topic)
async def intake(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    """Validate, deduplicate, classify and route every message; each ends somewhere."""
    load_engine()  # compile the rules before the first report, not during it
    async for event in stream.events():
        started = perf_counter()
        # Each read-back is done before Faust resumes the streams after a rebalance
        # (streams/reconcile.py); waiting here only guards against a message met sooner.
        for stage in (read_back, findings_read_back):
            if not stage.done.is_set():
                await stage.done.wait()
        await handle(event.message, event.value)
        metrics.intake_seconds.observe(perf_counter() - started)
        metrics.processed("intake", started)
        yield None


async def handle(message: faust.types.Message, raw: bytes) -> None:
    """Route one message and carry the outcome out; any failure dead-letters it."""
    metrics.reports_received.inc()
    prepared = ahead.take((message.topic, message.partition, message.offset), raw)
    if prepared is not None:
        source = prepared.source
    else:
        source = IntakeSource(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            received_at=datetime.now(UTC),
        )
    counted, event = "intake|dead|internal_error", None
    try:
        prepared = prepared or prepare(raw, message.key, source, seen)
        outcome = seen_or_new(prepared.outcome, seen)
        event = await deliver(outcome, raw, source, message.timestamp, prepared.event)
        counted = outcome_key(outcome, source, seen_reports)
        if counted != ACCEPTED:
            event = None
        elif event is None:  # accepted by an owner that died: its forward was read back
            event = findings_of(raw, source)
    except Exception as exc:  # noqa: BLE001 - a failure must dead-letter, not skip, the message
        await send_internal_error(exc, raw, message.key, source)
    missed = intake_tally.missed(counter_part(message.topic, message.partition), message.offset)
    if missed:
        await count_missed(message, missed)
    count_message(message, counter_groups(message.timestamp, counted, event))
    forget_expired_seen(message.partition, message.timestamp)


async def deliver(
    outcome: Outcome,
    raw: bytes,
    source: IntakeSource,
    at: float,
    findings: FindingsEventV1 | None = None,
) -> FindingsEventV1 | None:
    """Send the outcome where it belongs, update the seen table and metrics.

    ``at``: the message's broker time; ``findings``: a ``Forward``'s, if classified already.
    Returns the findings event when the report was triaged.
    """
    event = None
    match outcome:
        case Forward(report):
            value = report.model_dump_json(exclude_none=True).encode()
            headers = forward_headers(
                source.topic, source.partition, source.offset, report.report_id
            )
            await outputs.add(settings.topics.accepted, report.grid_id.encode(), value, headers)
            event = await triage(report, source, findings)
            remember_seen(report.report_id, source, at)
            if read_back.in_window(source.topic, source.partition, source.offset):
                read_back.forwarded.add(report.report_id)  # now confirmed by us
            metrics.reports_accepted.inc()
        case Duplicate(report_id):
            if report_id not in seen_reports:  # found by the read-back: remember it
                remember_seen(report_id, source, at)
            where = (source.topic, source.partition, source.offset)
            if read_back.in_window(*where) and report_id in read_back.forwarded:
                # accepted before a crash: its findings or escalation may not have left
                event = await triage(accepted_report(parse_report(raw), source, vault), source)
            metrics.reports_duplicate.inc()
        case Rekey(report_id):
            await rekey_topic.send(key=report_id.encode(), value=raw)
            metrics.reports_rekeyed.inc()
        case DeadLetter(letter):
            await send_dead_letter(letter)
    return event
