"""The escalator over its table: decisions, grouping, timers, and replays after a crash."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.escalation import EscalationActionV1, ReportRef
from streams.escalation.commands import (
    ActionCommand,
    CandidateCommand,
    TickCommand,
    command_adapter,
    district_partition,
    districts_of_partition,
)
from streams.escalation.escalator import (
    Escalator,
    UnknownEscalation,
    _stored_resolved_at,
    resolved_at,
)
from streams.escalation.lifecycle import Candidate
from streams.escalation.policy import load_policy
from streams.retention import Expiry

POLICY = load_policy()
T0 = 1_764_000_000.0
P = district_partition("海曙区", 6)


class Journal(dict):
    """A dict that remembers every write in order, to cut it at any point (a crash)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, Any]] = []

    def __setitem__(self, key: str, value: Any) -> None:
        self.log.append((key, copy.deepcopy(value)))
        super().__setitem__(key, value)

    def pop(self, key: str, default: Any = None) -> Any:
        if key in self:
            self.log.append((key, None))
        return super().pop(key, default)

    def prefix(self, writes: int) -> Journal:
        table = Journal()
        for key, value in self.log[:writes]:
            if value is None:
                table.pop(key)
            else:
                table[key] = copy.deepcopy(value)
        return table


def cand(report_id: str, severity="critical", code="TELECOM_FRAUD", address="翠柏里5幢", **more):
    report = ReportRef(
        report_id=report_id,
        reported_at=datetime.fromtimestamp(T0, UTC),
        grid_id="330203-GL-017",
        address=address,
    )
    fields = {"grid_id": "330203-GL-017", "address": address, "lat": 29.87, "lon": 121.54} | more
    return CandidateCommand(
        candidate=Candidate(
            code=code, severity=severity, district="海曙区", report=report, **fields
        )
    )


def action(esc_id: str, kind="ack") -> ActionCommand:
    return ActionCommand(action=EscalationActionV1(escalation_id=esc_id, action=kind, by="值班员"))


def run(escalator: Escalator, commands, start: int = 0):
    """Apply (command, now) pairs as offsets start, start+1, …; every event sent, in order."""
    sent = []
    for offset, (command, now) in enumerate(commands, start):
        sent += escalator.handle(command, P, now, offset)
    return sent


def test_a_fraud_report_is_opened_and_notified_then_climbs_when_unacknowledged():
    esc = Escalator(POLICY, {})
    opened = run(esc, [(cand("r-1"), T0)])
    assert [e.type for e in opened] == ["opened", "notified"]
    assert run(esc, [(TickCommand(), T0 + 119)], start=1) == []
    climbed = run(esc, [(TickCommand(), T0 + 121.5)], start=2)
    assert [(e.type, e.level) for e in climbed] == [("escalated", 1), ("notified", 1)]
    assert climbed[1].targets == ("street_platform",)


def test_acknowledged_it_stops_and_the_timer_finds_nothing():
    esc = Escalator(POLICY, {})
    esc_id = run(esc, [(cand("r-1"), T0)])[0].escalation_id
    acked = run(esc, [(action(esc_id), T0 + 30)], start=1)
    assert [e.type for e in acked] == ["acknowledged"]
    assert run(esc, [(TickCommand(), T0 + 1000)], start=2) == []


def test_an_action_for_an_unknown_escalation_is_refused():
    with pytest.raises(UnknownEscalation):
        run(Escalator(POLICY, {}), [(action("esc-330203-0123456789abcdef"), T0)])


def test_reports_at_the_same_place_join_and_elsewhere_open_their_own():
    esc = Escalator(POLICY, {})
    events = run(
        esc,
        [
            (cand("r-1"), T0),
            (cand("r-2"), T0 + 60),
            (cand("r-3", address="海晏北路88号", lat=29.90, lon=121.60), T0 + 61),
        ],
    )
    assert [e.type for e in events] == ["opened", "notified", "grouped", "opened", "notified"]
    first = esc.get(events[0].escalation_id)
    assert first is not None
    assert (first.report_count, [r.report_id for r in first.reports]) == (2, ["r-1", "r-2"])
    assert events[3].escalation_id != events[0].escalation_id


