import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from schemas import DISTRICTS, GridReportV1, IntakeSource, grid_report_adapter
from schemas.export import SCHEMA_DIR, rendered_schemas


def parse(report: dict[str, object]) -> GridReportV1:
    return grid_report_adapter.validate_json(json.dumps(report, ensure_ascii=False))


def test_valid_report_parses_with_its_offset(report_factory):
    report = parse(report_factory())
    assert report.district == "海曙区"
    assert report.reported_at.utcoffset() == timedelta(hours=8)


def test_optional_fields_may_be_absent(report_factory):
    report = parse(report_factory(place_type=None, lat=None, lon=None, contact_phone=None))
    assert report.lat is None and report.contact_phone is None


@pytest.mark.parametrize("district", DISTRICTS)
def test_every_ningbo_district_is_accepted(report_factory, district):
    assert parse(report_factory(district=district)).district == district


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("schema_version", 2),
        ("schema_version", "1"),
        ("schema_version", True),
        ("district", "杭州市"),
        ("channel", "sms"),
        ("reporter_role", "mayor"),
        ("place_type", "castle"),
        ("reported_at", "2025-11-03T21:14:05"),
        ("reported_at", 1762175645),
        ("reported_at", "2025-02-30T10:00:00+08:00"),
        ("text", ""),
        ("text", " \n "),
        ("text", "字" * 2001),
        ("report_id", "a" * 65),
        ("report_id", "id with space"),
        ("lat", 28.79),
        ("lon", 122.51),
        ("lat", "29.8"),
        ("grid_id", ""),
    ],
)
def test_contract_violations_are_refused(report_factory, field, value):
    with pytest.raises(ValidationError):
        parse(report_factory(**{field: value}))


def test_text_of_exactly_2000_characters_is_accepted(report_factory):
    assert len(parse(report_factory(text="字" * 2000)).text) == 2000


def test_unknown_fields_are_refused(report_factory):
    with pytest.raises(ValidationError, match="Extra inputs"):
        parse(report_factory(gridid="330203-GL-017"))


def test_lat_without_lon_is_refused(report_factory):
    with pytest.raises(ValidationError, match="together"):
        parse(report_factory(lon=None))


def test_dump_masks_contact_phone(report_factory):
    dumped = parse(report_factory()).model_dump_json()
    assert "13812345678" not in dumped
    assert "138****5678" in dumped


def test_accepted_masks_pii_in_text_and_notes_the_source(report_factory):
    text = "住户13912345678称身份证330203199001011234丢失，座机0574-87654321"
    report = parse(report_factory(text=text))
    source = IntakeSource(
        topic="grid.reports", partition=2, offset=41, received_at=report.reported_at
    )
    accepted = report.accepted(source).model_dump_json()
    for secret in ("13912345678", "330203199001011234", "87654321", "13812345678"):
        assert secret not in accepted
    assert '"offset":41' in accepted and "139****5678" in accepted


def test_checked_in_json_schemas_are_current():
    stale = [
        name
        for name, text in rendered_schemas().items()
        if not (SCHEMA_DIR / name).exists()
        or (SCHEMA_DIR / name).read_text(encoding="utf-8") != text
    ]
    assert stale == [], "run `make schemas` and commit schemas/json/"
