"""The dead letter: a message intake could not accept, with why, and its original bytes.

Dead letters go to ``grid.reports.dlq``. The original bytes are kept whole (base64) so a
fixed app or an operator can replay them; they may hold personal data, so whoever prints a
dead letter masks it (``gridwatch dlq show`` does) and the topic is access-controlled.
"""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, TypeAdapter

__all__ = ["DeadLetterV1", "ErrorKind", "FieldError", "dead_letter_adapter"]

ErrorKind = Literal[
    "too_large",
    "not_utf8",
    "not_json",
    "too_deep",
    "not_object",
    "unknown_schema_version",
    "missing_field",
    "unknown_field",
    "wrong_type",
    "unknown_value",
    "bad_format",
    "bad_timestamp",
    "text_empty",
    "text_too_long",
    "out_of_range",
    "invalid",
    "internal_error",
]


class FieldError(BaseModel):
    """One problem found in a message: where (a JSON path) and what, in plain words."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    kind: ErrorKind
    message: str


class DeadLetterV1(BaseModel):
    """A rejected message: the reason first, then every field error, then the original."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    error_kind: ErrorKind
    reason: str
    errors: tuple[FieldError, ...] = ()
    source_topic: str
    source_partition: int
    source_offset: int
    source_key_b64: str | None = None
    original_b64: str
    original_size: int
    report_id: str | None = None
    dead_lettered_at: AwareDatetime

    def original(self) -> bytes:
        """The message's bytes exactly as they arrived."""
        return base64.b64decode(self.original_b64)


dead_letter_adapter: TypeAdapter[DeadLetterV1] = TypeAdapter(DeadLetterV1)
