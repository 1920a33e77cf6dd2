"""Live counters against the real broker: exact with two workers and after a SIGKILL.

Findings are compared with the findings topic; intake's outcomes with what was published
(unique valid reports, retries, reports sent without a key) and with the dead-letter topic.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from schemas import dead_letter_adapter, findings_event_adapter
from streams.counters import bucket_of
from streams.publish import make_producer, publish_lines
from streams.sample import BadPayload, make_sample
from streams.settings import DEV_API_TOKEN
from streams.topic_reader import read_topic
from streams.validation import report_id_of

from .conftest import Pipeline, Worker, wait_for

pytestmark = pytest.mark.integration

REPORTS = 3_000
INVALID, RETRIES, UNKEYED = 90, 150, 40  # bad payloads, app retries, reports sent without key
CST = timezone(timedelta(hours=8))


def counters(worker: Worker, grain: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"http://127.0.0.1:{worker.port}/counters?grain={grain}",
        headers={"Authorization": f"Bearer {DEV_API_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def truth(pipeline: Pipeline, grain: str) -> dict[str, dict[str, int]]:
    """Every findings event on the topic, counted once, as the counters should."""
    s = pipeline.settings
    total: dict[str, Counter[str]] = {}
    for record in read_topic(s.kafka.bootstrap_list, s.topics.findings, idle_timeout_ms=2000):
        e = findings_event_adapter.validate_json(record.value)
        counts = total.setdefault(str(bucket_of(grain, e.reported_at.timestamp())), Counter())
        counts[f"reports|{e.district}"] += 1
        for f in e.findings:
            counts[f"findings|{e.district}|{f.code}|{f.severity}"] += 1
    return {bucket: dict(c) for bucket, c in sorted(total.items())}


def recent(lines: Iterable[bytes]) -> Iterator[bytes]:
    """The sample reported over the last 100 minutes, so every bucket is within retention."""
    start = datetime.now(CST) - timedelta(minutes=100)
    for n, line in enumerate(lines):
        report = json.loads(line)
        report["reported_at"] = (start + timedelta(seconds=2 * n)).isoformat()
        yield json.dumps(report, ensure_ascii=False).encode()


def findings_on_topic(pipeline: Pipeline) -> int:
    return sum(pipeline.end_offsets(pipeline.settings.topics.findings).values())


def where_the_reports_are(pipeline: Pipeline) -> str:
    """For a failure: findings and forwards out, and per partition what is committed of what."""
    topics = pipeline.settings.topics
    return (
        f"findings {findings_on_topic(pipeline)} of {REPORTS}; accepted topic "
        f"{accepted_forwards(pipeline)}; reports committed {pipeline.committed()} of "
        f"{pipeline.end_offsets(topics.reports)}; rekey committed "
        f"{pipeline.committed(topics.rekey)} of {pipeline.end_offsets(topics.rekey)}"
    )


def publish_some_unkeyed(pipeline: Pipeline, lines: list[bytes], unkeyed: set[bytes]) -> None:
    """Send ``lines`` keyed by report_id, but the first copy of each ``unkeyed`` one without."""
    producer, left = make_producer(pipeline.settings), set(unkeyed)
    try:
        for raw in lines:
            rid = None if raw in left else report_id_of(raw)
            left.discard(raw)
            producer.send(pipeline.settings.topics.reports, key=rid and rid.encode(), value=raw)
        producer.flush()
    finally:
        producer.close()


def intake_messages(pipeline: Pipeline, grain: str) -> dict[str, int]:
    """Messages on the reports and rekey topics by bucket of their broker time."""
    s, total = pipeline.settings, Counter[str]()
    for topic in (s.topics.reports, s.topics.rekey):
        for record in read_topic(s.kafka.bootstrap_list, topic, idle_timeout_ms=2000):
            total[str(bucket_of(grain, record.timestamp / 1000))] += 1
    return dict(total)


def dead_letters_by_kind(pipeline: Pipeline) -> Counter[str]:
    """The DLQ's letters by kind, each source message once (a replay after a crash resends)."""
    s, kinds = pipeline.settings, {}
    for record in read_topic(s.kafka.bootstrap_list, s.topics.dlq, idle_timeout_ms=2000):
        letter = dead_letter_adapter.validate_json(record.value)
        where = (letter.source_topic, letter.source_partition, letter.source_offset)
        kinds[where] = letter.error_kind
    return Counter(kinds.values())


