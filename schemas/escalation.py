"""Escalation events (``alerts.escalations``) and responders' actions (``alerts.acks``).

Every change in an escalation's life is one event: opened, grouped (a report joined),
notified (level, targets), acknowledged (by, note), escalated (to level), resolved (by,
outcome), expired. Together they are its timeline. ``event_id`` is ``{escalation_id}:{seq}``
and an escalation id is derived from its first report, so a replay after a crash yields the
same ids and consumers can drop what they have seen.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from schemas.findings import Severity
from schemas.grid_report import District

__all__ = [
    "ACTIONS",
    "Action",
    "AlertDeadLetterV1",
    "AlertErrorKind",
    "CampaignInfo",
    "EscalationActionV1",
    "EscalationCode",
    "EscalationEventType",
    "EscalationEventV1",
    "EscalationSubject",
    "Outcome",
    "ReportRef",
    "SUBJECT_FIELDS",
    "alert_dead_letter_adapter",
    "escalation_action_adapter",
    "escalation_event_adapter",
]

EscalationCode = Literal[
    "EBIKE_CHARGING",
    "BLOCKED_EXIT",
    "ILLEGAL_WIRING",
    "FIRE_EQUIPMENT_FAILURE",
    "TELECOM_FRAUD",
    "FRAUD_CAMPAIGN",
]
EscalationEventType = Literal[
    "opened", "grouped", "notified", "acknowledged", "escalated", "resolved", "expired"
]
Action = Literal["ack", "resolve"]
ACTIONS: tuple[str, ...] = Action.__args__  # type: ignore[attr-defined]
Outcome = Literal["handled", "false_alarm", "referred", "no_action_needed"]
ResponderName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReportRef(_Frozen):
    """One report of an escalation, as much as a responder needs to act on it.

    ``text`` and ``contact_phone`` are masked. ``sealed_pii`` holds the raw values encrypted
    for the notifier, which opens it only for targets whose role may see them.
    """

    report_id: str
    reported_at: AwareDatetime
    grid_id: str
    address: str | None = None
    text: str | None = None
    contact_phone: str | None = None
    sealed_pii: str | None = None


class CampaignInfo(_Frozen):
    """What ties a fraud campaign's reports together (the indicator, masked)."""

    campaign_id: str
    indicator_kind: str
    indicator: str
    grids: tuple[str, ...]
    districts: tuple[str, ...]


class EscalationSubject(_Frozen):
    """What an escalation is about and where: shared by its candidates, state and events."""

    code: EscalationCode
    severity: Severity
    district: District
    grid_id: str
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    fraud_type: str | None = None


SUBJECT_FIELDS: frozenset[str] = frozenset(EscalationSubject.model_fields)


class EscalationEventV1(EscalationSubject):
    """One step of an escalation's life, and the escalation as it stands after it."""

    schema_version: Literal[1] = 1
    event_id: str
    escalation_id: str
    seq: int = Field(ge=0)
    type: EscalationEventType
    at: AwareDatetime
    rule: str
    level: int | None = None
    targets: tuple[str, ...] = ()
    round: int = 0
    ack_deadline: AwareDatetime | None = None
    by: str | None = None
    note: str | None = None
    outcome: Outcome | None = None
    report_count: int = Field(ge=1)
    reports: tuple[ReportRef, ...] = ()
    campaign: CampaignInfo | None = None


class EscalationActionV1(_Frozen):
    """A responder acknowledges or resolves an escalation (topic ``alerts.acks`` or HTTP)."""

    schema_version: Literal[1] = 1
    escalation_id: Annotated[str, StringConstraints(pattern=r"^esc-\d{6}-[0-9a-f]{16}$")]
    action: Action
    by: ResponderName
    note: Annotated[str, StringConstraints(max_length=500)] | None = None
    outcome: Outcome | None = None


escalation_event_adapter: TypeAdapter[EscalationEventV1] = TypeAdapter(EscalationEventV1)
escalation_action_adapter: TypeAdapter[EscalationActionV1] = TypeAdapter(EscalationActionV1)


AlertErrorKind = Literal["invalid_action", "unknown_escalation", "undeliverable", "internal_error"]


class AlertDeadLetterV1(_Frozen):
    """An action that could not be applied or a notification that could not be delivered.

    On ``alerts.dlq``, with the reason and the original bytes (base64). An undeliverable
    notification names its target and delivery id, so an operator can call the responder
    and replay the delivery once the webhook works again.
    """

    schema_version: Literal[1] = 1
    kind: AlertErrorKind
    reason: str
    source_topic: str
    source_partition: int
    source_offset: int
    original_b64: str
    escalation_id: str | None = None
    delivery_id: str | None = None
    target: str | None = None
    attempts: int | None = None
    http_status: int | None = None
    dead_lettered_at: AwareDatetime


alert_dead_letter_adapter: TypeAdapter[AlertDeadLetterV1] = TypeAdapter(AlertDeadLetterV1)
