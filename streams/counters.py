"""Live counters for the command center, exact after a crash, cheap per report.

Intake counts each message it handles, in its own step (``streams/intake.py``): its outcome
(``intake|accepted``, ``intake|duplicate``, ``intake|rekeyed``, ``intake|dead|{error kind}``)
in buckets of its broker time, and, for the message a report was accepted from, the report
and its findings by district, code and severity in buckets of the report's own time (so a
replay counts into the same buckets). Counting a report must not cost a table write (three
writes per report would cost more than triage), so counts build up in memory and are
flushed to the table about once a second, as one value per bucket, followed by the source
partition's *flushed-through* offset. That offset makes the counts exact:

- a replayed message at or below it is already counted: skipped;
- a crash loses what was counted in memory but not flushed; Faust may already have
  committed those messages, so they would not come back. After a rebalance, the messages
  between the flushed-through offset and the committed one are read again from the topic
  and counted first (``streams/command_center.py``);
- Faust may start a partition past that committed offset (a commit sent at revocation can
  land after it was read): the partition's first message then has the offsets between it
  and the last counted one read again and counted too (``Tally.missed``);
- a flush is several table writes, and a crash can land between them: some buckets written,
  the flushed-through offset not. So each bucket value also says how far it is flushed
  through (``THROUGH``), and a flush first writes how far its buckets may go (the part's
  *writing* offset). A later owner counting a message between the flushed-through and the
  writing offsets skips the buckets that already hold it.

Table keys: ``{part}|{grain}|{bucket start}`` -> ``{counter key: n, THROUGH: offset}``,
``{part}|flushed`` and ``{part}|writing`` -> offset. Counter keys: ``reports|{district}``,
``findings|{district}|{code}|{severity}`` and the intake outcomes above.

A *part* is what one flushed-through offset covers: a source partition, named by topic and
number, since intake reads two topics (``r3``: partition 3 of ``grid.reports``, ``k3``: of
``grid.reports.rekey``).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field

from schemas.findings import FindingsEventV1

__all__ = [
    "FLUSH_EVERY_S",
    "GRAINS",
    "RETENTION_S",
    "THROUGH",
    "Part",
    "Tally",
    "bucket_of",
    "counter_keys",
    "merge",
    "split_outcomes",
    "window_keys",
]

log = logging.getLogger(__name__)

GRAINS: dict[str, int] = {"minute": 60, "hour": 3600, "day": 86400}
# How long buckets are kept: the live page shows the last 2 hours by minute, 48 h by hour.
RETENTION_S: dict[str, float] = {"minute": 2 * 3600, "hour": 48 * 3600, "day": 400 * 86400}
# Counts lost in a crash are read again from the topic: flushing more often buys nothing.
FLUSH_EVERY_S = 1.0
# Finding expired buckets scans the partition's keys (a RocksDB iteration): once a minute is
# enough, since readers pick their window by time; a bucket may outlive its retention by that.
EXPIRE_EVERY_S = 60.0

Part = int | str  # what one flushed-through offset covers (see the module docstring)
# The key, in a bucket's value, of the offset it is flushed through; no counter key looks
# like it (they start with reports|, findings| or intake|).
THROUGH = "|through"


# Days are Ningbo's (UTC+8): "today" on the command center starts at local midnight.
_LOCAL_OFFSET_S = 8 * 3600


def bucket_of(grain: str, ts: float) -> int:
    """The start (epoch seconds) of the bucket ``ts`` falls in; days start at 00:00 +08:00."""
    size = GRAINS[grain]
    return int((ts + _LOCAL_OFFSET_S) // size * size - _LOCAL_OFFSET_S)


def counter_keys(event: FindingsEventV1) -> list[str]:
    """What one findings event adds one to."""
    keys = [f"reports|{event.district}"]
    keys += [f"findings|{event.district}|{f.code}|{f.severity}" for f in event.findings]
    return keys


@dataclass
class Tally:
    """Counts of the partitions one worker owns, between flushes to ``table``."""

    table: MutableMapping[str, object]
    pending: dict[Part, dict[str, Counter[str]]] = field(default_factory=dict)
    through: dict[Part, int] = field(default_factory=dict)  # part -> last offset counted
    last_flush: dict[Part, float] = field(default_factory=dict)
    next_expiry: dict[Part, float] = field(default_factory=dict)
    started: set[Part] = field(default_factory=set)  # parts whose first message was checked
    # part -> last offset a flush cut short by a crash may have written into some buckets
    unsure: dict[Part, int] = field(default_factory=dict)

    def flushed_through(self, partition: Part) -> int:
        """The last offset whose counts are in the table (-1: none)."""
        return self._offset(f"{partition}|flushed")

    def take(self, partition: Part) -> int:
        """Start counting a part (taken over, or after a restart): where its table stands."""
        done = self.flushed_through(partition)
        writing = self._offset(f"{partition}|writing")
        if writing > done:  # its last flush was cut short
            self.unsure[partition] = writing
            log.warning(
                "counters: %s's last flush was cut short: flushed through offset %d, some "
                "buckets maybe through %d; messages they hold are not counted again",
                partition,
                done,
                writing,
            )
        self.through[partition] = done
        return done

    def caught_up(self, partition: Part, committed: int) -> None:
        """The catch-up counted what a previous owner lost, up to the ``committed`` offset."""
        done = self.through.get(partition)
        if done is None:
            done = self.take(partition)
        self.through[partition] = max(done, committed - 1)

    def gap(self, partition: Part, first_offset: int) -> range:
        """Offsets counted by a previous owner but lost before their flush."""
        if partition in self.through:
            return range(0)  # not the first message since this worker took the partition
        return range(self.flushed_through(partition) + 1, first_offset)

    def missed(self, partition: Part, offset: int) -> range:
        """At a part's first message after the catch-up, the offsets before it nobody counted.

        Empty for every later message, for a message that follows what was counted (where
        the catch-up expected it) or comes before it (a replay, counted already), and for a
        part no catch-up prepared (none ran, or it failed).
        """
        if partition in self.started:
            return range(0)
        self.started.add(partition)
        done = self.through.get(partition)
        return range(0) if done is None else range(done + 1, offset)

    def add_keys(self, partition: Part, offset: int, at: float, keys: Sequence[str]) -> bool:
        """Add one to each of ``keys`` in the buckets of time ``at``, unless already counted."""
        return self.add_groups(partition, offset, [(at, keys)])

    def add_groups(
        self, partition: Part, offset: int, groups: Iterable[tuple[float, Sequence[str]]]
    ) -> bool:
        """Count one message: each group's keys in the buckets of its time; False if counted."""
        done = self.through.get(partition)
        if done is None:  # the first message since this worker took the partition
            done = self.take(partition)
        if offset <= done:
            return False
        unsure = offset <= self.unsure.get(partition, -1)
        buckets = self.pending.setdefault(partition, {})
        for at, keys in groups:
            for grain in GRAINS:
                key = f"{partition}|{grain}|{bucket_of(grain, at)}"
                if unsure and self._offset(key, THROUGH) >= offset:
                    continue  # a flush cut short wrote this bucket with this message in it
                counts = buckets.get(key)
                if counts is None:
                    counts = buckets[key] = Counter()
                counts.update(keys)
        self.through[partition] = offset
        return True

    def flush_due(self, partition: Part, now: float) -> None:
        """Flush ``partition`` when its last flush is ``FLUSH_EVERY_S`` old (same caveat)."""
        if now - self.last_flush.get(partition, 0.0) >= FLUSH_EVERY_S:
            self.flush(partition, now)
            self.last_flush[partition] = now

    def flush(self, partition: Part, now: float) -> None:
        """Write how far a partition's pending counts go, the counts, then that they are in.

        The first write (``writing``) and the buckets' ``THROUGH`` let a later owner tell
        which buckets a flush cut short by a crash wrote (see the module docstring). Expired
        buckets are dropped now and then.

        Called while handling a message of that partition: Faust writes a table change to
        the changelog partition of the message being handled, and a partition's counts must
        stay in its own changelog partition (whoever owns it next recovers them). Parts
        ``r3`` and ``k3`` both live in changelog partition 3: Faust's assignor co-partitions
        topics of equal partition count, so partition 3 of both goes to one worker.

        A bucket already past its retention (old reports replayed) is not written at all: it
        would only be deleted again.
        """
        buckets = self.pending.pop(partition, None)
        if not buckets:
            return
        through = self.through[partition]
        # a flush cut short may have written some buckets further: keep saying so
        writing = max(through, self.unsure.get(partition, -1))
        self.table[f"{partition}|writing"] = writing
        for key, counts in buckets.items():
            if _expired(key, now):
                continue
            stored = self.table.get(key)
            total: dict[str, int] = dict(stored) if isinstance(stored, dict) else {}
            for name, n in counts.items():
                total[name] = total.get(name, 0) + n
            total[THROUGH] = through  # it held nothing past it, or was skipped
            self.table[key] = total
        self.table[f"{partition}|flushed"] = through
        if now >= self.next_expiry.get(partition, 0.0):
            self._expire(partition, now)
            self.next_expiry[partition] = now + EXPIRE_EVERY_S

    def counts(self, partitions: Iterable[Part], grain: str) -> dict[str, dict[str, int]]:
        """Bucket start → counts for the partitions, flushed and pending together."""
        wanted = set(partitions)
        parts: list[dict[str, dict[str, int]]] = []
        for key in window_keys(self.table, wanted, grain):
            stored = self.table.get(key)
            if isinstance(stored, dict):
                counts = {name: n for name, n in stored.items() if name != THROUGH}
                parts.append({key.rsplit("|", 1)[1]: counts})
        for partition in wanted:
            for key, counter in self.pending.get(partition, {}).items():
                if key.split("|")[1] == grain:
                    parts.append({key.rsplit("|", 1)[1]: dict(counter)})
        return merge(parts)

    def forget(self, partitions: Iterable[Part]) -> None:
        """Partitions taken away: a later owner starts from the table."""
        for partition in partitions:
            self.pending.pop(partition, None)
            self.through.pop(partition, None)
            self.last_flush.pop(partition, None)
            self.next_expiry.pop(partition, None)
            self.started.discard(partition)
            self.unsure.pop(partition, None)

    def _offset(self, key: str, name: str | None = None) -> int:
        """The offset stored at ``key`` (in its value's ``name`` if given), -1 if none."""
        value = self.table.get(key)
        if name is not None:
            value = value.get(name) if isinstance(value, dict) else None
        return value if isinstance(value, int) else -1

    def _expire(self, partition: Part, now: float) -> None:
        prefix = f"{partition}|"
        old = [
            key
            for key in list(self.table.keys())
            if key.startswith(prefix)
            and key.count("|") == 2  # noqa: PLR2004 - {partition}|{grain}|{bucket}
            and _expired(key, now)
        ]
        for key in old:
            self.table.pop(key, None)


