"""10,000 fuzzed payloads: each ends on the DLQ with a reason, or accepted if it is valid.

Payloads come from hypothesis strategies (derandomized, so a run is reproducible): random
bytes, random JSON, valid reports with one field broken, huge strings, deep nesting, bad
UTF-8, truncations, and some valid reports among them. The ground truth for each is
``parse_report`` run here: the test is about the worker surviving the payloads, not about
validation rules (those are unit-tested).

Proves: one worker takes all of them without dying or stalling, answers each one (a letter
per invalid payload naming its source offset and carrying its exact bytes; valid ones
accepted once and counted), and its resident memory does not grow with the traffic.
"""

from __future__ import annotations

import json
import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from schemas.grid_report import CHANNELS, DISTRICTS, MAX_PAYLOAD_BYTES, PLACE_TYPES
from streams.sample import valid_report

from .conftest import Stopwatch, check_exact, first_start, rss_bytes, wait_processed

pytestmark = [pytest.mark.integration, pytest.mark.faults]

PAYLOADS = 10_000
CST = timezone(timedelta(hours=8))
WARM_UP = 2_000
# RSS may grow by this much between the first 2,000 payloads and the end. Why 16 MiB: the
# worker's RSS after the first 2,000 is ~105-175 MiB; the growth that is legitimate is the
# seen table and counters of the ~600 valid reports among the last 8,000 (well under 1 MiB)
# and allocator high-water marks (each payload is parsed, base64-encoded and sent once).
# Measured without payloads over the broker's message limit: +6.8 MiB (106.7, 108.8, 112.2,
# 113.0, 113.5 MiB after each 2,000), flattening. Keeping anything per payload would grow it
# by the payloads' size (asserted to be over twice the bound) or by >= 2 KiB per retained
# object per message (8,000 x 2 KiB = 16 MiB).
RSS_GROWTH_BOUND = 16 * 1024 * 1024

_JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
_JSON = st.recursive(
    _JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=10,
)
_FIELDS = (
    "schema_version",
    "report_id",
    "reported_at",
    "channel",
    "reporter_role",
    "district",
    "grid_id",
    "text",
    "place_type",
    "lat",
    "lon",
    "contact_phone",
    "category_hint",
    "reporter_id",
)


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    """A valid report; its id unique per example (so a valid one is usually new)."""
    index = draw(st.integers(min_value=0, max_value=10**7 - 1))
    report = valid_report(random.Random(index), index, prefix="fz")
    # Within the last 90 minutes, so every minute bucket is still kept when counters are read.
    ago = timedelta(seconds=draw(st.integers(min_value=0, max_value=90 * 60)))
    report["reported_at"] = (datetime.now(CST) - ago).isoformat()
    report["channel"] = draw(st.sampled_from(CHANNELS))
    report["district"] = draw(st.sampled_from(DISTRICTS))
    report["place_type"] = draw(st.sampled_from(PLACE_TYPES))
    return report


@st.composite
def one_field_broken(draw: st.DrawFn) -> bytes:
    """A valid report with one field removed, replaced by any JSON value, or added."""
    report = draw(reports())
    name = draw(st.sampled_from(_FIELDS) | st.text(min_size=1, max_size=20))
    action = draw(st.sampled_from(("drop", "replace", "replace")))
    if action == "drop":
        report.pop(name, None)
    else:
        report[name] = draw(_JSON)
    return _dump(report)


# Bytes of the huge field: mostly under the 64 KiB limit, some just over, a few far over
# (up to the broker's 1 MiB message limit, so the letter, base64 and all, is bigger still).
_HUGE_SIZES: tuple[int, ...] = (
    (2_001,) * 4 + (8_000,) * 4 + (30_000,) * 3 + (MAX_PAYLOAD_BYTES - 600,) * 3
)
_HUGE_SIZES += (MAX_PAYLOAD_BYTES + 1,) * 2 + (200_000, 800_000)


