"""Intake's outcome counters: what each message counts as, live and derived again after a crash."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime
from unittest.mock import AsyncMock, patch

import pytest

from schemas import IntakeSource
from schemas.dead_letter import DeadLetterV1
from streams import intake, topics
from streams.app import app, settings
from streams.counters import Tally, bucket_of
from streams.intake import (
    DeadLetter,
    Duplicate,
    Forward,
    Rekey,
    counter_part,
    outcome_key,
    replayed_counter_groups,
    replayed_outcome_key,
)
from streams.triage.agent import findings_read_back
from streams.validation import parse_report

T0 = datetime(2025, 11, 3, 8, 0, tzinfo=UTC).timestamp()
NOW = T0 + 3600


def source(offset: int = 7, topic: str = "grid.reports", partition: int = 2) -> IntakeSource:
    return IntakeSource(
        topic=topic, partition=partition, offset=offset, received_at=datetime.now(UTC)
    )


def letter(kind: str) -> DeadLetterV1:
    return DeadLetterV1.model_validate(
        {
            "error_kind": kind,
            "reason": "r",
            "source_topic": "grid.reports",
            "source_partition": 2,
            "source_offset": 7,
            "original_b64": "",
            "original_size": 0,
            "dead_lettered_at": datetime.now(UTC),
        }
    )


def test_each_outcome_counts_under_its_own_key(report_factory):
    report = parse_report(json.dumps(report_factory()).encode())
    here = ["grid.reports", 2, 7]
    assert outcome_key(Forward(report.accepted(source())), source(), {}) == "intake|accepted"
    assert outcome_key(Rekey("r-0001"), source(), {}) == "intake|rekeyed"
    assert outcome_key(DeadLetter(letter("not_json")), source(), {}) == "intake|dead|not_json"
    earlier = {"r-0001": ["grid.reports", 2, 3]}
    assert outcome_key(Duplicate("r-0001"), source(), earlier) == "intake|duplicate"
    # the read-back found this very message's forward (made before a crash): the accepted one
    assert outcome_key(Duplicate("r-0001"), source(), {"r-0001": here}) == "intake|accepted"


def test_a_source_partition_is_a_part_per_topic():
    assert counter_part(settings.topics.reports, 3) == "r3"
    assert counter_part(settings.topics.rekey, 3) == "k3"


# -- the live agent and the re-derivation agree, message by message


@pytest.fixture
def test_app():
    app.finalize()
    app.flow_control.resume()
    intake.seen_reports.data.clear()
    for stage in (intake.read_back, findings_read_back):
        stage.done.set()  # no rebalance in test_context: nothing to read back
    return app


@pytest.fixture
def counted():
    """Every message the agent counts, with its broker time and counter groups, outcome last."""
    found: list[tuple[IntakeSource, bytes | None, bytes, float, list, str]] = []

    def record(message, groups) -> None:
        where = source(message.offset, message.topic, message.partition)
        outcome = groups[0][1][0]
        found.append((where, message.key, message.value, message.timestamp, groups, outcome))

    with patch.object(intake, "count_message", side_effect=record):
        yield found


def traffic(report_factory) -> list[tuple[bytes, bytes | None]]:
    rng = random.Random(5)
    reports = [report_factory(report_id=f"r-{n:04d}") for n in range(12)]
    messages = [(json.dumps(r).encode(), r["report_id"].encode()) for r in reports]
    messages += [(json.dumps(r).encode(), r["report_id"].encode()) for r in reports[:5]]  # retries
    messages += [(json.dumps(reports[6]).encode(), b"330203-GL-017")]  # keyed by grid: rekeyed
    messages += [
        (b"not json", None),
        (b"[]", None),
        (json.dumps(report_factory(text="")).encode(), b"x"),
    ]
    rng.shuffle(messages)
    return messages


def fail_for(report_id: str):
    async def send(key: bytes, value: bytes, headers: object) -> None:
        if json.loads(value)["report_id"] == report_id:
            raise RuntimeError("broker down")

    return send


def owned_when_keyed_by_id(key, report, partition, partitions):
    return key == report.report_id.encode()


async def test_a_replayed_message_counts_as_it_did_live(test_app, counted, report_factory):
    """After a crash, the gap's outcomes are derived from bytes and the seen table alone."""
    messages = traffic(report_factory)
    failing = AsyncMock(side_effect=fail_for("r-0011"))  # never retried
    with (
        patch.object(intake, "owns_report_id", owned_when_keyed_by_id),
        patch.object(topics.accepted_topic, "send", failing),
        patch.object(topics.dlq_topic, "send", AsyncMock()),
        patch.object(topics.rekey_topic, "send", AsyncMock()),
        patch.object(topics.findings_topic, "send", AsyncMock()),
        patch.object(topics.commands_topic, "send", AsyncMock()),
        patch.object(topics.indicators_topic, "send", AsyncMock()),
    ):
        async with intake.intake.test_context() as agent:
            for raw, key in messages:
                await agent.put(raw, key=key)
        live = [key for *_rest, key in counted]
        replayed = [
            replayed_outcome_key(raw, key, where, intake.seen_reports.data)
            for where, key, raw, *_live in counted
        ]
        replayed_groups = [
            replayed_counter_groups(raw, key, where, intake.seen_reports.data, ts)
            for where, key, raw, ts, *_live in counted
        ]
    assert replayed == live
    # the report and its findings too, in the buckets of the report's time
    assert replayed_groups == [groups for *_rest, groups, _key in counted]
    accepted = [groups for *_rest, groups, key in counted if key == "intake|accepted"]
    assert all(len(g) == 2 and g[1][1][0].startswith("reports|") for g in accepted)
    assert all(len(groups) == 1 for *_rest, groups, key in counted if key != "intake|accepted")
    outcomes = Counter(live)
    assert outcomes["intake|accepted"] == failing.await_count - 1  # one per forward made
    assert outcomes["intake|accepted"] + outcomes["intake|duplicate"] == 12 + 5 - 1
    assert outcomes["intake|dead|internal_error"] == 1  # the forward that failed
    assert outcomes["intake|rekeyed"] == 1
    assert [outcomes[f"intake|dead|{k}"] for k in ("not_json", "not_object", "text_empty")] == [
        1,
        1,
        1,
    ]


