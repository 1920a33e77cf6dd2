"""The Faust topic objects of the pipeline, and the one way to send a dead letter.

All carry raw bytes: Faust never decodes for us (a decode error would skip the message);
each agent validates with pydantic itself.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
from faust.types import Message

from schemas.dead_letter import DeadLetterV1
from schemas.grid_report import IntakeSource
from streams.app import app, metrics, settings
from streams.validation import internal_error

__all__ = [
    "RawSchema",
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


class RawSchema(faust.Schema[bytes, bytes]):
    """Keys and values as the broker gave them, bytes or None, with no codec in between.

    What Faust's raw codec returns too, without its lookups on every message.
    """

    def loads_key(self, app: Any, message: Message, **_: Any) -> Any:
        """The key's bytes (None when the message has none)."""
        return message.key

    def loads_value(self, app: Any, message: Message, **_: Any) -> Any:
        """The value's bytes (None for a tombstone)."""
        return message.value


def _raw_topic(*names: str) -> faust.TopicT:
    schema = RawSchema(
        key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    return app.topic(*names, schema=schema)


# Intake reads both: apps publish to reports, intake itself re-sends to rekey.
reports_topic = _raw_topic(_names.reports, _names.rekey)
rekey_topic = _raw_topic(_names.rekey)
accepted_topic = _raw_topic(_names.accepted)
dlq_topic = _raw_topic(_names.dlq)
findings_topic = _raw_topic(_names.findings)
commands_topic = _raw_topic(_names.escalation_commands)
escalations_topic = _raw_topic(_names.escalations)
acks_topic = _raw_topic(_names.acks)
indicators_topic = _raw_topic(_names.indicators)
alerts_dlq_topic = _raw_topic(_names.alerts_dlq)


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
