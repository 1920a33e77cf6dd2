"""What a findings event asks of the escalator: candidates by policy, fraud sightings."""

from __future__ import annotations

from datetime import UTC, datetime

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
        assert agents.escalator.expiry.due(mine, now=T0 + 120) == [esc_id]
    finally:
        agents.escalator_table.data.clear()
