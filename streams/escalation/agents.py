"""The escalation agents: thin wiring of the pure escalator, policy and campaigns onto Kafka.

    intake (as it classifies) ──> alerts.commands   (candidates, by district)
                              └──> alerts.indicators (fraud sightings, by digest)
    alerts.indicators ──> watch_campaigns ──> alerts.commands (campaign candidates)
    alerts.acks, HTTP ──> route_actions ──> alerts.commands (acks, resolves)
    leader timer ──> alerts.commands (a tick per partition)
    alerts.commands ──> escalate (one table) ──> alerts.escalations ──> notifier (webhooks)

Every input of the escalator goes through one topic so that its decisions follow one order
per district, and its time is the broker's append time of each command: a replay decides the
same. Routing agents are at least once; the escalator recognises a re-sent candidate.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import math
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from time import perf_counter

import faust

from schemas.escalation import (
    AlertDeadLetterV1,
    AlertErrorKind,
    CampaignInfo,
    EscalationActionV1,
    EscalationEventV1,
    ReportRef,
    escalation_action_adapter,
)
from schemas.findings import FindingsEventV1
from streams.app import app, metrics, outputs, owned_partitions, settings
from streams.escalation.campaigns import CampaignDecision, CampaignState, Sighting, observe
from streams.escalation.commands import (
    ActionCommand,
    CandidateCommand,
    TickCommand,
    command_adapter,
    district_partition,
)
from streams.escalation.escalator import Escalator, UnknownEscalation
from streams.escalation.lifecycle import Candidate, district_of
from streams.escalation.policy import CAMPAIGN_CODE, load_policy
from streams.partitioning import partition_of
from streams.retention import DAY_S, Expiry
from streams.topics import (
    acks_topic,
    alerts_dlq_topic,
    commands_topic,
    dead_letter_failed,
    indicators_topic,
)

__all__ = [
    "candidates",
    "escalate",
    "escalator",
    "escalator_table",
    "forget_quiet_indicators",
    "forget_resolved",
    "last_sighting",
    "policy",
    "rebuild_campaign_expiry",
    "rebuild_escalator_expiry",
    "route_actions",
    "route_findings",
    "send_action",
    "sightings",
    "watch_campaigns",
]

log = logging.getLogger(__name__)

policy = load_policy(settings.escalation.policy_file)
_PARTITIONS = settings.kafka.partitions
_JSON: faust.Schema[str, object] = faust.Schema(key_serializer="json", value_serializer="json")

escalator_table = app.Table("escalator", default=None, schema=_JSON)
campaign_table = app.Table("campaign-sightings", default=None, schema=_JSON)
# Resolved escalations are deleted after retention, up to 50 a tick (one tick a second per
# partition; resolves come far less often).
_resolved_expiry = Expiry(settings.retention.closed_escalations_days * DAY_S, per_call=50)
escalator = Escalator(policy, escalator_table, _resolved_expiry)


@escalator_table.on_recover
async def rebuild_escalator_expiry() -> None:
    """After a rebalance: the resolved escalations of this worker's partitions, by time."""
    owned = owned_partitions(settings.topics.escalation_commands)
    escalator.rebuild_expiry(owned, lambda district: district_partition(district, _PARTITIONS))


# -- pure: what a findings event asks of the escalator


def candidates(event: FindingsEventV1) -> list[Candidate]:
    """One candidate per finding that the policy escalates."""
    report = ReportRef(
        report_id=event.report_id,
        reported_at=event.reported_at,
        grid_id=event.grid_id,
        address=event.address,
        text=event.text,
        contact_phone=event.contact_phone,
        sealed_pii=event.sealed_pii,
    )
    place = {"grid_id": event.grid_id, "address": event.address, "lat": event.lat, "lon": event.lon}
    return [
        Candidate(
            code=f.code,
            severity=f.severity,
            district=event.district,
            fraud_type=f.fraud_type,
            report=report,
            **place,
        )
        for f in event.findings
        if policy.rule_for(f.code, f.severity) is not None
    ]


def sightings(event: FindingsEventV1) -> list[Sighting]:
    """The fraud indicators of a report with a fraud finding, one sighting each.

    A sighting's time is the report's, so "3 grids within 24 hours" means 24 hours of what
    was reported, also when a backlog is replayed.
    """
    if not any(f.code == "TELECOM_FRAUD" for f in event.findings):
        return []
    return [
        Sighting(
            digest=i.digest,
            kind=i.kind,
            masked=i.masked,
            report_id=event.report_id,
            grid_id=event.grid_id,
            district=event.district,
            at=event.reported_at.timestamp(),
        )
        for i in event.indicators
    ]


