"""Work ahead: done once per record of a fetch, for our topics' handed-on partitions only."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from faust.types import TP

from streams import lookahead
from streams.lookahead import Ahead


@dataclass
class Record:
    offset: int
    value: bytes


def fetch(*parts: tuple[str, int, list[int]]) -> dict[TP, list[Record]]:
    return {
        TP(topic, partition): [Record(o, f"{topic}:{o}".encode()) for o in offsets]
        for topic, partition, offsets in parts
    }


def upper(record: Record, tp: TP) -> bytes:
    return record.value.upper()


def take(ahead: Ahead[bytes], records: dict[TP, list[Record]], where: tuple[str, int, int]):
    """What the message at ``where`` takes: Faust hands on the fetched value object itself."""
    topic, partition, offset = where
    value = next(
        (r.value for r in records.get(TP(topic, partition), []) if r.offset == offset), b""
    )
    return ahead.take(where, value)


def test_the_work_is_done_for_our_topics_and_handed_on_partitions_only():
    ahead = Ahead(["reports"], upper, limit=100)
    records = fetch(("reports", 0, [5, 6]), ("reports", 1, [9]), ("other", 0, [5]))
    ahead.prepare(records, active={TP("reports", 0), TP("other", 0)})
    assert len(ahead) == 2  # noqa: PLR2004
    assert take(ahead, records, ("reports", 0, 5)) == b"REPORTS:5"
    assert take(ahead, records, ("reports", 0, 5)) is None  # once
    assert take(ahead, records, ("reports", 1, 9)) is None  # partition not handed on
    assert take(ahead, records, ("other", 0, 5)) is None  # not our topic
    assert take(ahead, records, ("reports", 0, 6)) == b"REPORTS:6"


def test_a_record_fetched_again_is_not_the_one_prepared():
    ahead = Ahead(["reports"], upper, limit=100)
    first = fetch(("reports", 0, [5]))
    ahead.prepare(first, active=None)
    again = fetch(("reports", 0, [5]))  # equal bytes, another fetch (moved away and back)
    assert take(ahead, again, ("reports", 0, 5)) is None
    assert take(ahead, first, ("reports", 0, 5)) is None  # and the stale result is gone


def test_past_the_limit_older_results_are_dropped_not_kept():
    ahead = Ahead(["reports"], upper, limit=3)
    older, newer = fetch(("reports", 0, [1, 2])), fetch(("reports", 0, [3, 4]))
    ahead.prepare(older, active=None)
    ahead.prepare(newer, active=None)
    assert len(ahead) == 2  # noqa: PLR2004
    assert take(ahead, older, ("reports", 0, 1)) is None  # the message computes it itself
    assert take(ahead, newer, ("reports", 0, 4)) == b"REPORTS:4"


def test_a_record_whose_work_fails_is_left_to_its_message():
    def picky(record: Record, tp: TP) -> bytes:
        if record.offset == 2:  # noqa: PLR2004
            raise ValueError("bad record")
        return record.value

    ahead = Ahead(["reports"], picky, limit=10)
    records = fetch(("reports", 0, [1, 2, 3]))
    ahead.prepare(records, active=None)
    assert take(ahead, records, ("reports", 0, 2)) is None
    assert take(ahead, records, ("reports", 0, 3)) == b"reports:3"


async def test_each_fetch_is_prepared_while_attached(monkeypatch: pytest.MonkeyPatch):
    records = fetch(("reports", 0, [7]))
    active = {TP("reports", 0)}

    async def faust_wait_next_records(consumer: object, timeout: float) -> tuple[object, object]:
        return records, active

    monkeypatch.setattr(lookahead, "_wait_next_records", faust_wait_next_records)
    monkeypatch.setattr(lookahead, "_on_fetch", [])
    ahead = Ahead(["reports"], upper, limit=10)
    ahead.attach()
    got = await lookahead.wait_next_records(object(), 1.0)  # type: ignore[arg-type]
    assert got == (records, active)  # Faust's fetcher gets what it asked for
    assert take(ahead, records, ("reports", 0, 7)) == b"REPORTS:7"
    ahead.detach()
    await lookahead.wait_next_records(object(), 1.0)  # type: ignore[arg-type]
    assert take(ahead, records, ("reports", 0, 7)) is None


def test_the_hook_is_installed_in_fausts_consumer():
    from faust.transport.consumer import Consumer

    import streams.app  # noqa: F401 - installs it

    assert Consumer._wait_next_records is lookahead.wait_next_records


def test_intake_works_ahead_only_when_the_setting_says_so():
    from streams import intake
    from streams.app import settings

    assert settings.work_ahead is True  # on by default (see streams/settings.py)
    assert (intake.ahead.prepare in lookahead._on_fetch) is settings.work_ahead
