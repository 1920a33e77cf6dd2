"""Campaign detection over one digest's JSON state: open, grow, close, replay, bound."""

import copy
import dataclasses
import json
from typing import Any

import pytest

from streams.escalation.campaigns import (
    MAX_SIGHTINGS,
    CampaignDecision,
    CampaignState,
    Sighting,
    expired,
    observe,
)

DIGEST = "0123456789abcdef0123456789abcdef"
T0 = 1_762_178_045.0  # 2025-11-03 21:54:05 +08:00
HOUR = 3600.0
DAY = 24 * HOUR


def seen(report_id: str, grid_id: str, hours: float = 0.0, district: str = "海曙区") -> Sighting:
    return Sighting(
        digest=DIGEST,
        kind="phone",
        masked="138****5678",
        report_id=report_id,
        grid_id=grid_id,
        district=district,
        at=T0 + hours * HOUR,
    )


def run(
    sightings: list[Sighting], state: CampaignState | None = None, **options: Any
) -> tuple[CampaignState, list[CampaignDecision | None]]:
    """Observe in order; the final state and every decision (None included)."""
    decisions: list[CampaignDecision | None] = []
    for sighting in sightings:
        state, decision = observe(state, sighting, **options)
        decisions.append(decision)
    assert state is not None
    return state, decisions


def decided(decision: CampaignDecision | None) -> CampaignDecision:
    assert decision is not None
    return decision


THREE_GRIDS = [
    seen("r1", "g1", 0, "海曙区"),
    seen("r2", "g2", 5, "江北区"),
    seen("r3", "g3", 23, "海曙区"),
]


def test_three_grids_within_a_day_open_a_campaign():
    _, decisions = run(THREE_GRIDS)
    assert decisions[:2] == [None, None]
    assert decisions[2] == CampaignDecision(
        kind="opened",
        campaign_id=f"cmp-{DIGEST[:12]}-{int(T0)}",
        digest=DIGEST,
        indicator_kind="phone",
        masked="138****5678",
        reports=("r1", "r2", "r3"),
        grids=("g1", "g2", "g3"),
        districts=("海曙区", "江北区"),
        first_at=T0,
        last_at=T0 + 23 * HOUR,
    )


def test_three_reports_from_two_grids_do_not():
    _, decisions = run([seen("r1", "g1", 0), seen("r2", "g2", 1), seen("r3", "g1", 2)])
    assert decisions == [None, None, None]


def test_reports_25_hours_apart_do_not():
    state, decisions = run([seen("r1", "g1", 0), seen("r2", "g2", 25), seen("r3", "g3", 50)])
    assert decisions == [None, None, None]
    assert [s["report_id"] for s in state["sightings"]] == ["r3"]


def test_the_window_counts_from_the_newest_sighting():
    # g1 at 0h falls out when g3 arrives at 25h; g4 at 26h makes three grids again.
    sightings = [seen("r1", "g1", 0), seen("r2", "g2", 2), seen("r3", "g3", 25)]
    state, decisions = run(sightings + [seen("r4", "g4", 26)])
    assert decisions[:3] == [None, None, None]
    opened = decided(decisions[3])
    assert opened.reports == ("r2", "r3", "r4")
    assert opened.first_at == T0 + 2 * HOUR


def test_min_grids_and_window_are_options():
    _, decisions = run(THREE_GRIDS[:2], min_grids=2)
    assert decided(decisions[1]).kind == "opened"
    _, decisions = run(THREE_GRIDS, window_s=20 * HOUR)
    assert decisions == [None, None, None]


def test_a_replayed_sighting_changes_nothing():
    state, _ = run(THREE_GRIDS[:2])
    before = copy.deepcopy(state)
    again, decision = observe(state, THREE_GRIDS[1])
    assert decision is None
    assert again == before


def test_a_replay_after_the_campaign_opened_does_not_grow_it():
    state, _ = run(THREE_GRIDS)
    before = copy.deepcopy(state)
    for sighting in THREE_GRIDS:
        state, decision = observe(state, sighting)
        assert decision is None
    assert state == before


def test_the_same_report_id_counts_once_even_if_its_grid_differs():
    _, decisions = run([seen("r1", "g1", 0), seen("r2", "g2", 1), seen("r2", "g3", 2)])
    assert decisions == [None, None, None]