def campaign_candidates(decision: CampaignDecision, state: CampaignState) -> list[Candidate]:
    """The candidates of a campaign: its first report opens it, the others join (by its id)."""
    info = CampaignInfo(
        campaign_id=decision.campaign_id,
        indicator_kind=decision.indicator_kind,
        indicator=decision.masked,
        grids=decision.grids,
        districts=decision.districts,
    )
    listed = {s["report_id"]: s for s in state["sightings"]}
    home = listed[decision.reports[0]]["district"]  # the campaign lives where it was first seen
    return [
        Candidate(
            code=CAMPAIGN_CODE,
            severity="high",
            district=home,
            grid_id=listed[rid]["grid_id"],
            report=ReportRef(
                report_id=rid,
                reported_at=datetime.fromtimestamp(listed[rid]["at"], UTC),
                grid_id=listed[rid]["grid_id"],
            ),
            campaign=info,
        )
        for rid in decision.reports
        if rid in listed
    ]


# -- routing agents


async def send_candidate(cand: Candidate) -> None:
    """Put a candidate on the partition of its district."""
    await outputs.add(
        settings.topics.escalation_commands,
        cand.district.encode(),
        CandidateCommand(candidate=cand).model_dump_json().encode(),
        partition=district_partition(cand.district, _PARTITIONS),
    )


async def send_action(action: EscalationActionV1) -> None:
    """Put a responder's action on the partition of its escalation's district."""
    district = district_of(action.escalation_id)
    if district is None:
        raise UnknownEscalation(action.escalation_id)
    await commands_topic.send(
        key=district.encode(),
        value=ActionCommand(action=action).model_dump_json().encode(),
        partition=district_partition(district, _PARTITIONS),
    )


async def dead_letter(
    kind: AlertErrorKind, reason: str, message: faust.types.Message, raw: bytes, **more: object
) -> None:
    """Put a bad action (or a command that failed) on ``alerts.dlq`` with its reason.

    The agents' last resort, so it never raises: a letter that cannot be sent either is
    logged and counted (``dead_letter_failed``), and the agent goes on.
    """
    try:
        letter = AlertDeadLetterV1.model_validate(
            {
                "kind": kind,
                "reason": reason,
                "source_topic": message.topic,
                "source_partition": message.partition,
                "source_offset": message.offset,
                "original_b64": base64.b64encode(raw).decode(),
                "dead_lettered_at": datetime.now(UTC),
                **more,
            }
        )
        await alerts_dlq_topic.send(key=None, value=letter.model_dump_json().encode())
    except Exception as exc:  # noqa: BLE001 - the last resort: nothing is left to raise to
        where = (message.topic, message.partition, message.offset)
        dead_letter_failed(settings.topics.alerts_dlq, exc, *where)
        return
    log.warning("alerts.dlq: %s (%s) from %s", kind, reason, message.topic)


async def route_findings(event: FindingsEventV1) -> None:
    """Send what the policy escalates to the escalator, and fraud indicators to campaigns.

    Called by intake as it classifies a report (streams/triage/agent.py). At least once: a
    replay re-sends, and the escalator and the campaign watch recognise a report they have.
    """
    if not event.findings:  # most reports find nothing
        return
    for cand in candidates(event):
        await send_candidate(cand)
    for seen in sightings(event):
        await outputs.add(settings.topics.indicators, seen.digest.encode(), _sighting_json(seen))


def _sighting_json(seen: Sighting) -> bytes:
    return json.dumps(dataclasses.asdict(seen), ensure_ascii=False).encode()


# An indicator's sightings are deleted once none is left in the window (no campaign can
# open or grow from them), by report time: a replayed backlog keeps its own clock.
_campaign_expiry = Expiry(
    policy.campaigns.window + 1.0,
    name=campaign_table.name,
    deleted=metrics.labelled(metrics.retention_deleted, campaign_table.name).inc,
)


def last_sighting(state: CampaignState) -> float:
    """When an indicator was last seen (report time); -inf with no sighting kept."""
    return state["sightings"][-1]["at"] if state["sightings"] else -math.inf


def forget_quiet_indicators(partition: int, now: float) -> None:
    """Delete a few indicators of ``partition`` seen last more than a window before ``now``."""
    _campaign_expiry.sweep(campaign_table, partition, now, last_sighting)


