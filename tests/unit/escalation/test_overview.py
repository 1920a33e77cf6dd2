"""The command center's view of escalations: open, overdue, oldest unacknowledged."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.escalation import EscalationEventV1
from streams.escalation.overview import apply_event, overview

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
