"""Topics hand the agents the broker's bytes unchanged: validation is the agents' own."""

from __future__ import annotations

import pytest
from faust.types import Message

from streams import topics
from streams.app import app
from streams.topics import RawSchema, reports_topic


def message(key: bytes | None, value: bytes | None) -> Message:
    return Message("grid.reports", 0, 7, 0.0, 0, [], key, value, None)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (b"rpt-1", b'{"report_id": "rpt-1"}'),
        (None, b"\xff\xfe not json, not utf-8"),  # what a decoder would have refused
        (b"rpt-1", None),  # a tombstone
        (b"", b""),
    ],
)
async def test_the_reports_topic_gives_the_message_bytes_as_they_came(key, value):
    schema = reports_topic.schema
    assert isinstance(schema, RawSchema)
    event = await schema.decode(app, message(key, value), propagate=True)
    assert event.key == key
    assert event.value == value


def test_every_topic_of_the_pipeline_is_raw():
    names = [name for name in topics.__all__ if name.endswith("_topic")]
    assert len(names) == 10  # noqa: PLR2004
    for name in names:
        assert isinstance(getattr(topics, name).schema, RawSchema), name
