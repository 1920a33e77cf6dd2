"""Read dead letters back for people: what was refused, and why, with personal data masked."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from pydantic import ValidationError

from schemas.dead_letter import DeadLetterV1, dead_letter_adapter
from schemas.pii import mask_pii_text
from streams.settings import Settings
from streams.topic_reader import read_topic

__all__ = ["format_dead_letter", "read_dead_letters"]


def read_dead_letters(settings: Settings, *, limit: int | None = None) -> Iterator[DeadLetterV1]:
    """The dead letters now on the DLQ topic, oldest first per partition."""
    records = read_topic(settings.kafka, settings.topics.dlq)
    letters = (letter for r in records if (letter := _parse(r.value)) is not None)
    return islice(letters, limit)


def _parse(value: bytes) -> DeadLetterV1 | None:
    try:
        return dead_letter_adapter.validate_json(value)
    except ValidationError:
        return None  # not a dead letter of ours; the topic is ours alone, so this is noise


def format_dead_letter(letter: DeadLetterV1, *, preview_chars: int = 120) -> str:
    """A few lines a person can read: reason, field errors, and a masked preview."""
    # Mask before cutting: a cut through a phone number would leave digits the mask misses.
    original = mask_pii_text(letter.original_prefix().decode("utf-8", errors="replace"))
    preview = original[:preview_chars].replace("\n", "\\n")
    more = "…" if len(original) > preview_chars else ""
    where = f"{letter.source_topic}[{letter.source_partition}]@{letter.source_offset}"
    lines = [f"{letter.error_kind:<24} {where}  report_id={letter.report_id or '-'}"]
    lines.append(f"    reason: {letter.reason}")
    lines.extend(f"    {e.path}: {e.message} ({e.kind})" for e in letter.errors[1:6])
    cut = ", only a prefix kept" if letter.original_truncated else ""
    lines.append(f"    original ({letter.original_size} bytes{cut}): {preview}{more}")
    return "\n".join(lines)
