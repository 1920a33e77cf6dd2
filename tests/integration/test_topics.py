"""``create_topics`` against the real broker: retention configs are created and kept in line."""

from __future__ import annotations

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from streams.admin import changelog_topic, create_topics

from .conftest import Pipeline

pytestmark = pytest.mark.integration

DAY_MS = 86_400_000


def _retention(pipeline: Pipeline, topic: str) -> tuple[str, str]:
    admin = KafkaAdminClient(bootstrap_servers=pipeline.settings.kafka.bootstrap_list)
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, topic)
        configs = admin.describe_configs([resource], config_filter="all")["topic"][topic]
    finally:
        admin.close()
    return configs["cleanup.policy"]["value"], configs["retention.ms"]["value"]


def _set(pipeline: Pipeline, topic: str, configs: dict[str, str]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=pipeline.settings.kafka.bootstrap_list)
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs)])
    finally:
        admin.close()


def test_changelogs_of_kept_tables_delete_old_records_and_are_put_back_in_line(pipeline):
    settings = pipeline.settings  # the fixture ran create_topics once
    seen = changelog_topic(settings, "intake-seen-reports")
    delivered = changelog_topic(settings, "notifier-delivered")
    counters = changelog_topic(settings, "intake-counters")
    assert _retention(pipeline, seen) == ("compact,delete", str(8 * DAY_MS))
    assert _retention(pipeline, delivered) == ("compact,delete", str(30 * DAY_MS))
    assert _retention(pipeline, counters)[0] == "compact"

    # a deployment from before kept tables: its changelog compacted only
    _set(pipeline, seen, {"cleanup.policy": "compact"})
    assert _retention(pipeline, seen)[0] == "compact"
    result = create_topics(settings)
    assert result[seen] == "updated"
    assert {name for name, what in result.items() if what != "exists"} == {seen}
    assert _retention(pipeline, seen) == ("compact,delete", str(8 * DAY_MS))

    # a longer retention in the settings reaches the topic
    longer = settings.model_copy(
        update={"retention": settings.retention.model_copy(update={"seen_reports_days": 10.0})}
    )
    assert create_topics(longer)[seen] == "updated"
    assert _retention(pipeline, seen) == ("compact,delete", str(10 * DAY_MS))
    assert set(create_topics(longer).values()) == {"exists"}  # in line: nothing altered


def test_an_event_topics_retention_changed_by_an_operator_is_left_alone(pipeline):
    reports = pipeline.settings.topics.reports
    assert _retention(pipeline, reports) == ("delete", str(7 * DAY_MS))
    _set(pipeline, reports, {"retention.ms": str(3 * DAY_MS)})
    assert create_topics(pipeline.settings)[reports] == "exists"
    assert _retention(pipeline, reports) == ("delete", str(3 * DAY_MS))
