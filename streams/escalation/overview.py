"""What the command center sees of escalations: open ones by code and level, overdue, oldest.

An agent follows ``alerts.escalations`` into a table holding one small entry per escalation
that is not closed (resolved); a timer turns the entries of this worker's partitions into
gauges. Each worker reports its own partitions, so Prometheus sums across workers, and the
table (changelog-backed) survives a restart.

The board grows with every escalation nobody resolves (a city-year replay leaves some 600,000),
so the gauges are not counted again from the whole board at each tick: ``Board`` keeps them
up to date entry by entry, and is counted afresh only when a rebalance has restored the table.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas.escalation import EscalationEventV1

__all__ = ["Board", "Overview", "apply_event", "overview"]

Entry = dict[str, object]


def apply_event(entry: Entry | None, event: EscalationEventV1, partition: int) -> Entry | None:
    """The entry after ``event`` (read from ``partition``); None once resolved."""
    if event.type == "resolved":
        return None
    current: Entry = dict(entry) if entry else {"code": event.code, "level": 0}
    current |= {"partition": partition}
    current.setdefault("opened_at", event.at.timestamp())
    if event.level is not None:
        current["level"] = event.level
    if event.type == "acknowledged":
        current["acked"] = True
    elif event.type in ("escalated", "expired"):
        current["missed"] = True  # at least one ack deadline passed unanswered
    return current


@dataclass(frozen=True)
class Overview:
    """The gauges' values."""

    open_by_code_level: Counter[tuple[str, int]]
    overdue_by_code: Counter[str]
    oldest_unacknowledged_s: dict[str, float]


def overview(entries: Iterable[Entry], now: float) -> Overview:
    """Count open escalations, overdue ones, and the age of the oldest unacknowledged one."""
    open_: Counter[tuple[str, int]] = Counter()
    overdue: Counter[str] = Counter()
    oldest: dict[str, float] = {}
    for entry in entries:
        code = str(entry["code"])
        open_[code, int(entry.get("level", 0))] += 1  # type: ignore[call-overload]
        if entry.get("missed") and not entry.get("acked"):
            overdue[code] += 1
        if not entry.get("acked"):
            age = now - _second(entry)  # from its whole second: see ``Board``
            oldest[code] = max(oldest.get(code, 0.0), age)
    return Overview(open_, overdue, oldest)


def _second(entry: Entry) -> int:
    return math.floor(float(entry["opened_at"]))  # type: ignore[arg-type]


@dataclass
class _Share:
    """One partition's part of the gauges."""

    open: Counter[tuple[str, int]] = field(default_factory=Counter)
    overdue: Counter[str] = field(default_factory=Counter)
    # code -> how many unacknowledged ones opened in each second, and a heap of those seconds
    # for the oldest (seconds that emptied stay in it until they come to its top). Counted by
    # second, not by id: a replay opens hundreds a second, and this stays small.
    unacked: dict[str, Counter[int]] = field(default_factory=dict)
    heaps: dict[str, list[int]] = field(default_factory=dict)

    def count(self, entry: Entry, sign: int) -> None:
        """Add an entry's part (``sign`` 1) or take it away (-1)."""
        code = str(entry["code"])
        self.open[code, int(entry.get("level", 0))] += sign  # type: ignore[call-overload]
        acked = bool(entry.get("acked"))
        if entry.get("missed") and not acked:
            self.overdue[code] += sign
        if acked:
            return
        second, seconds = _second(entry), self.unacked.setdefault(code, Counter())
        seconds[second] += sign
        if seconds[second] <= 0:
            del seconds[second]
        elif sign > 0 and seconds[second] == 1:
            heap = self.heaps.setdefault(code, [])
            heapq.heappush(heap, second)
            if len(heap) > 2 * len(seconds) + 64:  # mostly emptied seconds: start again
                self.heaps[code] = sorted(seconds)

    def oldest(self, code: str) -> int | None:
        """The second the oldest unacknowledged one of ``code`` opened in, or None."""
        seconds, heap = self.unacked.get(code, Counter()), self.heaps.get(code, [])
        while heap and heap[0] not in seconds:
            heapq.heappop(heap)
        return heap[0] if heap else None


class Board:
    """The gauges' values, kept up to date as the board's entries change.

    The same figures as ``overview`` over the entries, without a walk over all of them: each
    change costs a few dictionary updates, and a tick reads counters and the top of a heap.
    Ages count from the whole second an escalation opened in (at most a second more).
    """

    def __init__(self) -> None:
        self._shares: dict[int, _Share] = {}

    def change(self, old: Entry | None, new: Entry | None) -> None:
        """Record that an escalation's entry went from ``old`` to ``new`` (None: absent)."""
        if old is not None:
            self._share(old).count(old, -1)
        if new is not None:
            self._share(new).count(new, 1)

    def recount(self, entries: Iterable[Entry]) -> None:
        """Forget everything and count ``entries``: after the table was restored."""
        self._shares.clear()
        for entry in entries:
            self.change(None, entry)

    def overview(self, partitions: Iterable[int], now: float) -> Overview:
        """The gauges of the entries filed under ``partitions`` (this worker's)."""
        open_: Counter[tuple[str, int]] = Counter()
        overdue: Counter[str] = Counter()
        oldest: dict[str, float] = {}
        for partition in partitions:
            share = self._shares.get(partition)
            if share is None:
                continue
            open_ += share.open  # ``+=`` drops the counts that fell to zero
            overdue += share.overdue
            for code in share.unacked:
                opened = share.oldest(code)
                if opened is not None:
                    oldest[code] = max(oldest.get(code, 0.0), now - opened)
        return Overview(open_, overdue, oldest)

    def _share(self, entry: Entry) -> _Share:
        partition = int(entry["partition"])  # type: ignore[call-overload]
        share = self._shares.get(partition)
        if share is None:
            share = self._shares[partition] = _Share()
        return share
