"""The peers' per-report work gives what gridwatch's intake and triage give, byte for byte."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from schemas import IntakeSource, accepted_report_adapter, findings_event_adapter
from streams.bench_peers.work import Accepted, Duplicate, Rejected, Tally, partition_of, process
from streams.intake import DeadLetter, Forward, route
from streams.intake import Duplicate as IntakeDuplicate
from streams.pii_vault import PiiVault
from streams.sample import make_sample
from streams.triage.agent import classify, findings_event

NOW = datetime(2025, 11, 3, 12, tzinfo=UTC)
TOPIC = "grid.reports"
VAULT = PiiVault(None)


def messages() -> Iterator[tuple[bytes, bytes | None]]:
    sample = make_sample(valid=40, invalid=18, retries=6, seed=11)
    for report in sample.valid + sample.retries:
        yield json.dumps(report, ensure_ascii=False).encode(), str(report["report_id"]).encode()
    for bad in sample.bad:
        yield bad.raw, None


def unsealed(raw: bytes) -> dict:
    """A record's JSON with the sealed PII opened (Fernet tokens differ on every seal)."""
    value = json.loads(raw)
    if value.get("sealed_pii"):
        value["sealed_pii"] = VAULT.open(value["sealed_pii"])
    return value


def gridwatch(raw: bytes, key: bytes | None, offset: int, seen: set[str]):
    """What intake, then triage after a round trip through the accepted topic, produce."""
    partition = partition_of(key, 6) if key else 0
    source = IntakeSource(topic=TOPIC, partition=partition, offset=offset, received_at=NOW)
    outcome = route(raw, key, source, seen=seen, partitions=6, rekeyed=False, vault=VAULT)
    if not isinstance(outcome, Forward):
        return outcome, None
    accepted = outcome.report.model_dump_json(exclude_none=True).encode()
    report = accepted_report_adapter.validate_json(accepted)
    findings = findings_event(report, classify(report), NOW).model_dump_json().encode()
    return outcome, (accepted, findings)


def test_every_message_has_the_outcome_and_bytes_gridwatch_gives():
    seen_ours: dict[str, bytes] = {}
    seen_theirs: set[str] = set()
    kinds = set()
    for offset, (raw, key) in enumerate(messages()):
        partition = partition_of(key, 6) if key else 0
        ours = process(raw, key, TOPIC, partition, offset, seen=seen_ours, vault=VAULT, now=NOW)
        theirs, outputs = gridwatch(raw, key, offset, seen_theirs)
        kinds.add(type(ours).__name__)
        match ours:
            case Accepted():
                assert isinstance(theirs, Forward)
                assert outputs is not None
                assert unsealed(ours.accepted.value) == unsealed(outputs[0])
                assert unsealed(ours.findings.value) == unsealed(outputs[1])
                assert ours.accepted.key == ours.findings.key == theirs.report.grid_id.encode()
                seen_ours[ours.report_id] = ours.seen.value
                seen_theirs.add(ours.report_id)
            case Duplicate():
                assert isinstance(theirs, IntakeDuplicate)
            case Rejected():
                assert isinstance(theirs, DeadLetter)
                assert json.loads(ours.letter.value) == json.loads(theirs.letter.model_dump_json())
    assert kinds == {"Accepted", "Duplicate", "Rejected"}


def test_accepted_counts_its_findings_by_district_code_and_severity(report_factory):
    raw = json.dumps(report_factory(text="楼道里有电瓶车在充电，飞线充电")).encode()
    outcome = process(raw, b"r-0001", TOPIC, 0, 1, seen={}, vault=VAULT, now=NOW)
    assert isinstance(outcome, Accepted)
    event = findings_event_adapter.validate_json(outcome.findings.value)
    assert event.findings
    assert outcome.counts == tuple(f"海曙区|{f.code}|{f.severity}" for f in event.findings)
    assert json.loads(outcome.seen.value) == [TOPIC, 0, 1]
    assert outcome.seen.key == b"r-0001"


def test_records_carry_the_read_back_headers(report_factory):
    raw = json.dumps(report_factory()).encode()
    outcome = process(raw, b"r-0001", TOPIC, 2, 9, seen={}, vault=VAULT, now=NOW)
    assert isinstance(outcome, Accepted)
    expected = [("gw-source", b"grid.reports:2:9"), ("gw-report-id", b"r-0001")]
    assert outcome.accepted.headers == outcome.findings.headers == expected


@pytest.mark.parametrize("key", [b"r-0001", b"bt-0000042", b"x"])
def test_partition_of_is_kafkas_default_partitioner(key):
    from aiokafka.partitioner import DefaultPartitioner

    partitions = list(range(6))
    assert partition_of(key, 6) == DefaultPartitioner()(key, partitions, partitions)


def test_tally_counts_outcomes_and_findings(report_factory):
    raw = json.dumps(report_factory(text="楼道里有电瓶车在充电")).encode()
    accepted = process(raw, b"r-0001", TOPIC, 0, 1, seen={}, vault=VAULT, now=NOW)
    tally = Tally()
    tally.add(accepted, 10.0)
    tally.add(Duplicate("r-0001"), 11.0)
    tally.add(process(b"nope", None, TOPIC, 0, 2, seen={}, vault=VAULT, now=NOW), 12.0)
    figures = tally.as_dict()
    assert figures["consumed"] == 3
    assert (figures["accepted"], figures["duplicates"], figures["rejected"]) == (1, 1, 1)
    assert (figures["first_at"], figures["last_at"]) == (10.0, 12.0)
    assert isinstance(accepted, Accepted)
    assert figures["findings"] == len(accepted.counts) > 0
