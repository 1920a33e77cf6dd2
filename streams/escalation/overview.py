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
            age = now - float(entry["opened_at"])  # type: ignore[arg-type]
            oldest[code] = max(oldest.get(code, 0.0), age)
    return Overview(open_, overdue, oldest)


@dataclass
class _Share:
    """One partition's part of the gauges."""

    open: Counter[tuple[str, int]] = field(default_factory=Counter)
    overdue: Counter[str] = field(default_factory=Counter)
    # code -> id -> opened_at of the unacknowledged ones, and a heap of the same for the oldest;
    # the heap keeps ids that have left (acknowledged, resolved) until they come to its top.
    unacked: dict[str, dict[str, float]] = field(default_factory=dict)
    heaps: dict[str, list[tuple[float, str]]] = field(default_factory=dict)

    def count(self, esc_id: str, entry: Entry, sign: int) -> None:
        """Add an entry's part (``sign`` 1) or take it away (-1)."""
        code = str(entry["code"])
        self.open[code, int(entry.get("level", 0))] += sign  # type: ignore[call-overload]
        acked = bool(entry.get("acked"))
        if entry.get("missed") and not acked:
            self.overdue[code] += sign
        if acked:
            return
        members = self.unacked.setdefault(code, {})
        if sign < 0:
            members.pop(esc_id, None)
            return
        opened = float(entry["opened_at"])  # type: ignore[arg-type]
        members[esc_id] = opened
        heap = self.heaps.setdefault(code, [])
        heapq.heappush(heap, (opened, esc_id))
        if len(heap) > 2 * len(members) + 64:  # mostly ids that left: start again from members
            self.heaps[code] = [(at, i) for i, at in members.items()]
            heapq.heapify(self.heaps[code])

    def oldest(self, code: str) -> float | None:
        """When the oldest unacknowledged one of ``code`` opened, or None."""
        members, heap = self.unacked.get(code, {}), self.heaps.get(code, [])
        while heap and members.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None


class Board:
    """The gauges' values, kept up to date as the board's entries change.

    The same figures as ``overview`` over the entries, without a walk over all of them: each
    change costs a few dictionary updates, and a tick reads counters and the top of a heap.
    """

    def __init__(self) -> None:
        self._shares: dict[int, _Share] = {}

    def change(self, esc_id: str, old: Entry | None, new: Entry | None) -> None:
        """Record that the entry of ``esc_id`` went from ``old`` to ``new`` (None: absent)."""
        if old is not None:
            self._share(old).count(esc_id, old, -1)
        if new is not None:
            self._share(new).count(esc_id, new, 1)

    def recount(self, entries: Iterable[tuple[str, Entry]]) -> None:
        """Forget everything and count ``entries`` (id, entry): after the table was restored."""
        self._shares.clear()
        for esc_id, entry in entries:
            self.change(esc_id, None, entry)

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