def test_observe_does_not_change_the_state_passed_in():
    state, _ = run(THREE_GRIDS[:2])
    before = copy.deepcopy(state)
    observe(state, THREE_GRIDS[2])
    assert state == before


def test_out_of_order_arrival_is_kept_in_time_order():
    late_first = [seen("r2", "g2", 0.1), seen("r3", "g3", 0.2), seen("r1", "g1", 0)]
    _, decisions = run(late_first)
    opened = decided(decisions[2])
    assert opened.kind == "opened"
    assert opened.reports == ("r1", "r2", "r3")
    assert opened.first_at == T0
    assert opened.last_at == T0 + 0.2 * HOUR
    assert opened.campaign_id == f"cmp-{DIGEST[:12]}-{int(T0)}"


@pytest.mark.parametrize("grids", [("g2", "g3"), ("g2", "g3", "g4")])
def test_a_sighting_older_than_the_window_of_the_newest_is_ignored(grids):
    # With three grids a campaign is open: it keeps old sightings, but takes no stale ones.
    state, _ = run([seen(f"r{n}", grid, 30 + n) for n, grid in enumerate(grids, start=2)])
    before = copy.deepcopy(state)
    state, decision = observe(state, seen("r1", "g1", 6))  # 25 h before the newest
    assert decision is None
    assert state == before


def test_every_new_sighting_grows_an_open_campaign():
    sightings = THREE_GRIDS + [seen("r4", "g1", 24, "海曙区"), seen("r5", "g9", 30, "北仑区")]
    _, decisions = run(sightings)
    opened, grew, grew_again = map(decided, decisions[2:])
    assert (grew.kind, grew_again.kind) == ("grew", "grew")
    assert grew.campaign_id == grew_again.campaign_id == opened.campaign_id
    assert grew.reports == ("r1", "r2", "r3", "r4")
    assert grew.grids == ("g1", "g2", "g3")
    assert grew_again.reports == ("r1", "r2", "r3", "r4", "r5")
    assert grew_again.districts == ("海曙区", "江北区", "北仑区")
    assert grew_again.first_at == T0
    assert grew_again.last_at == T0 + 30 * HOUR


def test_a_campaign_keeps_its_old_reports_while_it_stays_open():
    # Sightings 20 h apart keep it open for days; the first ones stay listed.
    sightings = THREE_GRIDS + [seen(f"r{n}", "g1", 23 + 20 * (n - 3)) for n in range(4, 8)]
    state, decisions = run(sightings)
    assert [decided(d).kind for d in decisions[2:]] == ["opened", "grew", "grew", "grew", "grew"]
    assert decided(decisions[-1]).reports == ("r1", "r2", "r3", "r4", "r5", "r6", "r7")
    assert len(state["sightings"]) == 7


def test_a_late_sighting_grows_the_campaign_without_changing_its_id():
    state, decisions = run([seen("r2", "g2", 1), seen("r3", "g3", 2), seen("r4", "g4", 3)])
    opened = decided(decisions[2])
    assert opened.campaign_id == f"cmp-{DIGEST[:12]}-{int(T0 + HOUR)}"
    _, decision = observe(state, seen("r1", "g1", 0))
    grew = decided(decision)
    assert grew.kind == "grew"
    assert grew.campaign_id == opened.campaign_id
    assert grew.reports == ("r1", "r2", "r3", "r4")
    assert grew.first_at == T0
    assert grew.last_at == T0 + 3 * HOUR


def test_after_a_quiet_window_the_campaign_closes_and_reopens_with_a_new_id():
    state, decisions = run(THREE_GRIDS)
    first_id = decided(decisions[2]).campaign_id
    # 23h + 24h is the last moment the campaign is open; this comes an hour after.
    later = [seen("r4", "g4", 48), seen("r5", "g5", 49), seen("r6", "g6", 50)]
    _, decisions = run(later, state)
    assert decisions[:2] == [None, None]
    reopened = decided(decisions[2])
    assert reopened.kind == "opened"
    assert reopened.campaign_id == f"cmp-{DIGEST[:12]}-{int(T0 + 48 * HOUR)}"
    assert reopened.campaign_id != first_id
    assert reopened.reports == ("r4", "r5", "r6")


def test_a_sighting_exactly_a_window_after_the_last_still_grows():
    state, _ = run(THREE_GRIDS)
    _, decision = observe(state, seen("r4", "g4", 23 + 24))
    assert decided(decision).kind == "grew"


