"""Intake against the real broker: everything accepted once, every bad input answered."""

from __future__ import annotations

import json
import random
import time
from collections import Counter

import pytest
from kafka import KafkaProducer

from schemas import accepted_report_adapter, dead_letter_adapter, findings_event_adapter
from streams.admin import describe_topics
from streams.partitioning import partition_of
from streams.publish import publish_lines
from streams.sample import make_sample
from streams.topic_reader import read_topic
from streams.triage import load_engine

from .conftest import Pipeline, wait_for


def classify_text(text: str):
    return load_engine().classify(text).findings


pytestmark = pytest.mark.integration


def accepted_ids(pipeline: Pipeline) -> Counter[str]:
    s = pipeline.settings
    return Counter(
        accepted_report_adapter.validate_json(r.value).report_id
        for r in read_topic(s.kafka.bootstrap_list, s.topics.accepted, idle_timeout_ms=2000)
    )


def findings(pipeline: Pipeline):
    s = pipeline.settings
    return [
        findings_event_adapter.validate_json(r.value)
        for r in read_topic(s.kafka.bootstrap_list, s.topics.findings, idle_timeout_ms=2000)
    ]


def dead_letters(pipeline: Pipeline):
    s = pipeline.settings
    return [
        dead_letter_adapter.validate_json(r.value)
        for r in read_topic(s.kafka.bootstrap_list, s.topics.dlq, idle_timeout_ms=2000)
    ]


def total(pipeline: Pipeline, topic: str) -> int:
    return sum(pipeline.end_offsets(topic).values())


def send_unkeyed(pipeline: Pipeline, reports: list[dict[str, object]]) -> None:
    """Publish as a careless app would: keyed by grid, or not keyed at all."""
    producer = KafkaProducer(bootstrap_servers=pipeline.settings.kafka.bootstrap_list, acks="all")
    for i, report in enumerate(reports):
        key = None if i % 2 else str(report["grid_id"]).encode()
        producer.send(pipeline.settings.topics.reports, key=key, value=json.dumps(report).encode())
    producer.flush()
    producer.close()


def test_valid_invalid_and_retried_reports(pipeline, start_worker):
    sample = make_sample(1000, 100, 50, seed=7)
    careless = make_sample(40, 0, 0, seed=8, prefix="careless").valid
    summary = publish_lines(pipeline.settings, sample.lines(random.Random(7)), progress=False)
    assert (summary.sent, summary.failed) == (1150, 0)
    send_unkeyed(pipeline, careless + careless[:10])  # 10 careless retries, differently keyed

    worker = start_worker()
    s = pipeline.settings
    wait_for(lambda: total(pipeline, s.topics.accepted) >= 1040, 180, worker._died)
    wait_for(lambda: total(pipeline, s.topics.dlq) >= 100, 60, worker._died)
    wait_for(pipeline.drained, 120, worker._died)

    ids = accepted_ids(pipeline)
    expected = {str(r["report_id"]) for r in sample.valid + careless}
    assert set(ids) == expected
    assert max(ids.values()) == 1, "a report was forwarded twice"

    letters = dead_letters(pipeline)
    expected_kinds = Counter(b.kind for b in sample.bad)
    kind_of_payload = {b.raw: b.kind for b in sample.bad}
    assert len(letters) == 100
    assert Counter(x.error_kind for x in letters) == expected_kinds
    assert all(kind_of_payload[x.original()] == x.error_kind for x in letters)
    assert len(expected_kinds) >= 12
    assert all(x.reason and x.source_topic == s.topics.reports for x in letters)
    assert worker.metric("grid_reports_duplicate_total") == 60
    assert worker.metric("grid_reports_rekeyed_total") == 50

    wait_for(lambda: total(pipeline, s.topics.findings) >= 1040, 120, worker._died)
    events = findings(pipeline)
    assert sorted(e.report_id for e in events) == sorted(expected)
    expected_codes = Counter(
        f.code for r in sample.valid + careless for f in classify_text(str(r["text"]))
    )
    assert Counter(f.code for e in events for f in e.findings) == expected_codes
    assert sum(expected_codes.values()) > 300, "the sample should carry many hazards"
    assert worker.metric_sum("grid_findings_total") == sum(expected_codes.values())


