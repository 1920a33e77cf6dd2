"""Topic administration with kafka-python: the topics gridwatch owns, created explicitly.

Partition counts are explicit because they cannot shrink later and they bound how many
workers can share the load. Every topic here is an event log with time retention
(``cleanup.policy=delete``, explicit so a broker default cannot turn it into compaction);
replication factor and ``min.insync.replicas`` come from ``KafkaSettings``. The tables'
changelog topics are created here too, compacted (the latest value per key is the table):
left to Faust, a first worker could start before its metadata listed them, read them as
having no partitions, and fail every table write for its whole life (seen in the fault
tests). docs/deployment.md explains the choices.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from streams.errors import ConfigError
from streams.settings import KafkaSettings, Settings

__all__ = [
    "TABLES",
    "TopicSpec",
    "changelog_topic",
    "create_topics",
    "describe_topics",
    "topic_specs",
]

_DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name, partitions and the configs that matter for it."""

    name: str
    partitions: int
    retention_days: int
    why: str
    broker_time: bool = False
    compacted: bool = False  # a table's changelog: kept per key, not by time

    def new_topic(self, kafka: KafkaSettings) -> NewTopic:
        """The kafka-python request that creates it."""
        if self.compacted:
            configs = {"cleanup.policy": "compact"}
        else:
            retention = str(self.retention_days * _DAY_MS)
            configs = {"cleanup.policy": "delete", "retention.ms": retention}
        if self.broker_time:  # intake's crash read-back compares broker timestamps
            configs["message.timestamp.type"] = "LogAppendTime"
        if kafka.replication_factor > 1:  # with acks=all: a write survives a broker's loss
            configs["min.insync.replicas"] = str(kafka.topic_min_insync_replicas)
        rf = kafka.replication_factor
        return NewTopic(self.name, self.partitions, rf, topic_configs=configs)


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """The topics of the pipeline, all with the same partition count (they are co-partitioned)."""
    t, n = settings.topics, settings.kafka.partitions
    return [
        TopicSpec(t.reports, n, 7, "raw reports from apps; holds unmasked personal data", True),
        TopicSpec(t.rekey, n, 1, "reports re-sent keyed by report_id (internal)", True),
        TopicSpec(t.accepted, n, 30, "validated reports, personal data masked", True),
        TopicSpec(t.dlq, n, 30, "dead letters: reason + original bytes (personal data)"),
        TopicSpec(t.findings, n, 30, "triage findings per report", True),
        # The escalator's time is the broker's: commands carry LogAppendTime.
        TopicSpec(t.escalation_commands, n, 7, "escalator input (internal)", True),
        TopicSpec(t.escalations, n, 90, "escalation timelines (masked; PII sealed)", True),
        TopicSpec(t.acks, n, 30, "responders' acks and resolves"),
        TopicSpec(t.indicators, n, 2, "fraud indicator sightings by digest (internal)"),
        TopicSpec(t.alerts_dlq, n, 30, "bad actions, undeliverable notifications"),
    ] + [
        TopicSpec(changelog_topic(settings, table), n, 0, why, compacted=True)
        for table, why in TABLES.items()
    ]


# The worker's Faust tables (a unit test checks this against the app's): their changelogs are
# co-partitioned with the topics above.
TABLES: dict[str, str] = {
    "intake-seen-reports": "report_id -> where it was accepted",
    "intake-counters": "intake outcomes, reports and findings by bucket",
    "cc-escalations": "open escalations for the board",
    "escalator": "escalation states, places, timers",
    "campaign-sightings": "fraud indicator sightings",
    "notifier-delivered": "deliveries made, for idempotence",
}


def changelog_topic(settings: Settings, table: str) -> str:
    """Faust's name for a table's changelog topic."""
    return f"{settings.app_id}-{table}-changelog"


def _admin(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(**settings.kafka.client_options(), client_id="gridwatch-admin")


def create_topics(settings: Settings, *, visible_within_s: float = 30.0) -> dict[str, str]:
    """Create every missing topic and wait until the cluster lists them all.

    Returns name → ``created`` or ``exists``. The wait matters: a worker started right
    after creation can subscribe before a new topic is in the cluster's metadata, and Faust
    then ignores that topic until its next rebalance (seen: an agent that got nothing).
    """
    admin = _admin(settings)
    result: dict[str, str] = {}
    try:
        for spec in topic_specs(settings):
            try:
                admin.create_topics([spec.new_topic(settings.kafka)])
                result[spec.name] = "created"
            except TopicAlreadyExistsError:
                result[spec.name] = "exists"
        deadline = time.monotonic() + visible_within_s
        while not set(result) <= set(admin.list_topics()):
            if time.monotonic() > deadline:
                missing = sorted(set(result) - set(admin.list_topics()))
                msg = f"topics not visible after {visible_within_s:g} s: {missing}"
                raise ConfigError(msg)
            time.sleep(0.2)
    finally:
        admin.close()
    return result


def describe_topics(settings: Settings) -> dict[str, int]:
    """Every topic on the cluster (internal ones aside) with its partition count."""
    admin = _admin(settings)
    try:
        described = admin.describe_topics()
    finally:
        admin.close()
    # kafka-python 3.0 names the field "name" (older releases: "topic")
    names = ((t.get("name") or t["topic"], t) for t in described)
    return {name: len(t["partitions"]) for name, t in names if not name.startswith("__")}
