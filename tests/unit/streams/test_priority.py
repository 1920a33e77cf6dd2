"""Escalations first: when intake's sources are paused for the urgent topics, and resumed."""

from __future__ import annotations

from dataclasses import dataclass

from faust.types import TP

from streams.priority import Gate, buffered, unread

CMD, ESC, REPORTS = "alerts.commands", "alerts.escalations", "grid.reports"
URGENT = frozenset((CMD, ESC))


def test_unread_counts_urgent_partitions_from_their_next_offset():
    tps = [TP(CMD, 0), TP(CMD, 1), TP(ESC, 0), TP(REPORTS, 0), TP(ESC, 1)]
    highwater = {TP(CMD, 0): 100, TP(CMD, 1): 10, TP(ESC, 0): None, TP(REPORTS, 0): 9000}
    read = {TP(CMD, 0): 49, TP(CMD, 1): 9, TP(ESC, 0): 3, TP(REPORTS, 0): 0}
    behind, offsets = unread(tps, URGENT, highwater, read)
    assert behind == 50 + 0, "offsets 50..99 of the first; none of the second"
    assert offsets == 49 + 9 + 3, "only urgent partitions something was read from"


@dataclass
class _Queue:
    n: int

    def qsize(self) -> int:
        return self.n


@dataclass
class _Channel:
    topics: tuple[str, ...]
    queue: _Queue


def test_buffered_counts_the_queues_of_channels_of_urgent_topics():
    channels = [
        _Channel((CMD,), _Queue(7)),
        _Channel((REPORTS, "grid.reports.rekey"), _Queue(4000)),
        _Channel((ESC,), _Queue(5)),
        _Channel((ESC,), _Queue(1)),
    ]
    assert buffered(channels, URGENT) == 13


def test_the_gate_pauses_above_high_and_resumes_at_low():
    gate = Gate(high=200, low=20)
    assert gate.decide(150, read=0, now=0.0) is None
    assert gate.decide(201, read=0, now=0.1) is True
    assert gate.decide(100, read=100, now=0.2) is None, "between low and high: as it is"
    assert gate.decide(21, read=180, now=0.3) is None
    assert gate.decide(20, read=181, now=0.4) is False
    assert gate.decide(199, read=181, now=0.5) is None
    assert not gate.paused


def test_a_pause_that_moves_nothing_ends_and_cools_down():
    gate = Gate(high=200, low=20, stall_s=2.0, cooldown_s=10.0)
    assert gate.decide(500, read=7, now=0.0) is True
    assert gate.decide(500, read=7, now=1.9) is None
    assert gate.decide(500, read=7, now=2.1) is False, "nothing taken for 2 s: stuck elsewhere"
    assert gate.decide(900, read=7, now=5.0) is None, "cooling down"
    assert gate.decide(900, read=7, now=12.2) is True, "cooled down: try again"


def test_a_pause_that_moves_goes_on_while_the_backlog_is_worked_off():
    gate = Gate(high=200, low=20, stall_s=2.0)
    assert gate.decide(5000, read=0, now=0.0) is True
    for step in range(1, 100):  # 1.5 s each: longer than stall_s, but reading moves
        assert gate.decide(5000 - 40 * step, read=40 * step, now=1.5 * step) is None
    assert gate.decide(20, read=4980, now=151.0) is False
