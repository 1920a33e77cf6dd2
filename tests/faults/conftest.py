"""Fault-test helpers: publish traffic whose every outcome is known, then check them all.

The integration fixtures are reused (``broker``, ``start_worker``; ``pipeline`` here keeps
its topics when a test fails, for the post-mortem). What is added here is the ground truth:
every payload is published with its partition and offset recorded, and its expected outcome
computed in this process, without the worker:

    valid report    -> once on grid.reports.accepted, once on grid.findings with the
                       findings the triage engine gives it here, counted once by /counters
    retry           -> nothing new (its report_id is already accepted)
    bad payload     -> on grid.reports.dlq with a reason, naming its source partition+offset

``check_exact`` compares all of it with what the topics and the worker's /counters hold.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient

from schemas import accepted_report_adapter, dead_letter_adapter, findings_event_adapter
from schemas.dead_letter import DeadLetterV1
from streams.counters import GRAINS, bucket_of
from streams.errors import InvalidReport
from streams.sample import make_sample
from streams.settings import DEV_API_TOKEN
from streams.topic_reader import read_topic
from streams.triage import load_engine
from streams.validation import parse_report, report_id_of
from tests.integration import conftest as integration
from tests.integration.conftest import Pipeline, Worker, wait_for

# The integration fixtures, as they are: a broker and real worker processes.
broker, start_worker = integration.broker, integration.start_worker


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember on the test item whether its call failed (for ``pipeline``'s teardown)."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def pipeline(broker: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Pipeline]:
    """The integration ``pipeline``, whose topics are kept when the test fails.

    A failed fault test is investigated from its topics (offsets, headers, letters); their
    names are in the worker logs under the test's tmp_path.
    """
    fresh = Pipeline(broker, tmp_path / "worker-data")
    yield fresh
    if not request.node.stash.get(FAILED, False):
        fresh.delete_topics()


# (district, code, severity) of each finding, as triage must emit them for one report.
Findings = tuple[tuple[str, str], ...]


@dataclass
class Truth:
    """What the pipeline must make of everything published so far."""

    valid: dict[str, Findings] = field(default_factory=dict)  # report_id -> findings
    counters: dict[str, dict[str, Counter[str]]] = field(
        default_factory=lambda: {grain: {} for grain in GRAINS}
    )  # grain -> bucket -> counter key -> n
    invalid: dict[tuple[int, int], tuple[bytes, str]] = field(default_factory=dict)
    # ^ (partition, offset) on the reports topic -> (payload, error kind)
    retries: int = 0
    published: int = 0

    def add_valid(self, raw: bytes) -> None:
        """Judge one valid payload as the worker must: first copy counts, later ones retry."""
        report = parse_report(raw)
        if report.report_id in self.valid:
            self.retries += 1
            return
        verdict = load_engine().classify(
            report.text,
            category_hint=report.category_hint,
            place_type=report.place_type,
            reported_at=report.reported_at,
        )
        self.valid[report.report_id] = tuple((f.code, f.severity) for f in verdict.findings)
        keys = [f"reports|{report.district}"]
        keys += [f"findings|{report.district}|{f.code}|{f.severity}" for f in verdict.findings]
        for grain, buckets in self.counters.items():
            bucket = str(bucket_of(grain, report.reported_at.timestamp()))
            buckets.setdefault(bucket, Counter()).update(keys)

    def expected_counters(self, grain: str) -> dict[str, dict[str, int]]:
        """/counters' ``buckets`` for ``grain`` as they must read."""
        return {b: dict(c) for b, c in sorted(self.counters[grain].items())}


def judge(raw: bytes) -> str | None:
    """The error kind intake must give ``raw``, or None when it is a valid report."""
    try:
        parse_report(raw)
    except InvalidReport as exc:
        return exc.kind
    return None