def accepted_forwards(pipeline: Pipeline) -> dict[str, int]:
    """Forwards on the accepted topic: records, distinct sources, distinct report ids."""
    s, sources, ids, records = pipeline.settings, set(), set(), 0
    for record in read_topic(s.kafka.bootstrap_list, s.topics.accepted, idle_timeout_ms=2000):
        headers = dict(record.headers or ())
        records += 1
        sources.add(headers.get("gw-source"))
        ids.add(headers.get("gw-report-id"))
    return {"records": records, "sources": len(sources), "report_ids": len(ids)}


def assert_intake_counts_exact(pipeline: Pipeline, worker: Worker, bad: list[BadPayload]) -> None:
    """Every message of reports and rekey counted once, by its outcome and broker time."""
    dead = dead_letters_by_kind(pipeline)
    assert dead == Counter(b.kind for b in bad)  # no internal errors: every kind as made
    on_rekey = sum(pipeline.end_offsets(pipeline.settings.topics.rekey).values())
    expected = Counter({f"intake|dead|{kind}": n for kind, n in dead.items()})
    expected["intake|accepted"] = REPORTS
    expected["intake|rekeyed"] = UNKEYED
    # a retry is a duplicate, and so is a second copy of a rekeyed report (a replayed resend)
    expected["intake|duplicate"] = RETRIES + on_rekey - UNKEYED
    for grain in ("day", "hour", "minute"):
        messages = intake_messages(pipeline, grain)

        def exact(grain: str = grain, messages: dict[str, int] = messages) -> bool:
            answer = counters(worker, grain)
            counted = {b: Counter(c) for b, c in answer["intake"].items()}
            by_bucket = {bucket: counts.total() for bucket, counts in counted.items()}
            total = sum(counted.values(), Counter[str]())
            return bool(answer["complete"]) and by_bucket == messages and total == expected

        def seen(grain: str = grain, messages: dict[str, int] = messages) -> str:
            counted = {b: Counter(c) for b, c in counters(worker, grain)["intake"].items()}
            by_bucket = {bucket: counts.total() for bucket, counts in counted.items()}
            total = sum(counted.values(), Counter[str]())
            wrong = {b: (by_bucket.get(b), n) for b, n in messages.items() if by_bucket.get(b) != n}
            forwards = accepted_forwards(pipeline)
            return (
                f"counted {dict(total)}, expected {dict(expected)}; buckets off: {wrong}; "
                f"accepted topic: {forwards}"
            )[:2500]

        wait_for(exact, 60, worker._died, describe=seen)


