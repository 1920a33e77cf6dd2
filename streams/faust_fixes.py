"""Fixes to faust-streaming 0.15.3: seven lose, repeat or hang messages in a failure, two cost CPU.

Both were measured with the SIGKILL test (``tests/integration``, README "Known fault"): after
a restart, some messages of a partition never reached the agent while later ones did, so the
partition's commit stalled or, when nothing had been committed there yet or exactly one
message was missing, stepped over them (``Consumer._new_offset`` tolerates one missing offset
after the committed one, for compacted topics).

1. ``Recovery.on_recovery_completed`` resumes the stream partitions, then seeks them to their
   committed offsets while the flow is already active (it was resumed to read changelogs),
   then resumes ``app.flow_control``, which empties every agent buffer. Whatever was fetched
   during the seek was dropped from the buffers with the fetch position past it (aiokafka
   does not seek a partition that has no committed offset, and the drain loop's in-flight
   message overwrites the read offset the seek set). Fixed by seeking while the partitions
   are still paused: only the order differs from Faust's method.
2. ``AIOKafkaConsumerThread._fetch_records`` passes the worker's live set of active
   partitions to aiokafka in the consumer thread. When the last active partitions are paused
   during the fetch (the changelogs, when recovery ends), the set is empty, which aiokafka
   reads as every partition: a batch of a paused stream partition was handed over, then
   discarded by ``Consumer.getmany`` as not active, with aiokafka's position past it.
   Fixed by fetching for a snapshot of the set, and for nothing when it is empty.
3. ``Producer._settings_extra`` turns on the idempotent producer only inside transactions.
   Without it, a batch whose acknowledgement was lost when a partition leader died is sent
   again by the producer's retry and written twice (the three-broker leader-kill test saw a
   report accepted twice). Fixed by always asking for ``acks=all`` with idempotence, which
   the broker enforces per producer id and partition sequence.
4. ``CompositeLogger.log`` (mode-streaming, the logger of Faust's services) formats every
   message before the logging module checks its level. ``Agent._slurp`` logs "yielded" at
   debug level for every value an agent yields: at 1,000 reports/s that formatting (it walks
   the service tree) was 2.3 % of the worker's main thread. Fixed by checking the level first.
5. ``Consumer._drain_messages`` hands every fetched message to the conductor through
   ``wait_first(callback(message), suspend_flow.wait())``, so that a rebalance can abandon a
   delivery blocked on a full buffer. That makes four tasks and an ``asyncio.wait`` per
   message (~21 µs), though the delivery almost never blocks. Fixed by running the delivery
   until it first waits, and only then waiting for it as Faust does (``step_first``).
6. When an agent's buffer is full, the conductor puts the message there from a task of its
   own (``Topic.put``). A rebalance abandons the delivery, but not that task: it waits for
   the suspended flow, holding the message, while the revocation waits for every message
   it holds to be acknowledged (``Consumer.wait_empty``); resumed, the task would hand over
   a message of a partition maybe gone. Found by reading the code while a worker hung in
   that wait; it was not the whole cause (the hang came back with it in, see fix 7). Fixed
   by cancelling the puts of an abandoned delivery, as Faust drops what its buffers held:
   the message is not acknowledged, so it is read again (faust-streaming #133, #236).
7. ``Consumer.wait_empty`` (the revocation's wait for messages being handled) waits for
   every message a stream ever took and nobody acknowledged, until it is garbage. A message
   of two agents (``alerts.escalations``: the board and the notifier) that one agent had
   handled while the flow control emptied the other's buffer was still referenced from
   somewhere no ``gc.get_referrers`` sees (``sys.getrefcount`` 3 to 5), and the wait never
   ended: the worker sat in the revocation, was expelled from the group a minute later and
   never came back (9 runs in 42 of the counters test, 7 in 38 with fix 6; Cython or not).
   Fixed by waiting, after two rounds, only for messages an agent's stream is handling
   (its current event); the others are not acknowledged and are read again.
8. ``Consumer.on_partitions_revoked`` drops the acknowledged offsets of the revoked
   partitions (and their committed offsets) before the revocation's wait and commit, so
   that commit holds only what was acknowledged during the wait: a partition nothing was
   in flight on is not committed at all, and its next owner replays from the last periodic
   commit (up to 2.8 s of messages: dead letters written twice, counts read again). Fixed
   by dropping them after the revocation's wait and commit instead.

9. Fix 1's seek moves a partition back only to its committed offset: aiokafka does not seek
   one with none (or with 0). A partition nobody has committed yet (a new group's first
   seconds) keeps the fetch position past whatever its dropped buffers held: those messages
   are skipped for good. Seen once with the work ahead on (counters test, 1 run in 50): a
   restarted worker's first message of a partition was at offset 500, with nothing committed
   there, and its findings never reached the reports. Fixed by seeking such partitions to
   their first offset, as a new consumer with ``auto_offset_reset=earliest`` starts; what was
   handled already is read again, as after a crash.

Installed for the Faust version they were copied from only; re-check them on an upgrade.

Not a fix but a condition: a stream skips a message fetched before a rebalance (its partition
is sought back to the committed offset and reads it again). Faust's Cython stream iterator
leaves it unacknowledged; its pure-Python one (``NO_CYTHON``, or Faust installed without its
extensions) acknowledges it, so a commit could step over it before it is read again: lost if
the partition moves or the worker dies meanwhile. ``install`` warns when the Cython one is
missing.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import types
from collections.abc import Coroutine, Generator
from contextvars import ContextVar
from typing import Any, cast

import faust
import faust.streams
from faust.app import App
from faust.tables.recovery import Recovery
from faust.topics import Topic
from faust.transport.consumer import CONSUMER_PARTITIONS_REVOKED, Consumer, RecordMap
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Producer
from faust.types import TP, EventT
from faust.utils.tracing import traced_from_parent_span
from mode import Service
from mode.services import WaitArgT, WaitResults
from mode.utils.logging import CompositeLogger

__all__ = [
    "FIXED_VERSION",
    "fetch_active_records",
    "idempotent_producer_settings",
    "install",
    "wait_for_handled",
    "on_recovery_completed",
    "put_of_delivery",
    "revoke_after_commit",
    "seek_uncommitted_to_start",
    "step_first",
]

FIXED_VERSION = "0.15.3"

log = logging.getLogger(__name__)

_fetch_records = AIOKafkaConsumerThread._fetch_records
_composite_log = CompositeLogger.log
_wait_first = Service.wait_first
_topic_put = Topic.put
# Rounds (about a second each) ``wait_for_handled`` waits before it lets go of messages no
# stream is handling: an acknowledgement in flight lands well within them.
ORPHAN_ROUNDS = 2


async def on_recovery_completed(self: Recovery, generation_id: int = 0) -> None:
    """Faust's ``Recovery.on_recovery_completed``, seeking before resuming stream partitions."""
    consumer = self.app.consumer
    self.log.info("Restore complete!")
    await self.app.on_rebalance_complete.send()
    self._set_recovery_ended()
    callbacks = [
        asyncio.ensure_future(
            table.on_recovery_completed(
                self.actives_for_table[table], self.standbys_for_table[table]
            )
        )
        for table in self.tables.values()
    ]
    if callbacks:
        await asyncio.wait(callbacks)
    assignment = consumer.assignment()
    if self.app.consumer_generation_id != generation_id:
        self.log.warning(
            "Recovery rebalancing again app id %s param %s",
            self.app.consumer_generation_id,
            generation_id,
        )
        return
    streams = [tp for tp in assignment if not self._is_changelog_tp(tp)]
    if assignment:
        self.log.info("Seek stream partitions to committed offsets.")
        timeout = self.app.conf.broker_request_timeout
        await self._wait(consumer.perform_seek(), timeout=timeout)
        await self._wait(seek_uncommitted_to_start(consumer, streams), timeout=timeout)
    consumer.resume_partitions(set(streams))
    self.completed.set()
    self.app.flow_control.resume()
    consumer.resume_flow()
    await cast(App, self.app)._fetcher.maybe_start()
    self.tables.on_actives_ready()
    if not self.app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    self.app.on_rebalance_end()
    self.log.info("Worker ready")


