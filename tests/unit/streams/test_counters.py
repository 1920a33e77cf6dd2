"""Live counters: exact after any crash and any commit point, and bounded in time."""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from schemas.findings import FindingsEventV1
from streams.counters import GRAINS, Tally, bucket_of, counter_keys, split_outcomes

T0 = datetime(2025, 11, 3, 8, 0, tzinfo=UTC)
DISTRICTS = ["海曙区", "江北区", "鄞州区"]


def add(tally: Tally, partition: int, offset: int, e: FindingsEventV1) -> bool:
    """Count one report's findings as intake does, at the report's own time."""
    return tally.add_keys(partition, offset, e.reported_at.timestamp(), counter_keys(e))


def event(n: int, rng: random.Random) -> FindingsEventV1:
    findings = (
        [{"code": "EBIKE_CHARGING", "severity": rng.choice(["medium", "high"]), "evidence": []}]
        if rng.random() < 0.4
        else []
    )
    return FindingsEventV1.model_validate(
        {
            "report_id": f"r-{n}",
            "reported_at": T0 + timedelta(seconds=37 * n),
            "channel": "grid_app",
            "reporter_role": "grid_worker",
            "district": rng.choice(DISTRICTS),
            "grid_id": "g",
            "findings": findings,
            "severity": findings[0]["severity"] if findings else None,
            "classified_at": T0,
        }
    )


def truth(events: list[FindingsEventV1], grain: str) -> dict[str, dict[str, int]]:
    total: dict[str, Counter[str]] = {}
    for e in events:
        b = str(bucket_of(grain, e.reported_at.timestamp()))
        total.setdefault(b, Counter())[f"reports|{e.district}"] += 1
        for f in e.findings:
            total[b][f"findings|{e.district}|{f.code}|{f.severity}"] += 1
    return {b: dict(c) for b, c in sorted(total.items())}


NOW = (T0 + timedelta(hours=1)).timestamp()


def test_counts_by_minute_hour_and_day_flushed_and_pending_alike():
    rng = random.Random(1)
    events = [event(n, rng) for n in range(50)]
    tally = Tally({})
    for offset, e in enumerate(events[:30]):
        assert add(tally, 0, offset, e)
    tally.flush(0, NOW)
    for offset, e in enumerate(events[30:], 30):
        add(tally, 0, offset, e)  # pending, not flushed
    for grain in GRAINS:
        assert tally.counts([0], grain) == truth(events, grain)


def counted(n: int, seed: int) -> tuple[list[FindingsEventV1], dict[str, object], Tally]:
    """``n`` reports counted on partition 0 by one worker, not flushed yet: events, table, tally."""
    rng = random.Random(seed)
    events = [event(i, rng) for i in range(n)]
    table: dict[str, object] = {}
    tally = Tally(table)
    for offset, e in enumerate(events):
        add(tally, 0, offset, e)
    return events, table, tally


def test_a_replayed_message_already_flushed_is_not_counted_twice():
    events, table, first = counted(10, seed=2)
    first.flush(0, NOW)
    restarted = Tally(table)
    assert restarted.gap(0, 6) == range(10, 6)  # committed behind the flush: nothing to read
    assert [add(restarted, 0, o, events[o]) for o in range(6, 10)] == [False] * 4
    assert restarted.counts([0], "day") == truth(events, "day")


def catch_up(tally: Tally, partition: int, committed: int, events: list[FindingsEventV1]) -> None:
    """What the catch-up after a rebalance does with the committed offset it read."""
    for offset in tally.gap(partition, committed):
        add(tally, partition, offset, events[offset])
    tally.caught_up(partition, committed)


class _Killed(Exception):
    """The worker died here."""


class _DiesAfter(dict[str, object]):
    """A worker's view of the table that dies after ``writes`` writes (a SIGKILL mid-flush)."""

    def __init__(self, table: dict[str, object], writes: int) -> None:
        super().__init__()
        self.table, self.writes = table, writes

    def get(self, key: str, default: object = None) -> object:
        return self.table.get(key, default)

    def keys(self):
        return self.table.keys()

    def __setitem__(self, key: str, value: object) -> None:
        if self.writes == 0:
            raise _Killed
        self.writes -= 1
        self.table[key] = value


