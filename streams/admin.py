"""Topic administration with kafka-python: the topics gridwatch owns, created explicitly.

Partition counts are explicit because they cannot shrink later and they bound how many
workers can share the load. Every topic here is an event log with time retention
(``cleanup.policy=delete``, explicit so a broker default cannot turn it into compaction);
replication factor and ``min.insync.replicas`` come from ``KafkaSettings``. The tables'
changelog topics are created here too, compacted (the latest value per key is the table;
those of tables whose entries are kept for a while also delete records past that while):
left to Faust, a first worker could start before its metadata listed them, read them as
having no partitions, and fail every table write for its whole life (seen in the fault
tests). docs/deployment.md explains the choices.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from streams.errors import ConfigError
from streams.settings import KafkaSettings, Settings

__all__ = [
    "TABLES",
    "TopicSpec",
    "changelog_topic",
    "create_topics",
    "retained_changelog_configs",
    "describe_topics",
    "topic_specs",
]

_DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name, partitions and the configs that matter for it."""

    name: str
    partitions: int
    retention_days: float  # a changelog's: 0 keeps every key's latest record for good
    why: str
    broker_time: bool = False
    compacted: bool = False  # a table's changelog: kept per key (and by time, with retention)

    def retention_configs(self) -> dict[str, str]:
        """``cleanup.policy`` and ``retention.ms``, which ``create_topics`` keeps in line."""
        if not self.compacted:
            return {"cleanup.policy": "delete", "retention.ms": _ms(self.retention_days)}
        if self.retention_days > 0:
            return retained_changelog_configs(self.retention_days)
        return {"cleanup.policy": "compact"}

    def new_topic(self, kafka: KafkaSettings) -> NewTopic:
        """The kafka-python request that creates it."""
        configs = self.retention_configs()
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
        TopicSpec(changelog_topic(settings, table), n, days, why, compacted=True)
        for table, why in TABLES.items()
        for days in [_kept_days(settings).get(table, 0.0)]
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


def _kept_days(settings: Settings) -> dict[str, float]:
    """The tables whose entries are needed only for a while: how long, in days."""
    kept = settings.retention
    return {
        "intake-seen-reports": kept.seen_reports_days,
        "notifier-delivered": kept.deliveries_days,
    }


def retained_changelog_configs(days: float) -> dict[str, str]:
    """A changelog that keeps each key's latest record, and none older than ``days``.

    A record is deleted (with its segment) only once it is that old, so a restore brings
    back every entry younger than ``days`` and none much older: the tables whose entries
    RocksDB deletes by age write no tombstones for the compaction to act on.
    """
    return {"cleanup.policy": "compact,delete", "retention.ms": _ms(days)}


def _ms(days: float) -> str:
    return str(math.ceil(days * _DAY_MS))


def changelog_topic(settings: Settings, table: str) -> str:
    """Faust's name for a table's changelog topic."""
    return f"{settings.app_id}-{table}-changelog"


def _admin(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(**settings.kafka.client_options(), client_id="gridwatch-admin")


def create_topics(settings: Settings, *, visible_within_s: float = 30.0) -> dict[str, str]:
    """Create every missing topic and wait until the cluster lists them all.

    Returns name → ``created``, ``exists`` or ``updated`` (an existing changelog whose
    ``cleanup.policy`` or ``retention.ms`` differed from what the settings ask, now set to
    it; an existing event topic is never altered). The wait matters: a worker started right
    after creation can subscribe before a new topic is in the cluster's metadata, and Faust
    then ignores that topic until its next rebalance (seen: an agent that got nothing).
    """
    admin = _admin(settings)
    result: dict[str, str] = {}
    try:
        existing = []
        for spec in topic_specs(settings):
            try:
                admin.create_topics([spec.new_topic(settings.kafka)])
                result[spec.name] = "created"
            except TopicAlreadyExistsError:
                result[spec.name] = "exists"
                if spec.compacted:  # event topics' retention is the operator's to change
                    existing.append(spec)
        for name in _align_retention(admin, existing):
            result[name] = "updated"
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


def _align_retention(admin: KafkaAdminClient, specs: list[TopicSpec]) -> list[str]:
    """Set the retention configs of existing changelogs that differ from their specs; names.

    A changelog's retention follows its table's (``GRID_RETENTION__*``), and deployments from
    before it had one are compacted only.

    Only what differs is altered (incrementally), so a run that changes nothing needs no
    right to alter configs.
    """
    if not specs:
        return []
    resources = [ConfigResource(ConfigResourceType.TOPIC, spec.name) for spec in specs]
    described = admin.describe_configs(resources, config_filter="all")["topic"]
    changes = []
    for spec in specs:
        now = {k: v["value"] for k, v in described.get(spec.name, {}).items()}
        wanted = spec.retention_configs()
        differ = {k: v for k, v in wanted.items() if now.get(k) != v}
        if differ:
            changes.append(ConfigResource(ConfigResourceType.TOPIC, spec.name, differ))
    if changes:
        answers = admin.alter_configs(changes, incremental=True).get("topic", {})
        failed = {name: why for name, why in answers.items() if why != "OK"}
        if failed:
            msg = f"could not set the retention of existing topics: {failed}"
            raise ConfigError(msg)
    return [change.name for change in changes]


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
