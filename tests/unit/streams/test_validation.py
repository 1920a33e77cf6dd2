import base64
import json
from datetime import UTC, datetime

import pytest

from schemas import IntakeSource
from streams.errors import InvalidReport
from streams.sample import bad_payloads
from streams.validation import dead_letter_for, parse_report, report_id_of

SOURCE = IntakeSource(
    topic="grid.reports", partition=3, offset=99, received_at=datetime(2025, 11, 3, tzinfo=UTC)
)


def kind_of(raw: bytes) -> str:
    with pytest.raises(InvalidReport) as caught:
        parse_report(raw)
    return caught.value.kind


def test_valid_report_parses(report_factory):
    assert parse_report(json.dumps(report_factory()).encode()).report_id == "r-0001"


def test_every_bad_payload_gets_its_kind(report_factory):
    catalogue = bad_payloads(report_factory())
    assert len({p.kind for p in catalogue}) >= 12
    assert [(kind_of(p.raw), p.kind) for p in catalogue] == [(p.kind, p.kind) for p in catalogue]


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"", "not_json"),
        (b"\xef\xbb\xbf{}", "not_json"),
        (b"null", "not_object"),
        (b"42", "not_object"),
        (b'{"a": 1', "not_json"),
        (b"\xc3\x28", "not_utf8"),
        (b'{"x": ' * 300 + b"1" + b"}" * 300, "too_deep"),
        (b"{}", "missing_field"),
    ],
)
def test_edge_payloads(raw, kind):
    assert kind_of(raw) == kind


def test_nan_coordinates_are_out_of_range(report_factory):
    raw = json.dumps(report_factory(lat=float("nan"))).encode()  # json.dumps writes NaN
    assert b"NaN" in raw
    assert kind_of(raw) == "out_of_range"


def test_wrong_schema_version_wins_over_other_errors(report_factory):
    raw = json.dumps(report_factory(schema_version=2, district="x", text="")).encode()
    assert kind_of(raw) == "unknown_schema_version"


def test_reason_names_the_field_and_counts_the_rest(report_factory):
    raw = json.dumps(report_factory(lat=40.0, channel="fax")).encode()
    with pytest.raises(InvalidReport) as caught:
        parse_report(raw)
    assert caught.value.reason.startswith("$.")
    assert "(and 1 more)" in caught.value.reason
    assert {e.path for e in caught.value.errors} == {"$.lat", "$.channel"}


def test_reason_never_echoes_the_input(report_factory):
    raw = json.dumps(report_factory(contact_phone=13812345678)).encode()
    with pytest.raises(InvalidReport) as caught:
        parse_report(raw)
    assert "13812345678" not in caught.value.reason
    assert all("13812345678" not in e.message for e in caught.value.errors)


def test_dead_letter_keeps_the_original_bytes_and_source(report_factory):
    raw = json.dumps(report_factory(district="杭州市")).encode()
    with pytest.raises(InvalidReport) as caught:
        parse_report(raw)
    letter = dead_letter_for(caught.value, raw, b"r-0001", SOURCE, SOURCE.received_at)
    assert letter.original() == raw
    assert letter.error_kind == "unknown_value" and letter.report_id == "r-0001"
    assert (letter.source_partition, letter.source_offset) == (3, 99)
    assert base64.b64decode(letter.source_key_b64 or "") == b"r-0001"


def test_report_id_of_tolerates_anything():
    assert report_id_of(b'{"report_id": "abc"}') == "abc"
    assert report_id_of(b'{"report_id": 5}') is None
    assert report_id_of(b"[1]") is None
    assert report_id_of(b"\xff") is None
