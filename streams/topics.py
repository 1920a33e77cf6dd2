"""The Faust topic objects of the pipeline, and the one way to send a dead letter.

All carry raw bytes: Faust never decodes for us (a decode error would skip the message);
each agent validates with pydantic itself.
"""

from __future__ import annotations

import logging

from schemas.dead_letter import DeadLetterV1
from schemas.grid_report import IntakeSource
from streams.app import app, metrics, settings
from streams.validation import internal_error

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
    "dead_letter_failed",
    "send_dead_letter",
    "send_internal_error",
]

log = logging.getLogger(__name__)

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


async def send_internal_error(
    exc: Exception, raw: bytes, key: bytes | None, source: IntakeSource
) -> None:
    """Dead-letter a message whose handling failed (``exc``); the last resort, never raises.

    When even that fails, the message is lost: say which one, count it, and let the agent go
    on (an exception would crash it, skip the message all the same and restart it 5 s later).
    """
    try:
        await send_dead_letter(internal_error(exc, raw, key, source))
    except Exception as failure:  # noqa: BLE001 - the last resort: nothing is left to raise to
        dead_letter_failed(_names.dlq, failure, source.topic, source.partition, source.offset)


def dead_letter_failed(
    dlq: str, exc: BaseException, topic: str, partition: int, offset: int
) -> None:
    """Log and count a dead letter that was not sent: where it came from and the error type.

    Never the payload or the exception's text: either may hold phone numbers.
    """
    metrics.dead_letters_failed.labels(dlq).inc()
    log.error(
        "dead letter to %s not sent, message lost: %s[%d]@%d (%s)",
        dlq,
        topic,
        partition,
        offset,
        type(exc).__name__,
    )