def test_a_start_past_the_committed_offset_read_counts_the_offsets_between():
    rng = random.Random(6)
    events = [event(n, rng) for n in range(600)]
    table: dict[str, object] = {}
    first = Tally(table)
    for offset in range(534):  # handled, flushed only at the first message, then revoked
        add(first, 5, offset, events[offset])
        if offset == 0:
            first.flush(5, NOW)
    first.forget([5])
    again = Tally(table)
    catch_up(again, 5, 0, events)  # it read no commit: nothing between flush and commit
    assert again.missed(5, 469) == range(1, 469)  # yet Faust started at 469
    assert not again.missed(5, 470)  # asked at the first message only
    for offset in range(1, 469):  # read again from the topic
        add(again, 5, offset, events[offset])
    for offset in range(469, 600):
        add(again, 5, offset, events[offset])
    assert again.counts([5], "minute") == truth(events, "minute")


def test_a_start_at_or_behind_what_was_counted_misses_nothing():
    table: dict[str, object] = {}
    tally = Tally(table)
    tally.through[3] = 40  # the catch-up counted through the committed offset 41
    assert tally.missed(3, 41) == range(41, 41)
    tally.forget([3])
    tally.through[3] = 40
    assert not tally.missed(3, 12)  # Faust started behind: a replay, skipped as counted
    assert not Tally({}).missed(3, 500)  # no catch-up ran: nothing to compare with


def test_any_crash_commit_point_commit_read_and_start_give_exact_counts():
    """A worker counts, flushes now and then, and dies; Faust replays from a commit point.

    The catch-up reads one committed offset; Faust starts there, or at a commit that landed
    after the read (up to what the dead worker handled). A third of the workers die in the
    middle of a flush, with some of its buckets written and its flushed-through offset not.
    """
    rng = random.Random(3)
    events = [event(n, rng) for n in range(120)]
    for trial in range(300):
        table: dict[str, object] = {}
        worker = Tally(table)
        crash = rng.randrange(1, len(events))
        for offset in range(crash):
            add(worker, 0, offset, events[offset])
            if rng.random() < 0.2:
                worker.flush(0, NOW)
        if trial % 3 == 0:  # killed in the middle of a flush: only its first writes landed
            worker.table = _DiesAfter(table, rng.randrange(0, 12))
            with contextlib.suppress(_Killed):
                worker.flush(0, NOW)
        committed = rng.randrange(0, crash + 1)  # Faust committed anything processed, or less
        read = committed if trial % 2 else rng.randrange(0, committed + 1)
        successor = Tally(table)  # the table as its changelog left it; memory lost
        catch_up(successor, 0, read, events)
        for offset in successor.missed(0, committed):  # read again from the topic
            add(successor, 0, offset, events[offset])
        for offset in range(committed, len(events)):
            add(successor, 0, offset, events[offset])
        successor.flush(0, NOW)
        assert successor.counts([0], "minute") == truth(events, "minute"), trial
        assert successor.counts([0], "hour") == truth(events, "hour"), trial


def test_a_flush_cut_short_keeps_its_written_buckets_and_a_successor_counts_the_rest(caplog):
    events, table, first = counted(4, seed=7)
    first.table = _DiesAfter(table, 3)  # how far it goes, then two of its buckets
    with contextlib.suppress(_Killed):
        first.flush(0, NOW)
    assert first.flushed_through(0) == -1
    successor = Tally(table)
    catch_up(successor, 0, 4, events)  # all four were committed: read again and counted
    successor.flush(0, NOW)
    for grain in GRAINS:
        assert successor.counts([0], grain) == truth(events, grain)
    assert "0's last flush was cut short: flushed through offset -1" in caplog.text


def test_owners_killed_one_after_another_in_the_middle_of_flushes_give_exact_counts():
    """Each owner catches up, handles some, flushes now and then and dies inside a flush."""
    rng = random.Random(8)
    events = [event(n, rng) for n in range(150)]
    for trial in range(200):
        table: dict[str, object] = {}
        handled = committed = 0
        for _ in range(4):
            owner = Tally(table)
            catch_up(owner, 0, committed, events)
            start = rng.randrange(committed, handled + 1)  # Faust's start: a commit or later
            for offset in [*owner.missed(0, start), *range(start, len(events))]:
                if offset >= start and rng.random() < 0.1:
                    break
                add(owner, 0, offset, events[offset])
                handled = max(handled, offset + 1)
                if rng.random() < 0.2:
                    owner.flush(0, NOW)
            committed = rng.randrange(committed, handled + 1)
            owner.table = _DiesAfter(table, rng.randrange(0, 12))
            with contextlib.suppress(_Killed):
                owner.flush(0, NOW)
        last = Tally(table)
        catch_up(last, 0, committed, events)
        for offset in range(committed, len(events)):
            add(last, 0, offset, events[offset])
        last.flush(0, NOW)
        assert last.counts([0], "minute") == truth(events, "minute"), trial
        assert last.counts([0], "day") == truth(events, "day"), trial


