"""Live counters against the real broker: exact with two workers and after a SIGKILL."""

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

from schemas import findings_event_adapter
from streams.counters import bucket_of
from streams.publish import publish_lines
from streams.sample import make_sample
from streams.settings import DEV_API_TOKEN
from streams.topic_reader import read_topic

from .conftest import Pipeline, Worker, wait_for

pytestmark = pytest.mark.integration

REPORTS = 3_000
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


def test_counters_stay_exact_through_a_sigkill_and_a_second_worker(pipeline, start_worker):
    sample = make_sample(REPORTS, 0, 0, seed=31, prefix="cnt")
    publish_lines(pipeline.settings, recent(sample.lines(random.Random(31))), progress=False)
    first = start_worker()
    wait_for(lambda: findings_on_topic(pipeline) >= REPORTS // 3, 120, first._died)
    first.kill()  # counts in memory and the last commit are lost with it

    restarted = start_worker(first.instance_id, first.port)
    helper = start_worker()  # a second worker takes some partitions over
    wait_for(lambda: findings_on_topic(pipeline) >= REPORTS, 180, restarted._died)
    wait_for(pipeline.drained, 120, restarted._died)

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
    publish_lines(pipeline.settings, recent(sample.lines(random.Random(41))), progress=False)
    worker = start_worker()
    wait_for(lambda: findings_on_topic(pipeline) >= 400, 120, worker._died)

    with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/live", timeout=10) as page:  # noqa: S310
        html = page.read().decode()
    assert "网格治理指挥中心" in html

    today = str(bucket_of("day", datetime.now(CST).timestamp()))

    def shown_equals_counted() -> bool:
        counted = counters(worker, "day")["buckets"].get(today, {})
        snap = first_snapshot(worker)
        reports = sum(n for k, n in counted.items() if k.startswith("reports|"))
        return snap["complete"] and snap["today"]["reports"] == reports == 400

    wait_for(
        shown_equals_counted, 30, worker._died, describe=lambda: str(first_snapshot(worker))[:300]
    )
    snap = first_snapshot(worker)
    grid_reports = sum(row.get("reports", 0) for row in snap["grid"].values())
    assert grid_reports == 400
    assert sum(t[1] for t in snap["trend"]) == 400  # all reported within the last two hours
    try:
        first_snapshot(worker, token="wrong")
    except urllib.error.HTTPError as refused:
        assert refused.code == 401
    else:
        raise AssertionError("the stream answered without the token")