async def seek_uncommitted_to_start(consumer: Any, partitions: list[TP]) -> list[TP]:
    """Seek the ``partitions`` nobody committed to offset 0 (fix 9); which ones.

    Called after ``perform_seek``, which records each committed offset; 0 counts as none.
    Faust's ``seek_wait`` runs in the consumer's thread and forgets the read offsets too, or
    the drain would drop what is read again; below the log's start, the consumer resets to
    it (``auto_offset_reset``).
    """
    fresh = [tp for tp in partitions if not consumer._committed_offset.get(tp)]
    if fresh:
        await consumer.seek_wait(dict.fromkeys(fresh, 0))
    return fresh


async def fetch_active_records(
    self: AIOKafkaConsumerThread,
    consumer: Any,
    active_partitions: set[TP] | None,
    timeout: float | None = None,
    max_records: int | None = None,
) -> RecordMap:
    """Faust's ``_fetch_records`` for the partitions active now, never for every partition."""
    if active_partitions is not None:  # None: a client-only app, which fetches everything
        active_partitions = set(active_partitions)  # copying a set is atomic under the GIL
        if not active_partitions:
            return {}
    # Faust annotates the argument as a set, yet passes None for a client-only app.
    partitions = cast(set[TP], active_partitions)
    records: RecordMap = await _fetch_records(
        self, consumer, partitions, timeout=timeout, max_records=max_records
    )
    return records