class Publisher:
    """kafka-python as a fast grid app: acks=all, idempotent, batched; records where each went."""

    def __init__(self, pipe: Pipeline, truth: Truth) -> None:
        self.pipe, self.truth = pipe, truth
        self.producer = KafkaProducer(
            bootstrap_servers=pipe.settings.kafka.bootstrap_list,
            acks="all",
            enable_idempotence=True,
            linger_ms=20,
            batch_size=256 * 1024,
            max_request_size=2 * 1024 * 1024,
            retries=2**31 - 1,
            delivery_timeout_ms=300_000,
            client_id="gridwatch-faults",
        )

    def send(self, payloads: Iterable[bytes], keyed: bool = True) -> None:
        """Send each payload (keyed by report_id when it has one) and wait for every ack."""
        futures = []
        for raw in payloads:
            kind = judge(raw)
            if kind is None:
                self.truth.add_valid(raw)
            rid = report_id_of(raw) if keyed else None
            future = self.producer.send(
                self.pipe.settings.topics.reports, key=rid.encode() if rid else None, value=raw
            )
            futures.append((future, raw, kind))
        self.producer.flush()
        for future, raw, kind in futures:
            meta = future.get(timeout=60)  # raises if a send failed: the truth would be wrong
            if kind is not None:
                self.truth.invalid[(meta.partition, meta.offset)] = (raw, kind)
        self.truth.published += len(futures)

    def close(self) -> None:
        """Flush and close the producer."""
        self.producer.close(timeout=30)


@pytest.fixture
def truth() -> Truth:
    """The ground truth of one test's traffic."""
    return Truth()


@pytest.fixture
def publisher(pipeline: Pipeline, truth: Truth) -> Iterator[Publisher]:
    """Publish to the test's pipeline, recording the truth."""
    pub = Publisher(pipeline, truth)
    yield pub
    pub.close()


def traffic(valid: int, invalid: int, retries: int, seed: int, prefix: str) -> list[bytes]:
    """Shuffled payloads: distinct valid reports dated over the last hour, retries, bad ones.

    Dated recently so every minute bucket is still kept when the test reads the counters.
    """
    sample = make_sample(valid, invalid, retries, seed=seed, prefix=prefix, recent=True)
    return sample.lines(random.Random(seed))


def total(pipe: Pipeline, topic: str) -> int:
    """Messages now on ``topic`` (sum of its end offsets)."""
    return sum(pipe.end_offsets(topic).values())


def accepted(pipe: Pipeline) -> Counter[str]:
    """report_id -> how many times it is on the accepted topic."""
    s = pipe.settings
    return Counter(
        accepted_report_adapter.validate_json(r.value).report_id
        for r in read_topic(s.kafka.bootstrap_list, s.topics.accepted, idle_timeout_ms=3000)
    )


def findings(pipe: Pipeline) -> dict[str, list[Findings]]:
    """report_id -> the findings of each of its findings events (one list entry per event)."""
    s = pipe.settings
    found: dict[str, list[Findings]] = {}
    for r in read_topic(s.kafka.bootstrap_list, s.topics.findings, idle_timeout_ms=3000):
        event = findings_event_adapter.validate_json(r.value)
        codes = tuple((f.code, f.severity) for f in event.findings)
        found.setdefault(event.report_id, []).append(codes)
    return found


def dead_letters(pipe: Pipeline) -> list[DeadLetterV1]:
    """Every letter on the DLQ."""
    s = pipe.settings
    return [
        dead_letter_adapter.validate_json(r.value)
        for r in read_topic(s.kafka.bootstrap_list, s.topics.dlq, idle_timeout_ms=3000)
    ]


