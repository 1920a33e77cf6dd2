"""What the command center sees of escalations: open ones by code and level, overdue, oldest.

An agent follows ``alerts.escalations`` into a table holding one small entry per escalation
that is not closed (resolved); a timer turns the entries of this worker's partitions into
gauges. Each worker reports its own partitions, so Prometheus sums across workers, and the
table (changelog-backed) survives a restart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from schemas.escalation import EscalationEventV1

__all__ = ["Overview", "apply_event", "overview"]

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
