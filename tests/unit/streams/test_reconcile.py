from types import SimpleNamespace

from streams.reconcile import (
    REPORT_ID_HEADER,
    SOURCE_HEADER,
    _forwarded,
    parse_source,
    source_header,
)


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
