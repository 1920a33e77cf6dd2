import asyncio
import threading
from types import SimpleNamespace
from typing import cast
from unittest import mock

import faust
import pytest
from faust.tables.recovery import Recovery
from faust.types import TP
from kafka import TopicPartition
from mode import Signal

from streams import faust_fixes, reconcile
from streams.reconcile import (
    REPORT_ID_HEADER,
    SOURCE_HEADER,
    ReadBack,
    _forwarded,
    _scan,
    parse_source,
    source_header,
)
from streams.settings import KafkaSettings


def record(source: bytes | None, report_id: bytes | None = b"r-1"):
    headers = []
    if source is not None:
        headers.append((SOURCE_HEADER, source))
    if report_id is not None:
        headers.append((REPORT_ID_HEADER, report_id))
    return SimpleNamespace(headers=headers)


def test_source_header_round_trips_topic_names_with_colons():
    assert parse_source(source_header("ns:grid.reports", 3, 1200)) == ("ns:grid.reports", 3, 1200)


def test_only_forwards_at_or_after_the_committed_offset_of_their_partition_count():
    firsts = {("grid.reports", 0): (100, 0.0), ("grid.reports", 1): (50, 0.0)}
    records = [
        record(source_header("grid.reports", 0, 99), b"before-commit"),
        record(source_header("grid.reports", 0, 100), b"at-commit"),
        record(source_header("grid.reports", 1, 70), b"other-partition-after"),
        record(source_header("grid.reports", 2, 500), b"partition-not-read-back"),
        record(source_header("grid.reports.rekey", 0, 500), b"other-topic"),
        record(None, b"no-source-header"),
        record(source_header("grid.reports", 0, 101), None),
    ]
    assert _forwarded(records, firsts) == {"at-commit", "other-partition-after"}


def test_one_scan_tells_apart_the_outputs_it_reads():
    accepted, findings = TopicPartition("accepted", 0), TopicPartition("findings", 2)
    batches = {
        accepted: [record(source_header("grid.reports", 0, 100), b"both")],
        findings: [
            record(source_header("grid.reports", 0, 101), b"both"),
            record(source_header("grid.reports", 0, 102), b"findings-only"),
        ],
    }
    consumer = mock.Mock()
    consumer.poll.return_value = batches
    consumer.position.side_effect = lambda tp: 10
    ranges = {accepted: (0, 10), findings: (5, 10)}
    found = _scan(consumer, ranges, {("grid.reports", 0): (100, 0.0)})
    assert found == {accepted: {"both"}, findings: {"both", "findings-only"}}
    consumer.seek.assert_has_calls([mock.call(accepted, 0), mock.call(findings, 5)])


# -- when the read-back runs: after the assignment, before the streams resume


def fake_app() -> mock.Mock:
    """A Faust app whose two signals ``ReadBack.attach`` uses are real."""
    app = mock.Mock()
    app.on_partitions_revoked = Signal().with_default_sender(app)
    app.on_rebalance_complete = Signal().with_default_sender(app)
    app._fetcher.maybe_start = mock.AsyncMock()
    return app


def reading_back(monkeypatch, results: list[dict[str, set[str]]], gate=None):
    """Make each read-back return the next of ``results`` (after ``gate``, when given)."""
    calls: list[object] = []

    def forwarded_since_commit(kafka, group, outputs, sources):
        calls.append(outputs)
        if gate is not None:
            assert gate.wait(5)
        return results.pop(0), {("grid.reports", 0): (100, 150)}

    monkeypatch.setattr(reconcile, "forwarded_since_commit", forwarded_since_commit)
    return calls


def attached(*outputs: str) -> tuple[list[ReadBack], mock.Mock]:
    app = fake_app()
    stages = [ReadBack(("grid.reports",), output, 1) for output in outputs]
    for stage in stages:
        stage.attach(cast(faust.App, app), KafkaSettings(), "gridwatch")
    return stages, app


async def test_agents_wait_from_the_revoke_until_the_read_back_after_the_assignment(monkeypatch):
    calls = reading_back(monkeypatch, [{"accepted": {"r-1"}}])
    [stage], app = attached("accepted")
    stage.done.set()  # the read-back of the previous rebalance
    await app.on_partitions_revoked.send({TP("grid.reports", 0)})
    assert not stage.done.is_set()
    assert calls == []  # a joining worker's revoke comes before the others stop forwarding
    await app.on_rebalance_complete.send()
    assert calls == [["accepted"]]
    assert stage.done.is_set()
    assert stage.forwarded == {"r-1"}
    assert stage.in_window("grid.reports", 0, 149) and not stage.in_window("grid.reports", 0, 150)


async def test_the_stages_of_one_app_read_back_together_with_one_window(monkeypatch):
    calls = reading_back(monkeypatch, [{"accepted": {"r-1", "r-2"}, "findings": {"r-1"}}])
    (accepted, findings), app = attached("accepted", "findings")
    await app.on_partitions_revoked.send(set())
    assert not accepted.done.is_set() and not findings.done.is_set()
    await app.on_rebalance_complete.send()
    assert calls == [["accepted", "findings"]]  # one read-back, one window
    assert (accepted.forwarded, findings.forwarded) == ({"r-1", "r-2"}, {"r-1"})
    assert accepted.window == findings.window
    assert accepted.done.is_set() and findings.done.is_set()


def test_the_stages_of_one_app_read_back_the_same_sources():
    app = cast(faust.App, fake_app())
    ReadBack(("grid.reports",), "accepted", 1).attach(app, KafkaSettings(), "gridwatch")
    with pytest.raises(ValueError, match="same sources"):
        ReadBack(("other",), "findings", 1).attach(app, KafkaSettings(), "gridwatch")


async def test_a_read_back_outlived_by_a_rebalance_is_discarded(monkeypatch):
    gate = threading.Event()
    reading_back(monkeypatch, [{"accepted": {"stale"}}, {"accepted": {"fresh"}}], gate)
    [stage], app = attached("accepted")
    first = asyncio.create_task(app.on_rebalance_complete.send())
    await asyncio.sleep(0.05)  # the first read-back is reading
    await app.on_partitions_revoked.send(set())
    gate.set()
    await first
    assert not stage.done.is_set()
    assert stage.forwarded == set()
    await app.on_rebalance_complete.send()  # the next assignment's read-back
    assert stage.done.is_set()
    assert stage.forwarded == {"fresh"}


async def test_the_streams_resume_only_after_the_read_back(monkeypatch):
    calls = reading_back(monkeypatch, [{"accepted": {"r-1"}}])
    [stage], app = attached("accepted")
    stream = TP("grid.reports", 0)

    async def perform_seek() -> None:
        calls.append(f"seek, read back: {stage.done.is_set()}")

    app.consumer = mock.Mock(perform_seek=perform_seek, assignment=lambda: {stream})
    app.consumer.resume_partitions.side_effect = lambda tps: calls.append("resume")
    app.consumer_generation_id = 3
    recovery = SimpleNamespace(
        app=app,
        log=mock.Mock(),
        tables=mock.Mock(values=list),
        completed=mock.Mock(),
        _set_recovery_ended=mock.Mock(),
        _is_changelog_tp=lambda tp: False,
        _wait=lambda coro, timeout=None: coro,
    )
    await faust_fixes.on_recovery_completed(cast(Recovery, recovery), 3)
    assert calls == [["accepted"], "seek, read back: True", "resume"]