def test_a_low_severity_finding_escalates_to_no_one():
    assert (
        run(Escalator(POLICY, {}), [(cand("r-1", severity="low", code="BLOCKED_EXIT"), T0)]) == []
    )


def test_a_re_sent_candidate_changes_nothing():
    esc = Escalator(POLICY, {})
    assert run(esc, [(cand("r-1"), T0), (cand("r-1"), T0 + 1)])[2:] == []


def test_ticks_after_a_long_pause_catch_up_with_every_second_missed():
    esc = Escalator(POLICY, {})
    run(esc, [(cand("r-1"), T0), (TickCommand(), T0 + 1)])
    climbed = run(esc, [(TickCommand(), T0 + 3600)], start=2)
    assert [e.type for e in climbed] == ["escalated", "notified"]


SCRIPT = [
    (cand("r-1"), T0),
    (cand("r-2"), T0 + 5),
    (cand("r-3", code="EBIKE_CHARGING", severity="high", address="槐树路1号"), T0 + 6),
    (TickCommand(), T0 + 60),
    (TickCommand(), T0 + 125),  # fraud climbs to the street
    (cand("r-4", address="槐树路1号", code="EBIKE_CHARGING", severity="high"), T0 + 126),
    (TickCommand(), T0 + 2000),  # fraud climbs again; the e-bike moves to property management
    (None, T0 + 2001),  # the fraud escalation is acknowledged (id filled in below)
    (TickCommand(), T0 + 4000),
]


def script() -> list:
    probe = Escalator(POLICY, {})
    fraud_id = run(probe, SCRIPT[:1])[0].escalation_id
    return [(action(fraud_id), now) if c is None else (c, now) for c, now in SCRIPT]


def test_the_script_does_what_it_says():
    commands = script()
    events = run(Escalator(POLICY, {}), commands)
    assert [e.type for e in events].count("escalated") >= 2
    assert "acknowledged" in [e.type for e in events]


def test_a_crash_at_any_write_replayed_from_any_commit_sends_every_event_and_ends_equal():
    """Cut the table after every write; replay from every offset the commit could be at."""
    commands = script()
    full = Journal()
    original = Escalator(POLICY, full)
    per_command = [original.handle(c, P, now, offset) for offset, (c, now) in enumerate(commands)]
    expected = {e.event_id: e for events in per_command for e in events}
    writes_before = []  # writes done before each command started
    replay = Journal()
    for offset, (c, now) in enumerate(commands):
        writes_before.append(len(replay.log))
        Escalator(POLICY, replay).handle(c, P, now, offset)

    for cut in range(len(full.log) + 1):
        crashed_in = max(i for i, w in enumerate(writes_before) if w <= cut)
        for committed in range(crashed_in + 1):
            table = full.prefix(cut)
            # Commands before the commit were acknowledged after their events were flushed.
            sent = {e.event_id: e for events in per_command[:committed] for e in events}
            for e in run(Escalator(POLICY, table), commands[committed:], start=committed):
                assert e == expected[e.event_id], (
                    f"cut {cut}, commit {committed}: {e.event_id} differs"
                )
                sent[e.event_id] = e
            assert sent.keys() == expected.keys(), f"cut {cut}, commit {committed}"
            state = {k: v for k, v in table.items() if k.startswith("esc:")}
            assert state == {k: v for k, v in full.items() if k.startswith("esc:")}


def test_commands_round_trip_through_json():
    for c, _now in script():
        assert command_adapter.validate_json(c.model_dump_json()) == c


def test_every_district_has_one_partition():
    for n in (1, 6, 12):
        owned = [d for p in range(n) for d in districts_of_partition(p, n)]
        assert sorted(owned) == sorted(set(owned))
        assert len(owned) == 10


