"""Retention: table entries deleted a set time after they were written.

Without it every seen report id, every delivery made and every closed escalation would be
kept for good: in the worker's memory with ``memory://``, on disk with ``rocksdb://``, and
in the compacted changelog topics either way. Each is needed only for a while (a retry
comes within the reports topic's retention, a crash replays seconds), so each is deleted
``keep_s`` after its own time, which the entry carries.

Faust lets a table change only inside stream iteration, and it writes the change to the
changelog partition of the event being handled. So the agent that wrote an entry deletes it
too, a few at a time, while it handles later events of the same partition (``due``). Which
entries are due is kept in memory, oldest first per partition, and built again from the
table after a rebalance (``rebuild``): a restore does not pass through the agent.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

__all__ = ["DAY_S", "Expiry"]

DAY_S = 86_400.0
_SEPARATOR = "\x1f"  # ASCII's unit separator, in no id we keep; a second with one is not packed

log = logging.getLogger(__name__)


class Expiry:
    """The keys of one table, per partition, by the second of their time, to delete when due.

    Times come from the caller (a broker timestamp, a state's closing time) and are expected
    to grow within a partition; one that does not only waits behind its elders. Keys are kept
    by whole second, so a key comes due up to a second late, never early. The second being
    written is a list; once a later one starts, its keys are joined into one string: a
    report id kept at 400 a second costs 39 bytes, where its own string and list slot took
    96 (149 and 79 at 20 a second). A worker keeps every id it accepted for days, hundreds of
    thousands in a replay. ``due`` returns keys whose second has passed: the caller checks the
    entry itself before deleting it, since the key may have been written again since.
    """

    def __init__(
        self,
        keep_s: float,
        per_call: int = 4,
        *,
        name: str = "",
        deleted: Callable[[int], None] | None = None,
    ) -> None:
        if keep_s <= 0 or per_call < 1:
            msg = f"keep_s must be > 0 and per_call >= 1, not {keep_s} and {per_call}"
            raise ValueError(msg)
        self.keep_s = keep_s
        self.per_call = per_call  # bounded work per event; more than one event writes
        self.name = name  # the table's, for the log
        self.deleted = deleted  # told how many each sweep deleted (a metric)
        self._queues: dict[int, deque[tuple[int, list[str] | str]]] = {}

    def note(self, partition: int, key: str, at: float) -> None:
        """Remember that ``key`` was written in ``partition`` with the time ``at``."""
        second = math.floor(at)
        queue = self._queues.get(partition)
        if queue is None:
            queue = self._queues[partition] = deque()
        if queue:
            last, keys = queue[-1]
            if last == second and isinstance(keys, list):
                keys.append(key)
                return
            if isinstance(keys, list) and not any(_SEPARATOR in k for k in keys):
                queue[-1] = (last, _SEPARATOR.join(keys))  # that second is done: pack it
        queue.append((second, [key]))

    def expired(self, at: float, now: float) -> bool:
        """Whether an entry of time ``at`` is past its retention at ``now``."""
        return at <= now - self.keep_s

    def due(self, partition: int, now: float) -> list[str]:
        """Take up to ``per_call`` keys of ``partition`` whose whole second is past retention."""
        queue = self._queues.get(partition)
        if not queue or not self.expired(queue[0][0] + 1, now):
            return []  # the usual case: nothing due
        keys: list[str] = []
        while queue and len(keys) < self.per_call and self.expired(queue[0][0] + 1, now):
            second, bucket = queue[0]
            if isinstance(bucket, str):
                bucket = bucket.split(_SEPARATOR)
                queue[0] = (second, bucket)
            while bucket and len(keys) < self.per_call:
                keys.append(bucket.pop())
            if not bucket:
                queue.popleft()
        return keys

    def sweep(
        self,
        table: MutableMapping[str, Any],
        partition: int,
        now: float,
        time_of: Callable[[Any], float],
    ) -> None:
        """Delete from ``table`` the due keys of ``partition`` whose entry is still past retention.

        ``time_of`` reads an entry's time (-inf when it has none: then the noted time decides).
        Housekeeping after a message was handled, inside stream iteration: a failure is
        logged, never raised, since an exception would restart the agent.
        """
        deleted = 0
        try:
            for key in self.due(partition, now):
                entry = table.get(key)
                if entry is not None and self.expired(time_of(entry), now):
                    del table[key]  # not when a later message wrote it again
                    deleted += 1
        except Exception as exc:  # noqa: BLE001 - see above; the key comes again after a rebalance
            log.warning(
                "could not delete expired %s of partition %d: %r", self.name, partition, exc
            )
        if deleted and self.deleted is not None:
            self.deleted(deleted)

    def rebuild(self, entries: Iterable[tuple[int, str, float]]) -> None:
        """Start again from ``(partition, key, time)`` of every entry the table holds."""
        by_partition: dict[int, list[tuple[float, str]]] = {}
        for partition, key, at in entries:
            by_partition.setdefault(partition, []).append((at, key))
        self._queues = {}
        for partition, items in by_partition.items():
            for at, key in sorted(items):
                self.note(partition, key, at)

    def __len__(self) -> int:
        return sum(_count(keys) for queue in self._queues.values() for _, keys in queue)


def _count(keys: list[str] | str) -> int:
    return keys.count(_SEPARATOR) + 1 if isinstance(keys, str) else len(keys)
