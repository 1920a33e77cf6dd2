"""A dead letter always fits in a Kafka message, and a letter that cannot be sent is not fatal.

Found by tests/faults/test_fuzz.py: an 800 KB message (the broker takes up to 1 MiB) made a
letter of ~1.07 MB (base64), the producer refused it, and the agent crashed.
"""

import hashlib
import json
import logging
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError

from schemas import IntakeSource, dead_letter_adapter
from schemas.dead_letter import (
    MAX_DEAD_LETTER_BYTES,
    MAX_LETTER_ERRORS,
    DeadLetterV1,
    FieldError,
    OriginalTruncatedError,
)
from schemas.grid_report import MAX_PAYLOAD_BYTES
from streams import intake, topics
from streams.app import registry, settings
from streams.errors import InvalidReport
from streams.escalation import agents
from streams.validation import dead_letter_for, internal_error, parse_report, with_original

from .test_intake import sends, test_app  # noqa: F401 - fixtures

SOURCE = IntakeSource(
    topic="grid.reports", partition=3, offset=99, received_at=datetime(2025, 11, 3, tzinfo=UTC)
)
PRODUCER_LIMIT = 1_000_000  # Faust's producer_max_request_size; the broker takes 1 MiB
PHONE = "13812345678"


def letter_of(raw: bytes, key: bytes | None = None) -> DeadLetterV1:
    with pytest.raises(InvalidReport) as caught:
        parse_report(raw)
    return dead_letter_for(caught.value, raw, key, SOURCE, SOURCE.received_at)


def wire_size(letter: DeadLetterV1) -> int:
    return len(letter.model_dump_json().encode())


def largest_whole() -> int:
    """The largest too_large original a letter keeps whole (found by bisection)."""
    low, high = MAX_PAYLOAD_BYTES, MAX_DEAD_LETTER_BYTES
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if not letter_of(b"x" * mid).original_truncated else (low, mid - 1)
    return low


def payload(size: int) -> bytes:
    """A report padded to ``size`` bytes with a phone number in it (so too_large)."""
    head = f'{{"contact_phone": "{PHONE}", "text": "'.encode()
    return head + b"x" * (size - len(head) - 2) + b'"}'


def assert_cut(letter: DeadLetterV1, raw: bytes) -> None:
    assert wire_size(letter) <= MAX_DEAD_LETTER_BYTES < PRODUCER_LIMIT
    assert letter.original_truncated
    assert (letter.original_size, letter.original_sha256) == (
        len(raw),
        hashlib.sha256(raw).hexdigest(),
    )
    prefix = letter.original_prefix()
    assert raw.startswith(prefix) and len(prefix) > MAX_DEAD_LETTER_BYTES // 2
    with pytest.raises(OriginalTruncatedError, match=f"{len(raw)}-byte"):
        letter.original()
    assert dead_letter_adapter.validate_json(letter.model_dump_json()) == letter


def test_an_original_that_fits_is_kept_whole_with_its_hash():
    raw = payload(200_000)
    letter = letter_of(raw, key=b"r-0001")
    assert (letter.error_kind, letter.original_truncated) == ("too_large", False)
    assert letter.original() == letter.original_prefix() == raw
    assert letter.original_sha256 == hashlib.sha256(raw).hexdigest()
    assert letter.original_size == len(raw)


def test_the_limit_is_exact_one_byte_either_side():
    whole = largest_whole()
    assert 580_000 < whole < MAX_DEAD_LETTER_BYTES * 3 // 4
    kept = letter_of(b"x" * whole)
    assert kept.original() == b"x" * whole
    assert wire_size(kept) <= MAX_DEAD_LETTER_BYTES
    assert_cut(letter_of(b"x" * (whole + 1)), b"x" * (whole + 1))


@pytest.mark.parametrize("size", [600_000, 800_000, 1_048_576, 5 * 1024 * 1024])
def test_an_original_too_large_for_a_letter_keeps_a_prefix_size_and_hash(size):
    raw = payload(size)
    assert_cut(letter_of(raw, key=b"r-0001"), raw)


def test_an_internal_error_letter_is_bounded_too():
    raw = payload(800_000)
    letter = internal_error(RuntimeError(PHONE), raw, None, SOURCE)
    assert letter.error_kind == "internal_error"
    assert_cut(letter, raw)


