"""The Faust topic objects of the pipeline, and the one way to send a dead letter.

All carry raw bytes: Faust never decodes for us (a decode error would skip the message);
each agent validates with pydantic itself.
"""

from __future__ import annotations

from schemas.dead_letter import DeadLetterV1
from streams.app import app, metrics, settings

__all__ = [
    "accepted_topic",
    "acks_topic",
    "alerts_dlq_topic",
    "commands_topic",
    "escalations_topic",
    "indicators_topic",
    "dlq_topic",
    "findings_topic",
    "rekey_topic",
    "reports_topic",
    "send_dead_letter",
]

_names = settings.topics
# Intake reads both: apps publish to reports, intake itself re-sends to rekey.
reports_topic = app.topic(_names.reports, _names.rekey, value_type=bytes, key_type=bytes)
rekey_topic = app.topic(_names.rekey, value_type=bytes, key_type=bytes)
accepted_topic = app.topic(_names.accepted, value_type=bytes, key_type=bytes)
dlq_topic = app.topic(_names.dlq, value_type=bytes, key_type=bytes)
findings_topic = app.topic(_names.findings, value_type=bytes, key_type=bytes)
commands_topic = app.topic(_names.escalation_commands, value_type=bytes, key_type=bytes)
escalations_topic = app.topic(_names.escalations, value_type=bytes, key_type=bytes)
acks_topic = app.topic(_names.acks, value_type=bytes, key_type=bytes)
indicators_topic = app.topic(_names.indicators, value_type=bytes, key_type=bytes)
alerts_dlq_topic = app.topic(_names.alerts_dlq, value_type=bytes, key_type=bytes)


async def send_dead_letter(letter: DeadLetterV1) -> None:
    """Put one dead letter on the DLQ and count it by kind."""
    await dlq_topic.send(key=None, value=letter.model_dump_json().encode())
    metrics.reports_invalid.labels(letter.error_kind).inc()
