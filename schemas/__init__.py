"""Event schemas of gridwatch: the wire contract apps publish to, and what we emit."""

from schemas.dead_letter import DeadLetterV1, ErrorKind, FieldError, dead_letter_adapter
from schemas.escalation import (
    AlertDeadLetterV1,
    EscalationActionV1,
    EscalationEventV1,
    alert_dead_letter_adapter,
    escalation_action_adapter,
    escalation_event_adapter,
)
from schemas.findings import (
    FINDING_CODES,
    SEVERITIES,
    FindingsEventV1,
    FindingV1,
    findings_event_adapter,
)
from schemas.grid_report import (
    CHANNELS,
    DISTRICTS,
    MAX_PAYLOAD_BYTES,
    PLACE_TYPES,
    REPORTER_ROLES,
    AcceptedReportV1,
    GridReport,
    GridReportV1,
    IntakeSource,
    accepted_report_adapter,
    grid_report_adapter,
)
from schemas.pii import mask_phone, mask_pii_text

__all__ = [
    "AlertDeadLetterV1",
    "EscalationActionV1",
    "EscalationEventV1",
    "alert_dead_letter_adapter",
    "escalation_action_adapter",
    "escalation_event_adapter",
    "CHANNELS",
    "FINDING_CODES",
    "SEVERITIES",
    "FindingV1",
    "FindingsEventV1",
    "findings_event_adapter",
    "DISTRICTS",
    "MAX_PAYLOAD_BYTES",
    "PLACE_TYPES",
    "REPORTER_ROLES",
    "AcceptedReportV1",
    "DeadLetterV1",
    "ErrorKind",
    "FieldError",
    "GridReport",
    "GridReportV1",
    "IntakeSource",
    "accepted_report_adapter",
    "dead_letter_adapter",
    "grid_report_adapter",
    "mask_phone",
    "mask_pii_text",
]
