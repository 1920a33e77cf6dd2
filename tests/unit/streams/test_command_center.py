"""The command center's escalation gauges follow the board without walking it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from schemas.escalation import EscalationEventV1
from streams import command_center
from streams.app import app
from streams.escalation.overview import overview


def lifecycle(esc: str, kind: str, at: float, level: int | None = None) -> bytes:
    return (
        EscalationEventV1.model_validate(
            {
                "event_id": f"{esc}:{kind}",
                "escalation_id": esc,
                "seq": 0,
                "type": kind,
                "at": datetime.fromtimestamp(at, UTC),
                "rule": "r",
                "code": "TELECOM_FRAUD" if esc.endswith("f") else "BLOCKED_EXIT",
                "severity": "critical",
                "district": "海曙区",
                "grid_id": "g",
                "level": level,
                "report_count": 1,
            }
        )
        .model_dump_json()
        .encode()
    )


async def test_the_agent_changes_the_gauges_with_the_board_and_a_restore_recounts_them():
    app.finalize()
    app.flow_control.resume()
    board, gauges = command_center.escalation_board, command_center.board_gauges
    board.data.clear()
    gauges.recount([])
    now = time.time()
    traffic = [
        ("esc-1f", "opened", now - 300, None),
        ("esc-2", "opened", now - 200, None),
        ("esc-1f", "escalated", now - 100, 1),
        ("esc-3f", "opened", now - 50, None),
        ("esc-3f", "resolved", now - 10, None),
        ("esc-2", "acknowledged", now - 5, None),
    ]
    async with command_center.watch_escalations.test_context() as agent:
        for esc, kind, at, level in traffic:
            await agent.put(lifecycle(esc, kind, at, level), key=esc.encode())
    entries = list(board.data.values())
    assert sorted(board.data) == ["esc-1f", "esc-2"], "resolved leaves the board"
    partitions = {int(e["partition"]) for e in entries}
    view = gauges.overview(partitions, now)
    assert view == overview(entries, now)
    assert view.overdue_by_code == {"TELECOM_FRAUD": 1}
    assert 300 <= view.oldest_unacknowledged_s["TELECOM_FRAUD"] < 301  # from its whole second

    # a rebalance restores the table from its changelog, past the agent: Faust then calls
    # the table's recover callbacks, and the gauges are counted afresh
    board.data["esc-9f"] = {"code": "TELECOM_FRAUD", "level": 2, "partition": 0, "opened_at": now}
    await command_center.recount_gauges()
    entries = list(board.data.values())
    assert gauges.overview({0, *partitions}, now) == overview(entries, now)
    assert command_center.recount_gauges in board._recover_callbacks  # type: ignore[attr-defined]
