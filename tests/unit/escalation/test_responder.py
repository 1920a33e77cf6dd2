"""The responder's terminal: what it shows to which role, and what it understands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.escalation import EscalationEventV1, ReportRef
from streams.escalation.policy import load_policy
from streams.escalation.responder import Board, Command, parse_command, render

POLICY = load_policy()


def event(esc: str, kind="notified", targets=("anti_fraud_centre",), code="TELECOM_FRAUD"):
    return EscalationEventV1(
        event_id=f"{esc}:1",
        escalation_id=esc,
        seq=1,
        type=kind,
        at=datetime(2025, 11, 3, 13, 14, tzinfo=UTC),
        rule="r",
        code=code,
        severity="critical",
        district="海曙区",
        grid_id="330203-GL-017",
        level=0,
        targets=targets,
        report_count=1,
        reports=(
            ReportRef(
                report_id="r-1",
                reported_at=datetime(2025, 11, 3, 13, 14, tzinfo=UTC),
                grid_id="330203-GL-017",
                text="老人被远程控制，联系电话139****5678",
                contact_phone="139****5678",
            ),
        ),
    )


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("ack 3", Command("ack", 3)),
        ("ack 3 已到现场", Command("ack", 3, None, "已到现场")),
        ("resolve 2 false_alarm 误报", Command("resolve", 2, "false_alarm", "误报")),
        ("resolve 2 处理完毕", Command("resolve", 2, None, "处理完毕")),
        ("", Command("list")),
        ("QUIT", Command("quit")),
    ],
)
def test_commands(line, parsed):
    assert parse_command(line) == parsed


@pytest.mark.parametrize(
    ("line", "says"), [("ack", "needs the escalation's number"), ("fly 1", "unknown")]
)
def test_bad_commands_say_why(line, says):
    answer = parse_command(line)
    assert isinstance(answer, str)
    assert says in answer


def test_a_role_sees_what_notifies_it_and_then_follows_it():
    police = Board(POLICY, "police")
    assert police.update(event("esc-a")) is True
    assert police.update(event("esc-b", targets=("street_platform",))) is False
    assert police.update(event("esc-a", kind="acknowledged", targets=())) is True
    assert [e.escalation_id for _, e in police.open_items()] == ["esc-a"]
    assert police.escalation_id(1) == "esc-a"
    assert police.escalation_id(2) is None


def test_closed_ones_leave_the_list_and_fraud_comes_first():
    street = Board(POLICY, "street")
    street.update(event("esc-fire", targets=("street_platform",), code="BLOCKED_EXIT"))
    street.update(event("esc-fraud", targets=("street_platform",)))
    street.update(event("esc-old", targets=("street_platform",)))
    street.update(event("esc-old", kind="resolved", targets=()))
    assert [e.escalation_id for _, e in street.open_items()] == ["esc-fraud", "esc-fire"]


def test_a_line_shows_number_status_level_and_masked_text():
    line = render(4, event("esc-a"))
    assert line.startswith("[4] ")
    assert "OPEN L0 TELECOM_FRAUD critical" in line
    assert "139****5678" in line