def test_thousands_of_field_errors_are_capped_and_the_reason_counts_them():
    raw = json.dumps({f"{i:x}": 0 for i in range(7_000)}, separators=(",", ":")).encode()
    assert len(raw) <= MAX_PAYLOAD_BYTES
    letter = letter_of(raw)
    assert len(letter.errors) == MAX_LETTER_ERRORS
    assert "more)" in letter.reason
    assert letter.original() == raw  # small once the errors are capped
    assert wire_size(letter) < 100_000


def test_field_errors_too_big_even_when_capped_are_dropped_but_the_original_stays():
    # Not reachable from a 64 KiB report today (paths are at most as long as the payload);
    # with_original does not rely on that.
    raw = b"{}"
    error = InvalidReport(
        "unknown_field",
        "$." + "k" * 500_000 + ": Extra inputs are not permitted",
        tuple(
            FieldError(path="$." + "k" * 10_000, kind="unknown_field", message="no")
            for _ in range(MAX_LETTER_ERRORS)
        ),
    )
    letter = with_original(dead_letter_for(error, raw, None, SOURCE, SOURCE.received_at), raw)
    assert (letter.errors, len(letter.reason)) == ((), 1_000)
    assert letter.original() == raw
    assert wire_size(letter) <= MAX_DEAD_LETTER_BYTES


def test_a_huge_key_is_not_kept():
    raw = payload(600_000)
    letter = letter_of(raw, key=b"k" * 700_000)
    assert letter.source_key_b64 is None
    assert_cut(letter, raw)


def producer_send(*, key=None, value=b"", **kw):
    """``dlq_topic.send`` as aiokafka behaves: a record over the request limit is refused."""
    if len(value) > PRODUCER_LIMIT:
        raise MessageSizeTooLargeError
    return AsyncMock()()


def failed_count(topic: str) -> float:
    value = registry.get_sample_value("grid_dead_letters_failed_total", {"topic": topic})
    return value or 0.0


async def test_agent_dead_letters_an_800_kb_message(test_app, sends):  # noqa: F811
    raw = payload(800_000)
    sends["dlq_topic"].side_effect = producer_send
    async with intake.intake.test_context() as agent:
        await agent.put(raw, key=b"r-0001")
    (call,) = sends["dlq_topic"].await_args_list
    letter = dead_letter_adapter.validate_json(call.kwargs["value"])
    assert letter.error_kind == "too_large"
    assert_cut(letter, raw)


async def test_agent_survives_when_the_dead_letter_cannot_be_sent(
    test_app,  # noqa: F811
    sends,  # noqa: F811
    caplog,
):
    dlq = settings.topics.dlq
    before = failed_count(dlq)
    # the letter fails, then its internal_error letter fails too; the next message's is sent
    sends["dlq_topic"].side_effect = [MessageSizeTooLargeError(), KafkaTimeoutError(), None]
    caplog.set_level(logging.ERROR, logger="streams.topics")
    async with intake.intake.test_context() as agent:
        await agent.put(f'{{"contact_phone": "{PHONE}"}}'.encode(), key=None)
        await agent.put(b"[]", key=None)  # the agent is still alive
    calls = sends["dlq_topic"].await_args_list
    kinds = [dead_letter_adapter.validate_json(c.kwargs["value"]).error_kind for c in calls]
    assert kinds == ["missing_field", "internal_error", "not_object"]
    assert failed_count(dlq) == before + 1
    (record,) = caplog.records  # test_context's messages come from "<internal>", offset 0
    assert record.getMessage() == (
        "dead letter to grid.reports.dlq not sent, message lost: "
        "<internal>[0]@0 (KafkaTimeoutError)"
    )
    assert PHONE not in caplog.text


async def test_an_alert_dead_letter_that_cannot_be_sent_is_counted_not_raised(caplog):
    alerts_dlq = settings.topics.alerts_dlq
    before = failed_count(alerts_dlq)
    message: Any = SimpleNamespace(topic="alerts.commands", partition=2, offset=41)
    failing = AsyncMock(side_effect=KafkaTimeoutError())
    with patch.object(topics.alerts_dlq_topic, "send", failing):
        await agents.dead_letter("internal_error", "boom", message, PHONE.encode())
    assert failing.await_count == 1
    assert failed_count(alerts_dlq) == before + 1
    assert "alerts.commands[2]@41 (KafkaTimeoutError)" in caplog.text
    assert PHONE not in caplog.text


def test_dlq_show_previews_a_cut_letter_and_says_so():
    from streams.dlq import format_dead_letter

    shown = format_dead_letter(letter_of(payload(800_000)))
    assert "800000 bytes, only a prefix kept" in shown
    whole = format_dead_letter(letter_of(b'{"text": "x"}'))
    assert "prefix" not in whole