def test_a_retry_on_the_rekey_topic_counts_once_as_duplicate(report_factory):
    raw = json.dumps(report_factory()).encode()
    rekey = source(4, settings.topics.rekey)
    seen = {"r-0001": [settings.topics.reports, 2, 1]}
    assert replayed_outcome_key(raw, None, rekey, seen) == "intake|duplicate"
    seen = {"r-0001": [settings.topics.rekey, 2, 4]}
    assert replayed_outcome_key(raw, None, rekey, seen) == "intake|accepted"


# -- the tally with two parts (reports and rekey partitions) in one changelog partition


def test_parts_of_one_partition_keep_their_own_flushed_through_offsets():
    table: dict[str, object] = {}
    tally = Tally(table)
    assert tally.add_keys("r0", 5, T0, ["intake|accepted"])
    assert tally.add_keys("k0", 2, T0, ["intake|duplicate"])
    tally.flush("r0", NOW)
    tally.flush("k0", NOW)
    restarted = Tally(table)
    assert restarted.gap("r0", 9) == range(6, 9)
    assert restarted.gap("k0", 9) == range(3, 9)
    assert not restarted.add_keys("r0", 5, T0, ["intake|accepted"])
    assert restarted.add_keys("k0", 5, T0, ["intake|accepted"])
    day = str(bucket_of("day", T0))
    assert restarted.counts(["r0", "k0"], "day") == {
        day: {"intake|accepted": 2, "intake|duplicate": 1}
    }
    assert restarted.counts(["r0"], "day") == {day: {"intake|accepted": 1}}


def test_flush_due_writes_about_once_a_second():
    table: dict[str, object] = {}
    tally = Tally(table)
    tally.add_keys("r1", 0, T0, ["intake|accepted"])
    tally.flush_due("r1", NOW)
    tally.add_keys("r1", 1, T0, ["intake|accepted"])
    tally.flush_due("r1", NOW + 0.5)  # too soon: stays pending
    flushed = [table["r1|flushed"]]
    tally.flush_due("r1", NOW + 1.0)
    flushed.append(table["r1|flushed"])
    assert flushed == [0, 1]


def test_two_topics_any_crash_and_commit_point_give_exact_outcome_counts():
    """Messages of r0 and k0 interleave; the worker dies; its successor reads the gaps again."""
    rng = random.Random(9)
    keys = ["intake|accepted", "intake|duplicate", "intake|rekeyed", "intake|dead|not_json"]
    logs = {part: [(T0 + 13 * n, rng.choice(keys)) for n in range(80)] for part in ("r0", "k0")}
    truth: dict[str, Counter[str]] = {}
    for at, key in logs["r0"] + logs["k0"]:
        truth.setdefault(str(bucket_of("minute", at)), Counter())[key] += 1
    for trial in range(200):
        table: dict[str, object] = {}
        worker, done = Tally(table), {"r0": 0, "k0": 0}
        for _ in range(rng.randrange(1, 150)):
            part = rng.choice(["r0", "k0"])
            if done[part] < len(logs[part]):
                at, key = logs[part][done[part]]
                worker.add_keys(part, done[part], at, [key])
                done[part] += 1
            if rng.random() < 0.2:
                worker.flush(rng.choice(["r0", "k0"]), NOW)  # a flush while handling either
        successor = Tally(table)
        for part, log in logs.items():
            committed = rng.randrange(0, done[part] + 1)
            # the gap, read again from the topic, then what Faust replays from the commit
            for offset in [*successor.gap(part, committed), *range(committed, len(log))]:
                at, key = log[offset]
                successor.add_keys(part, offset, at, [key])
            successor.flush(part, NOW)
        expected = {b: dict(c) for b, c in sorted(truth.items())}
        assert successor.counts(["r0", "k0"], "minute") == expected, trial


async def test_known_limit_a_failed_forward_later_retried_replays_as_a_duplicate(
    test_app, counted, report_factory
):
    """An internal error is not in the bytes: if a retry was accepted, the seen entry names it."""
    raw = json.dumps(report_factory()).encode()
    with (
        patch.object(intake, "owns_report_id", owned_when_keyed_by_id),
        patch.object(topics.accepted_topic, "send", AsyncMock(side_effect=[RuntimeError, None])),
        patch.object(topics.dlq_topic, "send", AsyncMock()),
        patch.object(topics.findings_topic, "send", AsyncMock()),
        patch.object(topics.commands_topic, "send", AsyncMock()),
        patch.object(topics.indicators_topic, "send", AsyncMock()),
    ):
        async with intake.intake.test_context() as agent:
            await agent.put(raw, key=b"r-0001")
            await agent.put(raw, key=b"r-0001")
    (first, *_), (second, *_) = counted
    assert [key for *_rest, key in counted] == ["intake|dead|internal_error", "intake|accepted"]
    seen = intake.seen_reports.data
    assert replayed_outcome_key(raw, b"r-0001", first, seen) == "intake|duplicate"  # not exact
    assert replayed_outcome_key(raw, b"r-0001", second, seen) == "intake|accepted"
