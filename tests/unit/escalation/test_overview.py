"""The command center's view of escalations: open, overdue, oldest unacknowledged."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from schemas.escalation import EscalationEventV1
from streams.escalation.overview import Board, apply_event, overview

T0 = 1_764_000_000.0


def event(
    kind: str, at: float, level: int | None = None, code: str = "TELECOM_FRAUD", esc: str = "esc-1"
) -> EscalationEventV1:
    return EscalationEventV1.model_validate(
        {
            "event_id": f"{esc}:{kind}",
            "escalation_id": esc,
            "seq": 0,
            "type": kind,
            "at": datetime.fromtimestamp(at, UTC),
            "rule": "r",
            "code": code,
            "severity": "critical",
            "district": "海曙区",
            "grid_id": "g",
            "level": level,
            "report_count": 1,
        }
    )


def life(*events: EscalationEventV1) -> dict[str, object]:
    entry: dict[str, object] | None = None
    for e in events:
        entry = apply_event(entry, e, partition=3)
    assert entry is not None
    return entry


def test_an_open_unanswered_fraud_escalation_ages_from_its_opening():
    entry = life(event("opened", T0), event("notified", T0, level=0))
    view = overview([entry], now=T0 + 400)
    assert view.open_by_code_level == {("TELECOM_FRAUD", 0): 1}
    assert view.oldest_unacknowledged_s == {"TELECOM_FRAUD": 400}
    assert view.overdue_by_code == {}
    assert entry["partition"] == 3


def test_a_missed_deadline_makes_it_overdue_until_acknowledged():
    climbed = life(event("opened", T0), event("escalated", T0 + 120, level=1))
    assert overview([climbed], T0 + 130).overdue_by_code == {"TELECOM_FRAUD": 1}
    assert overview([climbed], T0 + 130).open_by_code_level == {("TELECOM_FRAUD", 1): 1}
    acked = apply_event(climbed, event("acknowledged", T0 + 200), partition=3)
    assert acked is not None
    view = overview([acked], T0 + 300)
    assert view.overdue_by_code == {}
    assert view.oldest_unacknowledged_s == {}
    assert view.open_by_code_level == {("TELECOM_FRAUD", 1): 1}, "acknowledged is still open"


def test_expired_unanswered_is_overdue_and_resolved_leaves_the_board():
    expired = life(event("opened", T0), event("expired", T0 + 900))
    assert overview([expired], T0 + 901).overdue_by_code == {"TELECOM_FRAUD": 1}
    assert apply_event(expired, event("resolved", T0 + 950), partition=3) is None


def test_codes_are_kept_apart_and_the_oldest_wins():
    fire = life(event("opened", T0 + 50, code="EBIKE_CHARGING", esc="esc-2"))
    old = life(event("opened", T0))
    new = life(event("opened", T0 + 100, esc="esc-3"))
    view = overview([fire, old, new], T0 + 200)
    assert view.oldest_unacknowledged_s == {"TELECOM_FRAUD": 200, "EBIKE_CHARGING": 150}
    assert view.open_by_code_level[("TELECOM_FRAUD", 0)] == 2


def test_the_open_list_puts_fraud_first_then_unacknowledged_then_oldest():
    from streams.command_center import sort_open

    rows = [
        {"escalation_id": "fire-old", "code": "BLOCKED_EXIT", "acknowledged": False, "age_s": 900},
        {
            "escalation_id": "fraud-acked",
            "code": "TELECOM_FRAUD",
            "acknowledged": True,
            "age_s": 50,
        },
        {"escalation_id": "fraud-new", "code": "TELECOM_FRAUD", "acknowledged": False, "age_s": 10},
        {"escalation_id": "campaign", "code": "FRAUD_CAMPAIGN", "acknowledged": False, "age_s": 30},
    ]
    order = [r["escalation_id"] for r in sort_open(rows)]
    assert order == ["campaign", "fraud-new", "fraud-acked", "fire-old"]


# -- Board: the same figures as ``overview``, kept up to date entry by entry

_KINDS = ("opened", "notified", "escalated", "acknowledged", "expired", "resolved")
_CODES = ("TELECOM_FRAUD", "BLOCKED_EXIT")


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, int, EscalationEventV1]]:
    """Lifecycle events of a few escalations on a few partitions, interleaved at random."""
    steps = draw(st.lists(st.tuples(st.integers(0, 7), st.sampled_from(_KINDS)), max_size=60))
    events = []
    for n, (esc, kind) in enumerate(steps):
        level = draw(st.none() | st.integers(0, 3))
        at = T0 + draw(st.integers(0, 600)) + n + draw(st.sampled_from((0.0, 0.25, 0.999)))
        code = _CODES[esc % 2]
        events.append((f"esc-{esc}", esc % 3, event(kind, at, level, code=code, esc=f"esc-{esc}")))
    return events


@given(histories(), st.integers(0, 2000), st.sets(st.integers(0, 2)))
def test_the_board_agrees_with_counting_every_entry(history, later, owned):
    board, gauges = dict[str, dict[str, object]](), Board()
    for esc_id, partition, e in history:
        before = board.get(esc_id)
        after = apply_event(before, e, partition)
        if after is None:
            board.pop(esc_id, None)
        else:
            board[esc_id] = after
        gauges.change(before, after)
        mine = [entry for entry in board.values() if entry["partition"] in owned]
        assert gauges.overview(owned, T0 + later) == overview(mine, T0 + later)
    recounted = Board()
    recounted.recount(board.values())
    assert recounted.overview(owned, T0 + later) == gauges.overview(owned, T0 + later)


def test_the_oldest_moves_on_when_the_oldest_is_acknowledged():
    gauges, board = Board(), dict[str, dict[str, object]]()
    for esc_id, at in (("esc-a", T0), ("esc-b", T0 + 100)):
        board[esc_id] = life(event("opened", at, esc=esc_id))
        gauges.change(None, board[esc_id])
    assert gauges.overview([3], T0 + 300).oldest_unacknowledged_s == {"TELECOM_FRAUD": 300}
    acked = apply_event(board["esc-a"], event("acknowledged", T0 + 200, esc="esc-a"), 3)
    assert acked is not None
    gauges.change(board["esc-a"], acked)
    assert gauges.overview([3], T0 + 300).oldest_unacknowledged_s == {"TELECOM_FRAUD": 200}
    assert gauges.overview([3], T0 + 300).open_by_code_level == {("TELECOM_FRAUD", 0): 2}
    assert gauges.overview([1, 2], T0 + 300).open_by_code_level == {}, "other partitions"


def test_emptied_seconds_do_not_pile_up_in_the_heap():
    gauges = Board()
    for n in range(5000):
        entry = life(event("opened", T0 + n, esc=f"esc-{n}"))
        gauges.change(None, entry)
        gauges.change(entry, None)  # resolved at once
    share = gauges._shares[3]
    assert len(share.heaps["TELECOM_FRAUD"]) <= 64 + 1
    assert gauges.overview([3], T0).open_by_code_level == {}


def test_a_burst_in_one_second_is_one_count_and_ages_from_its_whole_second():
    gauges = Board()
    for n in range(1000):
        gauges.change(None, life(event("opened", T0 + 0.7 + n / 5000, esc=f"esc-{n}")))
    share = gauges._shares[3]
    assert share.unacked["TELECOM_FRAUD"] == {int(T0): 1000}
    assert share.heaps["TELECOM_FRAUD"] == [int(T0)]
    assert gauges.overview([3], T0 + 10.5).oldest_unacknowledged_s == {"TELECOM_FRAUD": 10.5}


def test_an_id_back_on_the_board_ages_from_its_new_opening():
    gauges = Board()
    first = life(event("opened", T0))
    gauges.change(None, first)
    gauges.change(first, None)  # resolved
    again = life(event("notified", T0 + 500, level=0))  # a late event after the resolve
    gauges.change(None, again)
    assert gauges.overview([3], T0 + 600).oldest_unacknowledged_s == {"TELECOM_FRAUD": 100}