@campaign_table.on_recover
async def rebuild_campaign_expiry() -> None:
    """After a rebalance: the indicators of this worker's partitions, by their last sighting."""
    owned = owned_partitions(settings.topics.indicators)
    _campaign_expiry.rebuild(
        (p, digest, max(last_sighting(state), 0.0))
        for digest, state in campaign_table.items()
        if (p := partition_of(digest.encode(), _PARTITIONS)) in owned
    )


@app.agent(indicators_topic)
async def watch_campaigns(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    """Count sightings per indicator; a campaign opens (or grows) into the escalator."""
    window, min_grids = policy.campaigns.window, policy.campaigns.min_grids
    async for event in stream.events():
        started = perf_counter()
        try:
            seen = Sighting(**json.loads(event.value))
            state, decision = observe(
                campaign_table.get(seen.digest), seen, window_s=window, min_grids=min_grids
            )
            campaign_table[seen.digest] = state
            newest = max(last_sighting(state), seen.at)
            _campaign_expiry.note(event.message.partition, seen.digest, newest)
            # report time, but never ahead of the clock: a misdated report must not clear
            forget_quiet_indicators(event.message.partition, min(seen.at, time.time()))
            if decision is not None:
                news = campaign_candidates(decision, state)
                for cand in news if decision.kind == "opened" else news[-1:]:
                    await send_candidate(cand)
        except Exception as exc:  # noqa: BLE001 - dead-letter, never skip
            await dead_letter("internal_error", repr(exc), event.message, event.value)
        metrics.processed("watch_campaigns", started)
        yield None


@app.agent(acks_topic)
async def route_actions(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    """Check responders' actions from ``alerts.acks`` and pass them to the escalator."""
    async for event in stream.events():
        started = perf_counter()
        try:
            action = escalation_action_adapter.validate_json(event.value)
            await send_action(action)
        except UnknownEscalation as exc:
            await dead_letter(
                "unknown_escalation", f"not an escalation id: {exc}", event.message, event.value
            )
        except ValueError as exc:  # pydantic's ValidationError: say which field and why
            await dead_letter("invalid_action", str(exc), event.message, event.value)
        except Exception as exc:  # noqa: BLE001 - dead-letter, never skip
            await dead_letter("internal_error", repr(exc), event.message, event.value)
        metrics.processed("route_actions", started)
        yield None


@app.timer(interval=settings.escalation.tick_interval_s, on_leader=True)  # type: ignore[untyped-decorator]
async def tick() -> None:
    """Tell every partition of the escalator that time passed (the leader alone does)."""
    value = TickCommand().model_dump_json().encode()
    for partition in range(_PARTITIONS):
        await commands_topic.send(key=b"tick", value=value, partition=partition)


# -- the escalator


@app.agent(commands_topic)
async def escalate(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    """Apply every command to the escalator's table and send the events it causes."""
    async for event in stream.events():
        started = perf_counter()
        message = event.message
        try:
            command = command_adapter.validate_json(event.value)
            sent = escalator.handle(command, message.partition, message.timestamp, message.offset)
            for escalation_event in sent:
                await publish(escalation_event)
            if isinstance(command, TickCommand):  # its events are out: now the housekeeping
                forget_resolved(message.partition, message.timestamp)
        except UnknownEscalation as exc:
            await dead_letter(
                "unknown_escalation",
                "no escalation with this id",
                message,
                event.value,
                escalation_id=str(exc),
            )
        except Exception as exc:  # noqa: BLE001 - dead-letter, never skip
            await dead_letter("internal_error", repr(exc), message, event.value)
        metrics.processed("escalate", started)
        yield None


def forget_resolved(partition: int, now: float) -> None:
    """Delete resolved escalations past retention; a failure is logged, the next tick retries."""
    try:
        deleted = escalator.forget_resolved(partition, now)
    except Exception as exc:  # noqa: BLE001 - housekeeping must not fail the tick's command
        log.warning("could not delete resolved escalations of partition %d: %r", partition, exc)
        return
    if deleted:
        metrics.labelled(metrics.retention_deleted, escalator_table.name).inc(deleted)


async def publish(event: EscalationEventV1) -> None:
    """One lifecycle event to ``alerts.escalations``, keyed by escalation: a timeline in order."""
    await outputs.add(
        settings.topics.escalations, event.escalation_id.encode(), event.model_dump_json().encode()
    )
    level = "none" if event.level is None else str(event.level)
    metrics.labelled(metrics.escalation_events, event.type, event.code, level).inc()