def test_counters_stay_exact_through_a_sigkill_and_a_second_worker(pipeline, start_worker):
    sample = make_sample(REPORTS, INVALID, RETRIES, seed=31, prefix="cnt", recent=True)
    lines = sample.lines(random.Random(31))
    unkeyed = {json.dumps(r, ensure_ascii=False).encode() for r in sample.valid[-UNKEYED:]}
    # Intake handles all of it within a second or two, then flushes no more: the SIGKILL
    # loses nearly all its counts, which the restarted workers derive again from the topic.
    publish_some_unkeyed(pipeline, lines, unkeyed)
    first = start_worker()
    wait_for(lambda: findings_on_topic(pipeline) >= REPORTS // 3, 120, first._died)
    first.kill()  # counts in memory and the last commit are lost with it

    restarted = start_worker(first.instance_id, first.port)
    helper = start_worker()  # a second worker takes some partitions over

    def where() -> str:
        return where_the_reports_are(pipeline)

    wait_for(lambda: findings_on_topic(pipeline) >= REPORTS, 180, restarted._died, describe=where)
    wait_for(pipeline.drained, 120, restarted._died, describe=where)
    assert_intake_counts_exact(pipeline, helper, sample.bad)

    for grain in ("day", "hour", "minute"):
        expected = truth(pipeline, grain)

        def exact(grain: str = grain, expected: dict[str, dict[str, int]] = expected) -> bool:
            answer = counters(helper, grain)
            return bool(answer["complete"]) and answer["buckets"] == expected

        def seen(grain: str = grain, expected: dict[str, dict[str, int]] = expected) -> str:
            answer = counters(helper, grain)
            diff = {
                (bucket, key): (counts.get(key), expected.get(bucket, {}).get(key))
                for bucket, counts in answer["buckets"].items()
                for key in set(counts) | set(expected.get(bucket, {}))
                if counts.get(key) != expected.get(bucket, {}).get(key)
            }
            return f"complete={answer['complete']} (counted, expected) where they differ: {diff}"[
                :1500
            ]

        wait_for(exact, 60, helper._died, describe=seen)
    reports = sum(
        n for c in truth(pipeline, "day").values() for k, n in c.items() if k.startswith("reports|")
    )
    assert reports == findings_on_topic(pipeline)


def test_counters_are_exact_with_one_worker(pipeline, start_worker):
    sample = make_sample(600, 0, 0, seed=37, prefix="one")
    publish_lines(pipeline.settings, recent(sample.lines(random.Random(37))), progress=False)
    worker = start_worker()
    wait_for(lambda: findings_on_topic(pipeline) >= 600, 120, worker._died)
    expected = truth(pipeline, "day")

    def exact() -> bool:
        answer = counters(worker, "day")
        return bool(answer["complete"]) and answer["buckets"] == expected

    wait_for(exact, 30, worker._died, describe=lambda: str(counters(worker, "day"))[:300])


def first_snapshot(worker: Worker, token: str = DEV_API_TOKEN) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"http://127.0.0.1:{worker.port}/live/stream", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        for line in response:
            if line.startswith(b"data: "):
                snap: dict[str, Any] = json.loads(line[6:])
                return snap
    msg = "the stream ended without a snapshot"
    raise AssertionError(msg)


def test_the_live_page_and_its_stream_show_what_the_counters_hold(pipeline, start_worker):
    sample = make_sample(400, 0, 0, seed=41, prefix="live")
    lines = list(recent(sample.lines(random.Random(41))))
    # Between 00:00 and 01:40 in Ningbo the sample spans two days, and "today" shows one.
    days = {
        str(bucket_of("day", datetime.fromisoformat(json.loads(line)["reported_at"]).timestamp()))
        for line in lines
    }
    publish_lines(pipeline.settings, lines, progress=False)
    worker = start_worker()
    wait_for(lambda: findings_on_topic(pipeline) >= 400, 120, worker._died)

    with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/live", timeout=10) as page:  # noqa: S310
        html = page.read().decode()
    assert "网格治理指挥中心" in html

    today = str(bucket_of("day", datetime.now(CST).timestamp()))

    def reports_in(counts: dict[str, int]) -> int:
        return sum(n for k, n in counts.items() if k.startswith("reports|"))

    def shown_equals_counted() -> bool:
        buckets = counters(worker, "day")["buckets"]
        snap = first_snapshot(worker)
        counted_today = reports_in(buckets.get(today, {}))
        counted = sum(reports_in(buckets.get(day, {})) for day in days)
        return snap["complete"] and snap["today"]["reports"] == counted_today and counted == 400

    wait_for(
        shown_equals_counted, 30, worker._died, describe=lambda: str(first_snapshot(worker))[:300]
    )
    snap = first_snapshot(worker)
    if days == {today}:
        assert snap["today"]["reports"] == 400
    grid_reports = sum(row.get("reports", 0) for row in snap["grid"].values())
    assert grid_reports == snap["today"]["reports"]  # the grid is today's, by district
    assert sum(t[1] for t in snap["trend"]) == 400  # all reported within the last two hours
    try:
        first_snapshot(worker, token="wrong")
    except urllib.error.HTTPError as refused:
        assert refused.code == 401
    else:
        raise AssertionError("the stream answered without the token")