def test_partitions_are_counted_apart_and_merged_on_request():
    rng = random.Random(4)
    a, b = [event(n, rng) for n in range(5)], [event(n, rng) for n in range(5, 9)]
    tally = Tally({})
    for offset, e in enumerate(a):
        add(tally, 0, offset, e)
    for offset, e in enumerate(b):
        add(tally, 1, offset, e)
    tally.flush(0, NOW)
    assert tally.counts([1], "day") == truth(b, "day")
    assert tally.counts([0, 1], "day") == truth(a + b, "day")


def test_minute_buckets_older_than_two_hours_are_dropped_at_flush():
    rng = random.Random(5)
    table: dict[str, object] = {}
    tally = Tally(table)
    add(tally, 0, 0, event(0, rng))
    tally.flush(0, NOW)
    assert any("|minute|" in key for key in table)
    add(tally, 0, 1, event(1, rng))
    tally.flush(0, NOW + 3 * 3600)
    assert not any("|minute|" in key for key in table)
    assert any("|hour|" in key for key in table), "hours are kept 48 h"


class _Recording(dict[str, object]):
    """A table that records its writes and counts how often its keys are listed (a full
    scan in RocksDB)."""

    def __init__(self) -> None:
        super().__init__()
        self.scans = 0
        self.written: list[str] = []

    def __setitem__(self, key: str, value: object) -> None:
        self.written.append(key)
        super().__setitem__(key, value)

    def keys(self):
        self.scans += 1
        return super().keys()


def test_a_replayed_report_older_than_a_grains_retention_writes_no_bucket_of_it():
    old = event(0, random.Random(5)).model_copy(update={"reported_at": T0 - timedelta(days=3)})
    table = _Recording()
    tally = Tally(table)
    add(tally, 0, 0, old)
    tally.flush(0, NOW)
    grains = {key.split("|")[1] for key in table.written if key.count("|") == 2}
    assert grains == {"day"}, "minute (2 h) and hour (48 h) buckets 3 days old are not written"
    assert tally.counts([0], "day") == truth([old], "day")


def test_expired_buckets_are_looked_for_at_most_once_a_minute_per_partition():
    rng = random.Random(5)
    table = _Recording()
    tally = Tally(table)
    for n, at in enumerate([NOW, NOW + 1, NOW + 30, NOW + 59, NOW + 61]):
        add(tally, 0, n, event(n, rng))
        tally.flush(0, at)
    assert table.scans == 2  # at NOW and NOW + 61
    add(tally, 1, 0, event(9, rng))
    tally.flush(1, NOW + 62)
    assert table.scans == 3, "another partition keeps its own minute"


def test_a_day_starts_at_midnight_in_ningbo():
    cst = datetime(2025, 11, 3, 0, 0, tzinfo=UTC) - timedelta(hours=8)  # 00:00 +08:00
    assert bucket_of("day", cst.timestamp()) == cst.timestamp()
    assert bucket_of("day", cst.timestamp() - 1) == cst.timestamp() - 86400
    assert bucket_of("hour", cst.timestamp() + 3599) == cst.timestamp()


def test_outcomes_and_district_counts_are_served_apart():
    tally = Tally({})
    tally.add_groups("r0", 0, [(1000.0, ["intake|accepted"]), (1000.0, ["reports|海曙区"])])
    tally.add_groups("r0", 1, [(1000.0, ["intake|dead|not_json"])])
    by_district, outcomes = split_outcomes(tally.counts(["r0"], "day"))
    day = str(bucket_of("day", 1000.0))
    assert by_district == {day: {"reports|海曙区": 1}}
    assert outcomes == {day: {"intake|accepted": 1, "intake|dead|not_json": 1}}


class CountingReads(dict[str, object]):
    """A table that counts its reads."""

    reads = 0

    def get(self, key: str, default: object = None) -> object:
        self.reads += 1
        return super().get(key, default)


def test_the_table_is_read_for_a_partitions_first_message_only():
    table = CountingReads({"3|flushed": 10})
    tally = Tally(table)
    assert not tally.add_keys(3, 10, NOW, ["reports|海曙区"])  # flushed already: skipped
    assert tally.add_keys(3, 11, NOW, ["reports|海曙区"])
    reads = table.reads
    for offset in range(12, 112):
        assert tally.add_keys(3, offset, NOW, ["reports|海曙区"])
    assert table.reads == reads  # later messages trust what this worker counted
    assert not tally.add_keys(3, 50, NOW, ["reports|海曙区"])  # a replay of a counted one