@st.composite
def huge(draw: st.DrawFn) -> bytes:
    """A report with one field made huge: under, around and over the 64 KiB limit."""
    report = draw(reports())
    name = draw(st.sampled_from(("text", "address", "grid_id", "reporter_id", "x" * 300)))
    char = draw(st.sampled_from("x楼\u00e9\U0001f525"))
    report[name] = char * (draw(st.sampled_from(_HUGE_SIZES)) // len(char.encode()))
    return _dump(report)


@st.composite
def deep(draw: st.DrawFn) -> bytes:
    """Nesting, bare or in a field: [[[...]]] and {"a": {"a": ...}}."""
    depth = draw(st.sampled_from((64, 200, 256, 1_000, 5_000, 20_000)))
    opening, closing = draw(st.sampled_from(((b"[", b"]"), (b'{"a":', b"}"))))
    nested = opening * depth + b"1" + closing * depth
    if draw(st.booleans()):
        return nested
    report = _dump(draw(reports()))
    return report[:-1] + b', "text": ' + nested + b"}"


@st.composite
def bad_utf8(draw: st.DrawFn) -> bytes:
    """A valid report with invalid UTF-8 put somewhere in it."""
    report = bytearray(_dump(draw(reports())))
    at = draw(st.integers(min_value=0, max_value=len(report) - 1))
    junk = draw(st.sampled_from((b"\xff", b"\xc3", b"\xe6\x9c", b"\xed\xa0\x80", b"\xc0\xaf")))
    report[at:at] = junk
    return bytes(report)


@st.composite
def truncated(draw: st.DrawFn) -> bytes:
    """A valid report cut short (a broken upload)."""
    report = _dump(draw(reports()))
    return report[: draw(st.integers(min_value=0, max_value=len(report) - 1))]


_COMMON = (
    st.binary(max_size=512),
    _JSON.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    one_field_broken(),
    one_field_broken(),
    deep(),
    bad_utf8(),
    truncated(),
    reports().map(_dump),
)
# one_of picks a branch uniformly: huge payloads are 1 in 19, so they stay ~40 MB in all.
PAYLOAD = st.one_of(*_COMMON, *_COMMON, huge())


def fuzzed(n: int) -> list[bytes]:
    """``n`` payloads from the strategies, the same ones every run."""
    found: list[bytes] = []

    @settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(PAYLOAD)
    def collect(payload: bytes) -> None:
        found.append(payload)

    collect()
    return found


def test_fuzzed_payloads_are_answered_and_memory_stays_flat(
    pipeline, start_worker, truth, publisher
):
    clock = Stopwatch()
    # Generated in another process while the worker starts (a thread would share the
    # global `random` that kafka-python uses, and hypothesis refuses strategies touching it).
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        generating = pool.submit(fuzzed, PAYLOADS)
        warm = first_start(pipeline, start_worker)
        worker = start_worker(warm.instance_id, warm.port)
        payloads = generating.result()
    assert len(payloads) >= PAYLOADS * 0.95, f"hypothesis gave only {len(payloads)}"
    clock.lap(f"worker up, {len(payloads)} payloads generated")

    rss = []  # after each batch of WARM_UP payloads
    for start in range(0, len(payloads), WARM_UP):
        publisher.send(payloads[start : start + WARM_UP])
        wait_processed(pipeline, truth, worker, timeout=300)
        rss.append(rss_bytes(worker.process.pid))
        clock.lap(f"{start + WARM_UP} answered; RSS {rss[-1] / 2**20:.1f} MiB")
    rss_warm, end = rss[0], rss[-1]

    assert worker.process.poll() is None and worker.metrics(), "the worker is not serving"
    invalid, valid = len(truth.invalid), len(truth.valid)
    print(f"{invalid} invalid, {valid} valid, {truth.retries} valid retries")
    assert invalid >= PAYLOADS * 0.8 and valid >= 100, "the mix is not what it should be"
    later = sum(len(p) for p in payloads[WARM_UP:])
    assert later > 2 * RSS_GROWTH_BOUND, f"only {later} bytes sent: the bound proves little"
    problems = []  # both checks run: a lost payload and a leak are reported together
    try:
        check_exact(pipeline, truth, worker, dlq_exact=True)
    except AssertionError as exc:
        problems.append(str(exc))
    if end - rss_warm >= RSS_GROWTH_BOUND:
        problems.append(
            f"RSS grew {(end - rss_warm) / 2**20:.1f} MiB over {len(payloads) - WARM_UP} "
            f"payloads ({later / 2**20:.1f} MiB); MiB after each {WARM_UP}: "
            f"{[r >> 20 for r in rss]}"
        )
    assert not problems, "\n".join(problems)
    clock.lap("checked")
