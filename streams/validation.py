"""Raw bytes → a valid grid report, or an ``InvalidReport`` that says exactly why.

Pure functions, no Faust: the intake agent calls ``parse_report`` first thing and turns an
``InvalidReport`` into a dead letter with ``dead_letter_for``.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from schemas.dead_letter import (
    MAX_DEAD_LETTER_BYTES,
    MAX_LETTER_ERRORS,
    MAX_LETTER_KEY_BYTES,
    DeadLetterV1,
    ErrorKind,
    FieldError,
)
from schemas.grid_report import MAX_PAYLOAD_BYTES, GridReportV1, IntakeSource, grid_report_adapter
from streams.errors import InvalidReport

__all__ = [
    "dead_letter_for",
    "field_errors",
    "internal_error",
    "parse_report",
    "report_id_of",
    "with_original",
]

# When a message breaks several rules, the kind that names the cause wins: a wrong
# schema_version explains every other error, a missing field explains less.
_KIND_PRIORITY: tuple[ErrorKind, ...] = (
    "unknown_schema_version",
    "not_object",
    "missing_field",
    "wrong_type",
    "bad_timestamp",
    "text_empty",
    "text_too_long",
    "unknown_value",
    "out_of_range",
    "bad_format",
    "unknown_field",
    "invalid",
)
_TYPE_KINDS: dict[str, ErrorKind] = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "literal_error": "unknown_value",
    "enum": "unknown_value",
    "string_pattern_mismatch": "bad_format",
    "string_too_short": "bad_format",
    "string_too_long": "bad_format",
    "greater_than_equal": "out_of_range",
    "less_than_equal": "out_of_range",
    "finite_number": "out_of_range",
    "model_type": "not_object",
    "model_attributes_type": "not_object",
    "value_error": "invalid",
}


def parse_report(raw: bytes) -> GridReportV1:
    """Validate one message; raise ``InvalidReport`` with the kind and every field error."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        msg = f"payload is {len(raw)} bytes, over the {MAX_PAYLOAD_BYTES}-byte limit"
        raise InvalidReport("too_large", msg)
    try:
        return grid_report_adapter.validate_json(raw)
    except ValidationError as exc:
        raise _invalid(raw, exc.errors(include_url=False, include_input=False)) from None


def _invalid(raw: bytes, details: list[ErrorDetails]) -> InvalidReport:
    if details and details[0]["type"] == "json_invalid":
        return _undecodable(raw, details[0]["msg"])
    errors = field_errors(details)
    kind = min((e.kind for e in errors), key=_KIND_PRIORITY.index)
    first = next(e for e in errors if e.kind == kind)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidReport(kind, f"{first.path}: {first.message}{more}", errors)


def _undecodable(raw: bytes, message: str) -> InvalidReport:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InvalidReport("not_utf8", f"not UTF-8: bad byte at position {exc.start}")
    if "recursion limit" in message:
        return InvalidReport("too_deep", f"nested too deeply: {message}")
    return InvalidReport("not_json", f"not JSON: {message.removeprefix('Invalid JSON: ')}")


def field_errors(details: list[ErrorDetails]) -> tuple[FieldError, ...]:
    """Pydantic's errors as ``FieldError``s with JSON paths (``$.lat``) and our kinds."""
    return tuple(
        FieldError(path=_json_path(d["loc"]), kind=_kind_of(d), message=d["msg"]) for d in details
    )


def _kind_of(detail: ErrorDetails) -> ErrorKind:
    field, error_type = (detail["loc"] or ("",))[0], detail["type"]
    if field == "schema_version" and error_type != "missing":
        return "unknown_schema_version"
    if field == "reported_at" and error_type != "missing":
        return "bad_timestamp"
    if field == "text" and error_type in ("string_too_short", "string_too_long"):
        return "text_empty" if error_type == "string_too_short" else "text_too_long"
    if error_type.endswith("_type") and error_type not in _TYPE_KINDS:
        return "wrong_type"
    return _TYPE_KINDS.get(error_type, "invalid")


def _json_path(loc: tuple[int | str, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def report_id_of(raw: bytes) -> str | None:
    """The report_id of a rejected message when it has a usable one, for operators to search."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    rid = value.get("report_id") if isinstance(value, dict) else None
    return rid if isinstance(rid, str) and 0 < len(rid) <= 64 else None


def dead_letter_for(
    error: InvalidReport, raw: bytes, key: bytes | None, source: IntakeSource, now: datetime
) -> DeadLetterV1:
    """The dead letter that answers one rejected message, small enough to be sent."""
    letter = DeadLetterV1(
        error_kind=error.kind,
        reason=error.reason,
        errors=error.errors[:MAX_LETTER_ERRORS],
        source_topic=source.topic,
        source_partition=source.partition,
        source_offset=source.offset,
        source_key_b64=None if key is None or len(key) > MAX_LETTER_KEY_BYTES else _b64(key),
        original_b64="",
        original_size=len(raw),
        original_sha256=hashlib.sha256(raw).hexdigest(),
        report_id=None if error.kind == "too_large" else report_id_of(raw),
        dead_lettered_at=now,
    )
    return with_original(letter, raw)


def with_original(letter: DeadLetterV1, raw: bytes) -> DeadLetterV1:
    """``letter`` carrying ``raw``, or the prefix of it that keeps the letter's JSON in bounds.

    The rest of the letter is small unless its field errors are pathological (paths of long,
    escaped keys): then they go, and the reason (which names the first one) is cut.
    """
    size = _json_size(letter)
    if size > MAX_DEAD_LETTER_BYTES // 2:
        letter = letter.model_copy(update={"errors": (), "reason": letter.reason[:1000]})
        size = _json_size(letter)
    room = MAX_DEAD_LETTER_BYTES - size  # base64 needs 4 bytes per 3 (its length: room // 4 * 4)
    kept = raw if 4 * -(-len(raw) // 3) <= room else raw[: room // 4 * 3]
    truncated = len(kept) < len(raw)
    return letter.model_copy(update={"original_b64": _b64(kept), "original_truncated": truncated})


def _json_size(letter: DeadLetterV1) -> int:
    return len(letter.model_copy(update={"original_b64": ""}).model_dump_json())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def internal_error(
    exc: Exception, raw: bytes, key: bytes | None, source: IntakeSource
) -> DeadLetterV1:
    """The dead letter for a failure of ours: the exception's type, not its text (may hold PII)."""
    error = InvalidReport("internal_error", f"processing failed: {type(exc).__name__}")
    return dead_letter_for(error, raw, key, source, source.received_at)