def _expired(key: str, now: float) -> bool:
    """Whether a ``{part}|{grain}|{bucket}`` key is past its grain's retention at ``now``."""
    _, grain, bucket = key.split("|")
    return float(bucket) < now - RETENTION_S[grain]


def split_outcomes(
    counts: Mapping[str, Mapping[str, int]],
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Bucket → counts split in two: reports and findings by district, and intake's outcomes."""
    by_district: dict[str, dict[str, int]] = {}
    outcomes: dict[str, dict[str, int]] = {}
    for bucket, bucket_counts in counts.items():
        for key, n in bucket_counts.items():
            side = outcomes if key.startswith("intake|") else by_district
            side.setdefault(bucket, {})[key] = n
    return by_district, outcomes


def window_keys(table: Mapping[str, object], partitions: Iterable[Part], grain: str) -> list[str]:
    """The table keys of ``grain`` buckets of the given partitions."""
    wanted = {str(p) for p in partitions}
    return [
        key
        for key in table
        if key.count("|") == 2 and key.split("|")[0] in wanted and key.split("|")[1] == grain  # noqa: PLR2004
    ]


def merge(parts: Iterable[Mapping[str, Mapping[str, int]]]) -> dict[str, dict[str, int]]:
    """Sum bucket → counts maps (several partitions, several workers)."""
    total: dict[str, Counter[str]] = defaultdict(Counter)
    for part in parts:
        for bucket, counts in part.items():
            total[bucket].update(counts)
    return {bucket: dict(counts) for bucket, counts in sorted(total.items())}