# -- retention: resolved escalations are deleted after their time (streams/retention.py)

DAY = 86_400.0


def with_retention(table=None) -> Escalator:
    return Escalator(POLICY, {} if table is None else table, Expiry(keep_s=DAY, per_call=10))


def test_a_resolved_escalation_and_its_markers_go_after_retention():
    esc = with_retention()
    esc_id = run(esc, [(cand("r-1"), T0), (cand("r-2"), T0 + 5)])[0].escalation_id
    run(esc, [(action(esc_id, "resolve"), T0 + 60)], start=2)
    assert esc.forget_resolved(P, T0 + 60 + DAY - 1) == 0
    assert esc.get(esc_id) is not None  # not yet a day
    assert esc.forget_resolved(P, T0 + 60 + DAY + 1) == 1  # by whole second
    assert esc.get(esc_id) is None
    assert not [k for k in esc.table if k.startswith(("rep:", "esc:"))]
    with pytest.raises(UnknownEscalation):  # a late ack is answered 404
        run(esc, [(action(esc_id), T0 + 2 * DAY)], start=5)


def test_open_acknowledged_and_expired_escalations_are_kept_however_old():
    esc = with_retention()
    acked = run(esc, [(cand("r-1", address="A"), T0)])[0].escalation_id
    run(esc, [(action(acked), T0 + 1)], start=1)
    fire = run(esc, [(cand("r-2", code="BLOCKED_EXIT", address="B"), T0)], start=2)[0]
    ticks = [(TickCommand(), T0 + day * DAY) for day in range(1, 9)]  # a step each
    run(esc, ticks, start=3)
    assert esc.forget_resolved(P, T0 + 30 * DAY) == 0
    assert [e.status for e in (esc.get(acked), esc.get(fire.escalation_id)) if e] == [
        "acknowledged",
        "expired",
    ]
    assert esc.table.get("rep:TELECOM_FRAUD:r-1") == acked


def test_a_marker_that_names_another_escalation_is_left_alone():
    esc = with_retention()
    esc_id = run(esc, [(cand("r-1"), T0)])[0].escalation_id
    run(esc, [(action(esc_id, "resolve"), T0 + 60)], start=1)
    esc.table["rep:TELECOM_FRAUD:r-1"] = "esc-330203-ffffffffffffffff"  # chosen again since
    esc.forget_resolved(P, T0 + 2 * DAY)
    assert esc.get(esc_id) is None
    assert esc.table["rep:TELECOM_FRAUD:r-1"] == "esc-330203-ffffffffffffffff"


def test_after_a_rebalance_resolved_escalations_of_owned_partitions_are_found_again():
    first = with_retention()
    here = run(first, [(cand("r-1"), T0)])[0].escalation_id
    run(first, [(action(here, "resolve"), T0 + 60)], start=1)
    still_open = run(first, [(cand("r-9", address="other"), T0)], start=2)[0].escalation_id
    restored = with_retention(dict(first.table))  # a restore passes no command through it
    restored.rebuild_expiry({P + 1}, lambda district: P)  # not this worker's partition
    assert restored.forget_resolved(P, T0 + 2 * DAY) == 0
    assert restored.get(here) is not None
    restored.rebuild_expiry({P}, lambda district: P)
    assert restored.expiry is not None and len(restored.expiry) == 1
    assert restored.forget_resolved(P, T0 + 2 * DAY + 1) == 1
    assert restored.get(here) is None
    assert restored.get(still_open) is not None


def test_the_resolve_time_read_from_a_stored_state_is_the_models():
    esc = with_retention()
    esc_id = run(esc, [(cand("r-1"), T0)])[0].escalation_id
    run(esc, [(action(esc_id, "resolve"), T0 + 60.25)], start=1)
    stored = esc.table[f"esc:{esc_id}"]
    resolved = esc.get(esc_id)
    assert resolved is not None
    assert _stored_resolved_at(stored) == resolved_at(resolved) == T0 + 60.25