def counters(worker: Worker, grain: str) -> dict[str, Any]:
    """GET /counters?grain= on one worker (merged with its peers')."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"http://127.0.0.1:{worker.port}/counters?grain={grain}",
        headers={"Authorization": f"Bearer {DEV_API_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def _topics(pipe: Pipeline) -> tuple[str, ...]:
    t = pipe.settings.topics
    return (t.reports, t.rekey)  # accepted and findings are written, not read, by the worker


def drained(pipe: Pipeline) -> bool:
    """Whether the group committed everything on the topics the pipeline reads."""
    for topic in _topics(pipe):
        ends = pipe.end_offsets(topic)
        done = pipe.committed(topic)
        if any(done.get(p, 0) < end for p, end in ends.items() if end):
            return False
    return True


def wait_processed(
    pipe: Pipeline, truth: Truth, worker: Worker, timeout: float, stall: float = 150
) -> None:
    """Until the group committed everything on every topic it reads.

    Faust flushes a message's sends before committing its offset, so once all are
    committed every output is on its topic: what is missing then is lost, and the checks
    that follow say what (rather than this wait timing out). Fails early when no committed
    offset moved for ``stall`` seconds (a stuck rebalance, a dead agent).
    """
    s = pipe.settings
    last = {"sum": -1, "at": time.monotonic()}

    def stalled() -> str | None:
        died = worker._died()
        if died:
            return died
        now_sum = sum(sum(pipe.committed(t).values()) for t in _topics(pipe))
        if now_sum != last["sum"]:
            last.update(sum=now_sum, at=time.monotonic())
        elif time.monotonic() - last["at"] > stall:
            return f"no committed offset moved for {stall:g}s: {where()}"
        return None

    def where() -> str:
        return (
            f"findings {total(pipe, s.topics.findings)}/{len(truth.valid)}, "
            f"dlq {total(pipe, s.topics.dlq)}/{len(truth.invalid)}, {pipe.progress()}\n"
            f"{worker.log_tail()}"
        )

    wait_for(lambda: drained(pipe), timeout, stalled, interval=2.0, describe=where)


def check_exact(pipe: Pipeline, truth: Truth, worker: Worker, *, dlq_exact: bool) -> None:
    """Every valid report accepted and triaged exactly once, every bad one dead-lettered.

    ``dlq_exact``: each bad payload has exactly one letter. After a SIGKILL, letters of the
    replayed messages may be written twice (dead-lettering is at-least-once by design); then
    each bad payload must have at least one, and no letter may name another message.
    """
    ids = accepted(pipe)
    missing = set(truth.valid) - set(ids)
    twice = {rid: n for rid, n in ids.items() if n > 1}
    extra = set(ids) - set(truth.valid)
    assert (len(missing), len(twice), len(extra)) == (0, 0, 0), (
        f"accepted: {len(missing)} missing (e.g. {sorted(missing)[:5]}), {len(twice)} twice "
        f"(e.g. {sorted(twice.items())[:5]}), {len(extra)} unknown; {pipe.progress()}"
    )

    events = findings(pipe)
    missing = set(truth.valid) - set(events)
    twice = {rid: len(e) for rid, e in events.items() if len(e) > 1}
    assert (len(missing), len(twice)) == (0, 0), (
        f"findings: {len(missing)} reports without (e.g. {sorted(missing)[:5]}), "
        f"{len(twice)} with several events (e.g. {sorted(twice.items())[:5]})"
    )
    wrong = {rid: (e[0], truth.valid[rid]) for rid, e in events.items() if e[0] != truth.valid[rid]}
    assert not wrong, f"{len(wrong)} reports triaged otherwise than here: {list(wrong.items())[:3]}"

    check_dead_letters(pipe, truth, exact=dlq_exact)
    check_counters(truth, worker)


def check_dead_letters(pipe: Pipeline, truth: Truth, *, exact: bool) -> None:
    """Each bad payload has a letter with its kind, a reason and its original bytes."""
    letters = dead_letters(pipe)
    by_source = Counter((x.source_partition, x.source_offset) for x in letters)
    strangers = [x for x in letters if (x.source_partition, x.source_offset) not in truth.invalid]
    assert not strangers, (
        f"{len(strangers)} letters for valid (or unknown) messages, by reason: "
        f"{Counter((x.source_topic, x.error_kind, x.reason) for x in strangers).most_common(5)}"
        f", first at {min(x.dead_lettered_at for x in strangers)}, "
        f"last at {max(x.dead_lettered_at for x in strangers)}"
    )
    missing = set(truth.invalid) - set(by_source)
    assert not missing, (
        f"{len(missing)} bad payloads without a letter, e.g. (partition, offset) "
        f"{sorted(missing)[:5]}; their sizes: {sorted(len(truth.invalid[m][0]) for m in missing)}"
    )
    if exact:
        twice = {src: n for src, n in by_source.items() if n > 1}
        assert not twice, f"{len(twice)} bad payloads dead-lettered more than once"
    for x in letters:
        raw, kind = truth.invalid[(x.source_partition, x.source_offset)]
        if x.original_truncated:  # too big to carry whole: a prefix, the size and the hash
            sha = hashlib.sha256(raw).hexdigest()
            assert (x.original_size, x.original_sha256, x.error_kind) == (len(raw), sha, kind)
            assert raw.startswith(x.original_prefix()), x.reason
        else:
            assert (x.original(), x.error_kind) == (raw, kind), x.reason
        assert x.reason and x.source_topic == pipe.settings.topics.reports


def check_counters(truth: Truth, worker: Worker, timeout: float = 60) -> None:
    """/counters equals the truth in every grain (merged over workers, all partitions)."""
    for grain in GRAINS:
        expected = truth.expected_counters(grain)

        def exact(grain: str = grain, expected: dict[str, dict[str, int]] = expected) -> bool:
            answer = counters(worker, grain)
            return bool(answer["complete"]) and answer["buckets"] == expected

        def diff(grain: str = grain, expected: dict[str, dict[str, int]] = expected) -> str:
            answer = counters(worker, grain)
            got = answer["buckets"]
            where = {
                (bucket, key): (got.get(bucket, {}).get(key), expected.get(bucket, {}).get(key))
                for bucket in set(got) | set(expected)
                for key in set(got.get(bucket, {})) | set(expected.get(bucket, {}))
                if got.get(bucket, {}).get(key) != expected.get(bucket, {}).get(key)
            }
            return f"{grain}: complete={answer['complete']}, (counted, true): {where}"[:2000]

        wait_for(exact, timeout, worker._died, describe=diff)


def first_start(pipe: Pipeline, start_worker: Callable[..., Worker]) -> Worker:
    """Start a worker once, before any traffic, and stop it; returns it (stopped).

    Its changelog topics are created by Faust as a worker starts, and the first worker of a
    fresh app can miss them in its first metadata: then every table write of its life raises
    ``PartitionsMismatch`` (test_first_start.py shows it; the report of issue 6 item 3 has
    the cause). The fault tests are about other faults, so their pipeline has run once
    before, as any deployment but the very first has. Restart it with the same instance id
    and port: a static member that left without a LeaveGroup would hold partitions until
    its session expires.
    """
    worker = start_worker()
    app_id = pipe.settings.app_id
    seen: list[list[str]] = []

    def changelogs_settled() -> bool:
        admin = KafkaAdminClient(bootstrap_servers=pipe.settings.kafka.bootstrap_list)
        try:
            names = sorted(
                t for t in admin.list_topics() if t.startswith(app_id) and t.endswith("-changelog")
            )
        finally:
            admin.close()
        seen.append(names)
        return len(seen) >= 3 and bool(names) and seen[-1] == seen[-2] == seen[-3]

    wait_for(changelogs_settled, 60, worker._died, interval=1.0, describe=lambda: str(seen[-1:]))
    worker.stop()
    return worker


def owned_partitions(worker: Worker) -> list[int]:
    """The findings partitions a worker counts now (its assignment), [] while it cannot say."""
    try:
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"http://127.0.0.1:{worker.port}/counters?grain=day&local=1",
            headers={"Authorization": f"Bearer {DEV_API_TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return list(json.loads(response.read())["partitions"])
    except OSError:
        return []


def wait_group_settled(workers: list[Worker], partitions: int, timeout: float = 90) -> None:
    """Until every worker owns some partitions and together they own them all, once each."""

    def settled() -> bool:
        owned = [owned_partitions(w) for w in workers]
        flat = [p for part in owned for p in part]
        return all(owned) and sorted(flat) == list(range(partitions))

    wait_for(settled, timeout, describe=lambda: str([owned_partitions(w) for w in workers]))


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    msg = f"no VmRSS for pid {pid}"
    raise AssertionError(msg)


class Stopwatch:
    """Prints how long each phase of a fault test took (shown with -s or on failure)."""

    def __init__(self) -> None:
        self.start = self.last = time.monotonic()

    def lap(self, what: str) -> None:
        """Print the phase's and the total time."""
        now = time.monotonic()
        print(f"[{now - self.start:6.1f}s] {what} (+{now - self.last:.1f}s)")
        self.last = now


def ci() -> bool:
    """Whether this run is CI (a broker that cannot be had fails the run)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