def idempotent_producer_settings(self: Producer) -> dict[str, Any]:
    """Faust's ``Producer._settings_extra``, idempotent outside transactions too."""
    return {"acks": "all", "enable_idempotence": True}


def log_if_enabled(
    self: CompositeLogger, severity: int, message: str, *args: Any, **kwargs: Any
) -> None:
    """The ``CompositeLogger.log`` of mode, formatting only a message that will be logged."""
    if self.logger.isEnabledFor(severity):
        _composite_log(self, severity, message, *args, **kwargs)


@types.coroutine
def _carry_on(coro: Coroutine[Any, Any, Any], pending: Any) -> Generator[Any, Any, Any]:
    """Drive ``coro`` on from its first wait (``pending``, what it handed its driver)."""
    while True:
        try:
            sent = yield pending
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:  # a cancellation: passed on to the delivery
            try:
                pending = coro.throw(exc)
            except StopIteration as done:
                return done.value
        else:
            try:
                pending = coro.send(sent)
            except StopIteration as done:
                return done.value


async def _rest_of(coro: Coroutine[Any, Any, Any], pending: Any) -> Any:
    return await _carry_on(coro, pending)


class _Puts:
    """The puts into full agent buffers that one delivery started (tasks of their own)."""

    def __init__(self) -> None:
        self.waiting: set[asyncio.Task[Any]] = set()
        self.abandoned = False

    def abandon(self) -> None:
        """The delivery was given up: its puts must not hold the message, nor hand it over."""
        self.abandoned = True
        for task in self.waiting:
            task.cancel()


_delivery: ContextVar[_Puts | None] = ContextVar("_delivery", default=None)


async def put_of_delivery(self: Topic, event: EventT[Any]) -> None:
    """``Topic.put``, cancelled with the delivery it belongs to, if any (fix 6)."""
    puts, task = _delivery.get(), asyncio.current_task()
    if puts is None or task is None:
        return await _topic_put(self, event)
    if puts.abandoned:  # started after its delivery was given up
        return None
    puts.waiting.add(task)
    try:
        return await _topic_put(self, event)
    finally:
        puts.waiting.discard(task)