def test_the_campaign_id_is_deterministic():
    stream = THREE_GRIDS + [seen("r4", "g4", 30)]
    assert run(stream)[1] == run(stream)[1]
    assert decided(run(stream)[1][2]).campaign_id == f"cmp-{DIGEST[:12]}-{int(T0)}"


def test_the_campaign_id_depends_on_the_digest():
    other = [dataclasses.replace(s, digest="f" * 32) for s in THREE_GRIDS]
    assert decided(run(other)[1][2]).campaign_id == f"cmp-ffffffffffff-{int(T0)}"


def test_the_state_survives_a_json_round_trip_unchanged():
    stream = [*THREE_GRIDS, seen("r4", "g4", 30), THREE_GRIDS[0], seen("r5", "g5", 60)]
    stream += [seen("r6", "g6", 61), seen("r7", "g7", 62)]
    direct_state, direct = run(stream)
    state, decisions = None, []
    for sighting in stream:
        state, decision = observe(state, sighting)
        state = json.loads(json.dumps(state))
        decisions.append(decision)
    assert decisions == direct
    assert state == direct_state
    # r1 replayed; r5 comes after a quiet window, and r5..r7 open a second campaign.
    kinds = [d and d.kind for d in decisions]
    assert kinds == [None, None, "opened", "grew", None, None, None, "opened"]
    assert decided(decisions[-1]).campaign_id != decided(decisions[2]).campaign_id
    assert expired(state, T0 + 62 * HOUR + DAY + 1)


def test_reopening_after_json_round_trip():
    state, _ = run(THREE_GRIDS)
    state = json.loads(json.dumps(state))
    _, decisions = run([seen("r4", "g4", 48), seen("r5", "g5", 49), seen("r6", "g6", 50)], state)
    assert decided(decisions[2]).kind == "opened"


def test_memory_is_bounded_to_the_newest_sightings():
    many = [seen(f"r{n}", "g1", n / 100) for n in range(MAX_SIGHTINGS + 50)]
    state, decisions = run(many)
    assert decisions == [None] * len(many)
    assert len(state["sightings"]) == MAX_SIGHTINGS
    assert state["sightings"][0]["report_id"] == "r50"
    assert state["sightings"][-1]["report_id"] == f"r{MAX_SIGHTINGS + 49}"
    assert len(json.dumps(state)) < 30_000


def test_an_open_campaign_lists_at_most_the_bound():
    many = [seen(f"r{n}", f"g{n % 5}", n / 100) for n in range(MAX_SIGHTINGS + 50)]
    state, decisions = run(many)
    assert decided(decisions[2]).kind == "opened"
    last = decided(decisions[-1])
    assert last.kind == "grew"
    assert len(last.reports) == MAX_SIGHTINGS
    assert last.reports[-1] == f"r{MAX_SIGHTINGS + 49}"
    assert last.first_at == T0  # the campaign's start, though r0 is no longer listed
    assert len(state["sightings"]) == MAX_SIGHTINGS


def test_a_replay_of_a_sighting_dropped_by_the_bound_changes_nothing():
    many = [seen(f"r{n}", f"g{n % 5}", n / 100) for n in range(MAX_SIGHTINGS + 1)]
    state, _ = run(many)
    before = copy.deepcopy(state)
    state, decision = observe(state, many[0])
    assert decision is None
    assert state == before


def test_expired_only_when_nothing_is_left_in_the_window():
    state, _ = run(THREE_GRIDS[:1])
    assert not expired(state, T0 + DAY)
    assert expired(state, T0 + DAY + 1)
    state, _ = run(THREE_GRIDS)
    assert state["campaign"] is not None
    assert not expired(state, T0 + 23 * HOUR + DAY)
    assert expired(state, T0 + 23 * HOUR + DAY + 1)
    assert not expired(state, T0 + 23 * HOUR + 11 * HOUR, window_s=12 * HOUR)
    assert expired(state, T0 + 23 * HOUR + 13 * HOUR, window_s=12 * HOUR)


def test_an_empty_state_is_expired():
    assert expired({"sightings": [], "campaign": None}, T0)


@pytest.mark.parametrize(("window_s", "min_grids"), [(0, 3), (-1.0, 3), (DAY, 0)])
def test_nonsense_options_are_refused(window_s, min_grids):
    with pytest.raises(ValueError, match="window_s"):
        observe(None, THREE_GRIDS[0], window_s=window_s, min_grids=min_grids)
