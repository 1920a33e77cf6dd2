"""One escalation's life with a controllable clock: open, climb, acknowledge, group, expire."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.escalation import CampaignInfo, EscalationActionV1, ReportRef
from streams.escalation.lifecycle import (
    MAX_REPORTS_LISTED,
    Candidate,
    Escalation,
    IndexEntry,
    act,
    advance,
    district_of,
    escalation_id,
    find_group,
    join,
    open_escalation,
)
from streams.escalation.policy import Rule, load_policy

POLICY = load_policy()


def rule(code: str, severity: str) -> Rule:
    found = POLICY.rule_for(code, severity)
    assert found is not None
    return found


FRAUD = rule("TELECOM_FRAUD", "critical")
FIRE_HIGH = rule("EBIKE_CHARGING", "high")
T0 = 1_764_000_000.0


def candidate(report_id="r-1", code="TELECOM_FRAUD", severity="critical", **place) -> Candidate:
    fields = {"grid_id": "330203-GL-017", "address": "翠柏里5幢", "lat": 29.87, "lon": 121.54}
    fields |= place
    report = ReportRef(
        report_id=report_id,
        reported_at=datetime.fromtimestamp(T0, UTC),
        grid_id=fields["grid_id"],
        address=fields["address"],
        text="老人手机被远程控制，正在转账",
    )
    return Candidate(code=code, severity=severity, district="海曙区", report=report, **fields)


def ack(esc: Escalation, action="ack", **more) -> EscalationActionV1:
    return EscalationActionV1(escalation_id=esc.escalation_id, action=action, by="王警官", **more)


def kinds(esc: Escalation, cause: int) -> list[str]:
    return [e.type for e in esc.events_caused_by(cause)]


def opened() -> Escalation:
    return open_escalation(candidate(), FRAUD, T0, cause=10)


def test_opening_notifies_the_first_step_and_sets_its_deadline():
    esc = opened()
    events = esc.events_caused_by(10)
    assert [e.type for e in events] == ["opened", "notified"]
    assert set(events[1].targets) == {"anti_fraud_centre", "bank_hotline", "community"}
    assert events[1].level == 0
    assert esc.deadline == T0 + 120
    assert events[1].ack_deadline == datetime.fromtimestamp(T0 + 120, UTC)
    assert [e.event_id for e in events] == [f"{esc.escalation_id}:0", f"{esc.escalation_id}:1"]


def test_nothing_happens_before_the_timeout():
    esc = opened()
    assert advance(esc, FRAUD, T0 + 119.9, cause=11) is esc


def test_unacknowledged_it_climbs_to_the_next_level_when_the_timeout_passes():
    esc = advance(opened(), FRAUD, T0 + 120, cause=11)
    assert kinds(esc, 11) == ["escalated", "notified"]
    escalated, notified = esc.events_caused_by(11)
    assert escalated.level == notified.level == 1
    assert notified.targets == ("street_platform",)
    assert esc.deadline == T0 + 120 + 180
    assert esc.applied == 11


def test_a_late_tick_climbs_one_step_and_gives_it_its_full_timeout():
    esc = advance(opened(), FRAUD, T0 + 1000, cause=11)
    assert esc.step == 1
    assert esc.deadline == T0 + 1000 + 180


def test_after_the_last_level_it_repeats_then_expires():
    esc, now, cause = opened(), T0, 11
    notified_levels = []
    while esc.status == "open":
        now = esc.deadline  # type: ignore[assignment]
        esc = advance(esc, FRAUD, now, cause)
        notified_levels += [
            (e.round, e.level) for e in esc.events_caused_by(cause) if e.type == "notified"
        ]
        cause += 1
    rounds = FRAUD.repeat + 1
    assert esc.status == "expired"
    assert kinds(esc, cause - 1) == ["expired"]
    assert notified_levels == [(r, lvl) for r in range(rounds) for lvl in (0, 1, 2)][1:]
    assert esc.deadline is None


def test_a_sequence_level_notifies_its_targets_one_at_a_time_without_escalating():
    esc = open_escalation(candidate(code="EBIKE_CHARGING", severity="high"), FIRE_HIGH, T0, 1)
    assert esc.events_caused_by(1)[-1].targets == ("grid_worker",)
    esc = advance(esc, FIRE_HIGH, T0 + 1800, 2)
    assert kinds(esc, 2) == ["notified"]
    assert esc.events_caused_by(2)[0].targets == ("property_management",)
    esc = advance(esc, FIRE_HIGH, T0 + 3600, 3)
    assert kinds(esc, 3) == ["escalated", "notified"]
    assert esc.events_caused_by(3)[1].targets == ("community",)


def test_acknowledged_it_stops_climbing():
    esc, reason = act(opened(), ack(opened(), note="已联系银行止付"), T0 + 30, 11)
    assert reason is None
    assert esc.status == "acknowledged"
    (event,) = esc.events_caused_by(11)
    assert (event.type, event.by, event.note) == ("acknowledged", "王警官", "已联系银行止付")
    assert advance(esc, FRAUD, T0 + 10_000, 12) is esc


def test_a_second_ack_changes_nothing_and_says_why():
    esc, _ = act(opened(), ack(opened()), T0 + 30, 11)
    again, reason = act(esc, ack(esc), T0 + 40, 12)
    assert again is esc
    assert reason == "already acknowledged"


def test_resolve_closes_it_with_the_outcome_and_stops_grouping():
    esc, _ = act(opened(), ack(opened(), action="resolve", outcome="false_alarm"), T0 + 60, 11)
    (event,) = esc.events_caused_by(11)
    assert (esc.status, event.type, event.outcome) == ("resolved", "resolved", "false_alarm")
    assert act(esc, ack(esc), T0 + 70, 12) == (esc, "already resolved")
    index = {esc.escalation_id: IndexEntry.of(esc)}
    assert find_group(index, candidate("r-2"), FRAUD, T0 + 61, POLICY.grouping) is None


def test_an_expired_escalation_can_still_be_acknowledged_late():
    esc = opened().model_copy(update={"status": "expired", "deadline": None})
    esc, reason = act(esc, ack(esc), T0 + 5000, 20)
    assert reason is None
    assert esc.status == "acknowledged"


def test_a_report_joins_and_is_counted_once():
    esc = join(opened(), candidate("r-2"), T0 + 5, 11)
    assert kinds(esc, 11) == ["grouped"]
    assert esc.events_caused_by(11)[0].reports[0].report_id == "r-2"
    assert (esc.report_count, [r.report_id for r in esc.reports]) == (2, ["r-1", "r-2"])
    assert join(esc, candidate("r-2"), T0 + 6, 12) is esc


def test_a_big_group_counts_every_report_but_lists_the_first_ones():
    esc = opened()
    for n in range(2, MAX_REPORTS_LISTED + 20):
        esc = join(esc, candidate(f"r-{n}"), T0 + n, n)
    assert esc.report_count == MAX_REPORTS_LISTED + 19
    assert len(esc.reports) == MAX_REPORTS_LISTED


def index_of(esc: Escalation) -> dict[str, IndexEntry]:
    return {esc.escalation_id: IndexEntry.of(esc)}


@pytest.mark.parametrize(
    ("place", "joins"),
    [
        ({}, True),  # same grid and address
        ({"lat": 29.8703, "lon": 121.5401, "address": "翠柏里6幢"}, True),  # ~35 m away
        ({"grid_id": "330203-GL-018", "address": None, "lat": 29.8702, "lon": 121.54}, True),
        ({"lat": 29.8706, "lon": 121.54, "address": "翠柏里9幢"}, False),  # ~67 m away
        ({"address": "翠柏里9幢", "lat": None, "lon": None}, False),
        ({"grid_id": "330203-GL-099"}, False),  # same address text in another grid, far away?
    ],
)
def test_grouping_by_grid_and_address_or_within_fifty_metres(place, joins):
    if place.get("grid_id") == "330203-GL-099":
        place |= {"lat": 29.90, "lon": 121.60}
    found = find_group(
        index_of(opened()), candidate("r-2", **place), FRAUD, T0 + 60, POLICY.grouping
    )
    assert (found is not None) == joins


def test_no_grouping_without_address_or_coordinates():
    esc = open_escalation(candidate(address=None, lat=None, lon=None), FRAUD, T0, 1)
    cand = candidate("r-2", address=None, lat=None, lon=None)
    assert find_group(index_of(esc), cand, FRAUD, T0 + 1, POLICY.grouping) is None


def test_grouping_needs_the_same_rule_and_the_window():
    esc = opened()
    other_rule = rule("TELECOM_FRAUD", "high")
    assert find_group(index_of(esc), candidate("r-2"), other_rule, T0 + 1, POLICY.grouping) is None
    late = T0 + POLICY.grouping.window + 1
    assert find_group(index_of(esc), candidate("r-2"), FRAUD, late, POLICY.grouping) is None


def campaign_candidate(campaign_id: str, report_id: str) -> Candidate:
    info = CampaignInfo(
        campaign_id=campaign_id,
        indicator_kind="phone",
        indicator="170****1234",
        grids=("g1", "g2", "g3"),
        districts=("海曙区",),
    )
    return candidate(report_id, code="FRAUD_CAMPAIGN", severity="high").model_copy(
        update={"campaign": info}
    )


def test_campaigns_group_by_campaign_id_not_by_place():
    campaign_rule = rule("FRAUD_CAMPAIGN", "high")
    esc = open_escalation(campaign_candidate("cmp-a", "r-1"), campaign_rule, T0, 1)
    same = find_group(
        index_of(esc), campaign_candidate("cmp-a", "r-9"), campaign_rule, T0 + 5, POLICY.grouping
    )
    other = find_group(
        index_of(esc), campaign_candidate("cmp-b", "r-1"), campaign_rule, T0 + 5, POLICY.grouping
    )
    assert (same, other) == (esc.escalation_id, None)
    assert esc.escalation_id == escalation_id("海曙区", "FRAUD_CAMPAIGN", "cmp-a")


def test_ids_are_deterministic_and_name_their_district():
    first, again = opened(), opened()
    assert first.escalation_id == again.escalation_id
    assert first.escalation_id != open_escalation(candidate("r-other"), FRAUD, T0, 1).escalation_id
    assert first.escalation_id.startswith("esc-330203-")
    assert district_of(first.escalation_id) == "海曙区"


@pytest.mark.parametrize("bad", ["esc-999999-0123456789abcdef", "x-330203-abc", "esc-330203", ""])
def test_foreign_ids_have_no_district(bad):
    assert district_of(bad) is None


def test_state_survives_a_json_round_trip_as_the_table_stores_it():
    esc = advance(join(opened(), candidate("r-2"), T0 + 1, 11), FRAUD, T0 + 500, 12)
    assert Escalation.model_validate_json(esc.model_dump_json()) == esc