async def step_first(self: Service, *coros: WaitArgT, timeout: Any = None) -> WaitResults:
    """``Service.wait_first``, running a first coroutine argument until it first waits.

    A delivery that completes at once returns as Faust's would (the other arguments,
    coroutines of events, are closed unawaited); one that waits is waited for as Faust does,
    and if it is given up, so are the puts it started (fix 6).
    """
    first, *others = coros
    if not asyncio.iscoroutine(first):
        return await _wait_first(self, *coros, timeout=timeout)
    puts = _Puts()
    token = _delivery.set(puts)  # tasks the delivery starts copy it: their puts are known
    try:
        try:
            pending = first.send(None)
        except StopIteration as done:
            for other in others:
                if asyncio.iscoroutine(other):
                    other.close()
            # One turn of the loop per message, as Faust's tasks gave: without it the
            # fetcher delivered whole fetches at once and the scale-out fault test lost counts.
            await asyncio.sleep(0)
            return WaitResults([first], [done.value], False)
        rest = _rest_of(first, pending)
        try:
            results = await _wait_first(self, rest, *others, timeout=timeout)
        except BaseException:
            puts.abandon()
            raise
        if rest not in results.done:
            puts.abandon()
        return results
    finally:
        _delivery.reset(token)


def handled_messages(app: Any) -> set[Any]:
    """The messages agents' streams are handling now (each actor's current event)."""
    held = set()
    for agent in app.agents.values():
        for actor in list(agent._actors):
            event = getattr(actor.stream, "current_event", None)
            if event is not None:
                held.add(event.message)
    return held


async def wait_for_handled(self: Consumer) -> None:
    """Faust's ``Consumer.wait_empty``, letting go of messages no stream is handling (fix 7)."""
    rounds = 0
    while not self.should_stop and self._unacked_messages:
        rounds += 1
        gc.collect()  # as Faust: messages only cycles hold leave its weak set
        await self.commit()
        if not self._unacked_messages:
            break
        await self._wait_for_ack(timeout=1)
        self._clean_unacked_messages()
        if rounds >= ORPHAN_ROUNDS:
            orphans = set(self._unacked_messages) - handled_messages(self.app)
            if orphans:
                where = sorted(f"{m.topic}[{m.partition}]@{m.offset}" for m in orphans)
                log.warning(
                    "revocation: %d message(s) taken but held by no agent, left to be read "
                    "again: %s",
                    len(where),
                    ", ".join(where[:10]),
                )
                self._unacked_messages -= orphans
    await self.commit_and_end_transactions()


_faust_on_partitions_revoked = Consumer.on_partitions_revoked


@Service.transitions_to(CONSUMER_PARTITIONS_REVOKED)
async def revoke_after_commit(self: Consumer, revoked: set[TP]) -> None:
    """Faust's ``Consumer.on_partitions_revoked``, forgetting acknowledgements last (fix 8)."""
    span = self.app._start_span_from_rebalancing("on_partitions_revoked")
    trace = traced_from_parent_span(span)
    with span:
        if self._active_partitions is not None:
            self._active_partitions.difference_update(revoked)
        self._paused_partitions.difference_update(revoked)
        try:  # the app's handler waits for messages in flight and commits
            await trace(self._on_partitions_revoked, partitions=revoked)(revoked)
        finally:
            for tp in revoked:
                self._gap.pop(tp, None)
                self._acked.pop(tp, None)
                self._acked_index.pop(tp, None)
                self._read_offset.pop(tp, None)
                self._committed_offset.pop(tp, None)


def install(version: str = faust.__version__) -> bool:
    """Install the fixes if ``version`` is the one they were copied from."""
    if version != FIXED_VERSION:
        log.warning("faust %s: 0.15.3 fixes not installed; re-check them", version)
        return False
    Recovery.on_recovery_completed = on_recovery_completed  # type: ignore[method-assign]
    AIOKafkaConsumerThread._fetch_records = fetch_active_records  # type: ignore[method-assign]
    Producer._settings_extra = idempotent_producer_settings  # type: ignore[method-assign]
    CompositeLogger.log = log_if_enabled  # type: ignore[method-assign]
    Consumer.wait_first = step_first  # type: ignore[method-assign]
    Topic.put = put_of_delivery  # type: ignore[method-assign]
    Consumer.wait_empty = wait_for_handled  # type: ignore[method-assign]
    Consumer.on_partitions_revoked = revoke_after_commit  # type: ignore[method-assign]
    if getattr(faust.streams, "_CStreamIterator", None) is None:
        log.warning(
            "faust runs without its Cython stream iterator: messages skipped in a rebalance "
            "are acknowledged, and a commit can step over them (streams/faust_fixes.py)"
        )
    return True