def test_sigkill_mid_stream_loses_nothing_and_forwards_nothing_twice(pipeline, start_worker):
    sample = make_sample(6_000, 0, 600, seed=11)
    publish_lines(pipeline.settings, sample.lines(random.Random(11)), progress=False)
    s = pipeline.settings

    first = start_worker()
    wait_for(lambda: total(pipeline, s.topics.accepted) >= 1_500, 90, first._died, 0.05)
    first.kill()
    assert total(pipeline, s.topics.accepted) < 6_000, "the worker finished before it was killed"

    second = start_worker(first.instance_id, first.port)  # the same member, restarted

    def where() -> str:
        return f"{pipeline.progress()}\n{second.log_tail()}"

    # Generous limits: they only bound a failure; a shared 2-core machine is slow at times.
    wait_for(lambda: total(pipeline, s.topics.accepted) >= 6_000, 300, second._died, describe=where)
    wait_for(pipeline.drained, 120, second._died, describe=where)
    # Retries that arrive after the restart are still recognised from the recovered table.
    publish_lines(
        pipeline.settings, (json.dumps(r).encode() for r in sample.valid[:500]), progress=False
    )
    wait_for(pipeline.drained, 120, second._died, describe=where)

    assert second.metric("grid_reports_reconciled_total") > 0, "nothing was read back"
    ids = accepted_ids(pipeline)
    assert len(ids) == 6_000
    duplicates = {rid: n for rid, n in ids.items() if n > 1}
    assert duplicates == {}, f"{len(duplicates)} reports forwarded twice after SIGKILL"
    # Triage after the restart: every accepted report gets exactly one findings event.
    triaged = 0.0

    def all_triaged() -> bool:
        nonlocal triaged
        triaged = total(pipeline, s.topics.findings)
        return triaged >= 6_000

    def triage_progress() -> str:
        accepted = s.topics.accepted
        return (
            f"findings {triaged:.0f} of 6000; triage committed {pipeline.committed(accepted)} "
            f"of {pipeline.end_offsets(accepted)}"
        )

    wait_for(all_triaged, 60, second._died, describe=triage_progress)
    events = Counter(e.report_id for e in findings(pipeline))
    missing = set(ids) - set(events)
    twice = {rid: n for rid, n in events.items() if n > 1}
    assert (len(missing), len(twice)) == (0, 0), (
        f"triage after SIGKILL: {len(missing)} reports without findings, "
        f"{len(twice)} with findings twice"
    )


def test_topics_are_created_with_explicit_partitions_and_listed(pipeline):
    expected = {name: 6 for _, name in pipeline.settings.topics}

    def listed() -> dict[str, int]:
        described = describe_topics(pipeline.settings)
        return {name: n for name, n in described.items() if name in expected}

    wait_for(lambda: listed() == expected, 30, describe=lambda: str(listed()))  # metadata settles


def test_a_seen_id_past_retention_is_deleted_in_the_changelog_too(pipeline, start_worker):
    """Retention on the real broker: the delete is a changelog tombstone a restart honours."""
    s = pipeline.settings
    pipeline.extra_env = {"GRID_RETENTION__SEEN_REPORTS_DAYS": str(3 / 86_400)}  # 3 seconds
    template = make_sample(1, 0, 0, seed=21).valid[0]
    first_id = "keep-0001"
    partition = partition_of(first_id.encode(), s.kafka.partitions)
    later = [
        rid
        for rid in (f"later-{i:04d}" for i in range(500))
        if partition_of(rid.encode(), s.kafka.partitions) == partition
    ]

    def publish(report_id: str) -> None:
        line = json.dumps(template | {"report_id": report_id}).encode()
        publish_lines(s, [line], progress=False)

    def last_changelog_value() -> bytes | None:
        changelog = f"{s.app_id}-intake-seen-reports-changelog"
        records = read_topic(s.kafka.bootstrap_list, changelog, idle_timeout_ms=1000)
        key = json.dumps(first_id).encode()
        return [r.value for r in records if r.key == key][-1]

    worker = start_worker()
    publish(first_id)
    publish(first_id)  # a retry within retention: recognised
    wait_for(lambda: worker.metric("grid_reports_duplicate_total") == 1, 60, worker._died)
    assert last_changelog_value() is not None
    time.sleep(4)  # past retention; the next messages of its partition delete it
    for report_id in later[:3]:
        publish(report_id)
    deleted = 'grid_retention_deleted_total{table="intake-seen-reports"}'
    wait_for(lambda: worker.metric(deleted) >= 1, 60, worker._died)
    wait_for(lambda: last_changelog_value() is None, 30, worker._died)  # a tombstone
    worker.stop()

    again = start_worker(worker.instance_id, worker.port)  # restores the table from its changelog
    publish(first_id)  # past retention: accepted again
    wait_for(lambda: accepted_ids(pipeline)[first_id] == 2, 60, again._died)
    assert all(n == 1 for rid, n in accepted_ids(pipeline).items() if rid != first_id)
