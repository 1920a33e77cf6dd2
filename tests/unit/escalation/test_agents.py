"""What a findings event asks of the escalator: candidates by policy, fraud sightings."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from schemas.findings import FindingsEventV1
from streams.escalation.agents import candidates, sightings

AT = datetime(2025, 11, 3, 13, 14, tzinfo=UTC)


def findings_event(*findings: tuple[str, str], indicators=()) -> FindingsEventV1:
    return FindingsEventV1.model_validate(
        {
            "report_id": "r-1",
            "reported_at": AT,
            "channel": "grid_app",
            "reporter_role": "grid_worker",
            "district": "海曙区",
            "grid_id": "330203-GL-017",
            "address": "翠柏里5幢",
            "findings": [{"code": c, "severity": s, "evidence": []} for c, s in findings],
            "severity": findings[0][1] if findings else None,
            "classified_at": AT,
            "text": "…",
            "contact_phone": "139****5678",
            "sealed_pii": "token",
            "indicators": list(indicators),
        }
    )


def test_each_finding_the_policy_escalates_is_a_candidate_and_low_ones_are_not():
    event = findings_event(("TELECOM_FRAUD", "critical"), ("BLOCKED_EXIT", "low"))
    (cand,) = candidates(event)
    assert (cand.code, cand.severity, cand.district, cand.address) == (
        "TELECOM_FRAUD",
        "critical",
        "海曙区",
        "翠柏里5幢",
    )
    assert (cand.report.report_id, cand.report.sealed_pii) == ("r-1", "token")


def test_indicators_become_sightings_only_in_fraud_reports_at_the_report_time():
    phone = {"kind": "phone", "digest": "d" * 32, "masked": "170****5678"}
    fraud = findings_event(("TELECOM_FRAUD", "medium"), indicators=[phone])
    (seen,) = sightings(fraud)
    assert (seen.digest, seen.grid_id, seen.at) == ("d" * 32, "330203-GL-017", AT.timestamp())
    assert sightings(findings_event(("EBIKE_CHARGING", "high"), indicators=[phone])) == []


async def test_after_a_rebalance_the_escalator_finds_its_resolved_escalations(monkeypatch):
    from faust.types import TP

    from streams.app import app, settings
    from streams.escalation import agents
    from streams.escalation.commands import district_partition
    from streams.escalation.escalator import Escalator
    from streams.retention import Expiry
    from tests.unit.escalation.test_escalator import T0, action, cand, run

    app.finalize()
    resolved = Escalator(agents.policy, {})
    esc_id = run(resolved, [(cand("r-1"), T0)])[0].escalation_id
    run(resolved, [(action(esc_id, "resolve"), T0 + 60)], start=1)
    mine = district_partition("海曙区", settings.kafka.partitions)
    owned = {TP(settings.topics.escalation_commands, mine), TP(settings.topics.reports, 5)}
    monkeypatch.setattr(app.consumer, "assignment", lambda: owned)
    monkeypatch.setattr(agents.escalator, "expiry", Expiry(keep_s=60))
    agents.escalator_table.data.update(resolved.table)
    try:
        await agents.rebuild_escalator_expiry()
        assert agents.escalator.expiry is not None
        assert agents.escalator.expiry.due(mine, now=T0 + 121) == [esc_id]
    finally:
        agents.escalator_table.data.clear()


def sighting_json(digest: str, report_id: str, at: float) -> bytes:
    fields: dict[str, object] = {"digest": digest, "kind": "phone", "masked": "170****0000"}
    fields |= {"report_id": report_id, "grid_id": "330203-GL-017", "district": "海曙区", "at": at}
    return json.dumps(fields).encode()


@pytest.fixture
def campaign_app(monkeypatch):
    from streams.app import app
    from streams.escalation import agents
    from streams.retention import Expiry

    app.finalize()
    app.flow_control.resume()
    agents.campaign_table.data.clear()
    window = agents.policy.campaigns.window
    monkeypatch.setattr(agents, "_campaign_expiry", Expiry(window + 1.0))
    yield agents, window
    agents.campaign_table.data.clear()


async def test_an_indicator_quiet_for_a_window_is_forgotten_by_report_time(campaign_app):
    agents, window = campaign_app
    t0 = 1_700_000_000.0
    async with agents.watch_campaigns.test_context() as agent:
        await agent.put(sighting_json("d-old", "r-1", t0), key=b"d-old", partition=1)
        await agent.put(sighting_json("d-new", "r-2", t0 + window), key=b"d-new", partition=1)
        assert set(agents.campaign_table.data) == {"d-old", "d-new"}  # a window, not more
        await agent.put(sighting_json("d-far", "r-3", t0 + window + 5), key=b"d-far", partition=4)
        assert "d-old" in agents.campaign_table.data  # a message of another partition
        await agent.put(sighting_json("d-x", "r-4", t0 + window + 5), key=b"d-x", partition=1)
        assert set(agents.campaign_table.data) == {"d-new", "d-far", "d-x"}


async def test_a_misdated_report_from_the_future_clears_nothing(campaign_app):
    agents, window = campaign_app
    now = time.time()
    async with agents.watch_campaigns.test_context() as agent:
        await agent.put(sighting_json("d-today", "r-1", now - 60), key=b"d", partition=1)
        future = now + 10 * window
        await agent.put(sighting_json("d-future", "r-2", future), key=b"f", partition=1)
    assert "d-today" in agents.campaign_table.data


async def test_an_indicator_seen_again_is_kept_for_its_new_sighting(campaign_app):
    agents, window = campaign_app
    t0 = 1_700_000_000.0
    agents._campaign_expiry.note(1, "d-1", t0 - window - 10)  # its sightings before...
    async with agents.watch_campaigns.test_context() as agent:
        await agent.put(sighting_json("d-1", "r-1", t0), key=b"d-1", partition=1)  # ...and now
        await agent.put(sighting_json("d-2", "r-2", t0 + 2), key=b"d-2", partition=1)
    assert "d-1" in agents.campaign_table.data


async def test_after_a_rebalance_indicators_of_owned_partitions_are_found_again(
    campaign_app, monkeypatch
):
    from faust.types import TP

    from streams.app import app, settings
    from streams.partitioning import partition_of

    agents, window = campaign_app
    digests = [f"digest-{i}" for i in range(12)]
    where = {d: partition_of(d.encode(), settings.kafka.partitions) for d in digests}
    mine = where[digests[0]]
    for d in digests:
        agents.campaign_table.data[d] = {"sightings": [{"at": 100.0}], "campaign": None}
    owned = {TP(settings.topics.indicators, mine), TP(settings.topics.reports, mine + 1)}
    monkeypatch.setattr(app.consumer, "assignment", lambda: owned)
    await agents.rebuild_campaign_expiry()
    due = agents._campaign_expiry.due(mine, now=100.0 + window + 2)
    assert len(agents._campaign_expiry) + len(due) == sum(p == mine for p in where.values())
    assert {where[d] for d in due} == {mine}


def test_housekeeping_after_a_tick_counts_its_deletes_and_never_raises(monkeypatch, caplog):
    from streams.app import registry
    from streams.escalation import agents

    def deleted() -> float:
        labels = {"table": "escalator"}
        return registry.get_sample_value("grid_retention_deleted_total", labels) or 0.0

    before = deleted()
    monkeypatch.setattr(agents.escalator, "forget_resolved", lambda partition, now: 3)
    agents.forget_resolved(2, 1000.0)
    assert deleted() == before + 3

    def broken(partition: int, now: float) -> int:
        raise RuntimeError("changelog gone")

    monkeypatch.setattr(agents.escalator, "forget_resolved", broken)
    agents.forget_resolved(2, 1000.0)  # logged, not raised: the tick's events are already out
    assert "could not delete resolved escalations of partition 2" in caplog.text
