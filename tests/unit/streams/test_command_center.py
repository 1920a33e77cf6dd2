"""The command center: escalation gauges follow the board without walking it; a revoked
intake partition's counts in memory are forgotten."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from faust.types import TP

from schemas.escalation import EscalationEventV1
from streams import command_center
from streams.app import app, settings
from streams.escalation.overview import overview
from streams.intake import intake_tally


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


async def test_a_revoked_intake_partition_s_counts_in_memory_are_forgotten():
    """Its next owner starts from the table; other partitions keep counting here."""
    tally, topics = intake_tally, settings.topics
    tally.through.update({"r3": 41, "k3": 5, "r4": 9})
    try:
        revoked = {TP(topics.reports, 3), TP(topics.rekey, 3), TP(topics.escalations, 4)}
        await command_center._forget_revoked(object(), revoked, signal=None)
        assert "r3" not in tally.through and "k3" not in tally.through
        assert tally.through["r4"] == 9
    finally:
        tally.forget(["r3", "k3", "r4"])
