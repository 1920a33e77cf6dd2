"""The dead letter: a message intake could not accept, with why, and its original bytes.

Dead letters go to ``grid.reports.dlq``. The original bytes are kept (base64) so a fixed app
or an operator can replay them; they may hold personal data, so whoever prints a dead letter
masks it (``gridwatch dlq show`` does) and the topic is access-controlled.

A letter must itself fit in a Kafka message, and base64 makes the original 4/3 as big: an
original too large for ``MAX_DEAD_LETTER_BYTES`` is cut to the prefix that fits, and the
letter says so (``original_truncated``) with the whole original's size and sha256. Only
payloads far over ``MAX_PAYLOAD_BYTES`` are cut (those over ~589 KB), so a letter that could
ever be replayed into an accepted report is always whole. ``original()`` refuses a cut letter
(``OriginalTruncatedError``): a replay must not send a prefix as if it were the message.
"""

from __future__ import annotations

import base64
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "MAX_DEAD_LETTER_BYTES",
    "MAX_LETTER_ERRORS",
    "MAX_LETTER_KEY_BYTES",
    "DeadLetterV1",
    "ErrorKind",
    "FieldError",
    "OriginalTruncatedError",
    "dead_letter_adapter",
]

MAX_DEAD_LETTER_BYTES = 768 * 1024
"""The most a letter's JSON may weigh. Under the producer's 1,000,000-byte request limit
(Faust's ``producer_max_request_size``) and the broker's 1 MiB ``message.max.bytes``, with
room for the record's framing: a letter over it raises ``MessageSizeTooLargeError``."""
MAX_LETTER_ERRORS = 100
"""Field errors kept in a letter. A 64 KiB object of short unknown keys has thousands, ~13
bytes of letter per byte of input; the reason still counts them all."""
MAX_LETTER_KEY_BYTES = 16 * 1024
"""Message keys are report ids (at most 64 bytes); a key over this is not kept."""

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


class OriginalTruncatedError(ValueError):
    """A letter kept only a prefix of its original, so the message's bytes are not there."""


class DeadLetterV1(BaseModel):
    """A rejected message: the reason first, then its field errors, then the original.

    Its JSON is at most 786,432 bytes (``MAX_DEAD_LETTER_BYTES``), so it always fits in a
    Kafka message. ``errors``: the first 100 (none if even those would not fit; the reason
    counts them all). ``source_key_b64``: null when the message had no key or one over
    16 KiB. ``original_b64``: the original, or only its first bytes when
    ``original_truncated`` is true; ``original_size`` and ``original_sha256`` (hex) are always
    those of the whole original (``original_sha256`` is null in letters older than it).
    """

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
    original_sha256: Annotated[str, Field(pattern="^[0-9a-f]{64}$")] | None = None
    original_truncated: bool = False
    report_id: str | None = None
    dead_lettered_at: AwareDatetime

    def original(self) -> bytes:
        """The message's bytes exactly as they arrived; raise if only a prefix was kept.

        Raises ``OriginalTruncatedError`` for a cut letter, so nothing replays a prefix as
        the message; ``original_prefix()`` gives what was kept (to show or to search).
        """
        if self.original_truncated:
            msg = (
                f"the letter kept only a prefix of the {self.original_size}-byte original "
                f"(sha256 {self.original_sha256})"
            )
            raise OriginalTruncatedError(msg)
        return self.original_prefix()

    def original_prefix(self) -> bytes:
        """The original bytes the letter kept: all of them unless ``original_truncated``."""
        return base64.b64decode(self.original_b64)


dead_letter_adapter: TypeAdapter[DeadLetterV1] = TypeAdapter(DeadLetterV1)
