"""All configuration of gridwatch, from one pydantic-settings object.

Everything is read from ``GRID_``-prefixed environment variables (nested with ``__``, e.g.
``GRID_KAFKA__BOOTSTRAP_SERVERS``) and passed to Faust explicitly. Faust's own variables
(``BROKER_URL``, ``APP_VERSION``…) would silently override constructor arguments, so the
worker refuses to start while any of them is set.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "DEV_API_TOKEN",
    "FAUST_OVERRIDE_VARS",
    "EscalationSettings",
    "KafkaSettings",
    "Settings",
    "TopicNames",
    "WebhookTarget",
    "faust_env_overrides",
]

# Faust reads these itself and lets them win over what the code passes (faust/types/settings).
FAUST_OVERRIDE_VARS = (
    "BROKER_URL",
    "APP_VERSION",
    "STORE_URL",
    "CACHE_URL",
    "WEB_PORT",
    "WEB_HOST",
    "WEB_BIND",
    "APP_DATADIR",
    "APP_ID",
    "TOPIC_PARTITIONS",
    "TOPIC_REPLICATION_FACTOR",
    "PROCESSING_GUARANTEE",
)


def _default_data_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "gridwatch" / "worker"


class KafkaSettings(BaseModel):
    """Where the brokers are and how topics are laid out."""

    bootstrap_servers: str = "127.0.0.1:9092"
    partitions: int = Field(default=6, ge=1, le=1000)
    replication_factor: int = Field(default=1, ge=1, le=7)

    @property
    def faust_broker_url(self) -> str:
        """The same brokers in Faust's URL form (``kafka://host:port;host:port``)."""
        hosts = [h.strip() for h in self.bootstrap_servers.split(",") if h.strip()]
        return ";".join(f"kafka://{h}" for h in hosts)

    @property
    def bootstrap_list(self) -> list[str]:
        """The brokers as kafka-python wants them."""
        return [h.strip() for h in self.bootstrap_servers.split(",") if h.strip()]


class TopicNames(BaseModel):
    """Topic names; change them only together with every app that publishes."""

    reports: str = "grid.reports"
    rekey: str = "grid.reports.rekey"
    accepted: str = "grid.reports.accepted"
    dlq: str = "grid.reports.dlq"
    findings: str = "grid.findings"
    escalation_commands: str = "alerts.commands"
    escalations: str = "alerts.escalations"
    acks: str = "alerts.acks"
    indicators: str = "alerts.indicators"
    alerts_dlq: str = "alerts.dlq"

    @model_validator(mode="after")
    def _distinct(self) -> TopicNames:
        names = list(self.model_dump().values())
        if len(set(names)) != len(names):
            msg = f"topic names must be distinct, got {names}"
            raise ValueError(msg)
        return self


# Public: for demos and tests; the worker warns while it is in use.
DEV_API_TOKEN = "gridwatch-dev-token"  # noqa: S105


class WebhookTarget(BaseModel):
    """Where one responder's webhook is, and the key its deliveries are signed with."""

    url: str
    secret: SecretStr


class EscalationSettings(BaseModel):
    """Where the policy is, how responders are reached, and the keys that guard them."""

    # None: the policy shipped in streams/escalation/policy.yaml.
    policy_file: Path | None = None
    # Per-target webhooks; a target not listed here gets ``webhook_base_url`` + its name,
    # signed with ``webhook_secret`` (one receiver standing in for every target: demo, tests).
    webhooks: dict[str, WebhookTarget] = {}
    webhook_base_url: str | None = None
    webhook_secret: SecretStr = SecretStr("gridwatch-dev-webhook-secret")
    # Bearer token for POST /escalations/{id}/ack|resolve.
    api_token: SecretStr = SecretStr(DEV_API_TOKEN)
    # Fernet key sealing raw phone numbers for responders allowed to see them (police, bank),
    # and keying the digests of fraud indicators. None: the public development key.
    pii_key: SecretStr | None = None
    tick_interval_s: float = Field(default=1.0, gt=0, le=60)

    @property
    def uses_dev_token(self) -> bool:
        """True while the API token anyone can read in this repository is in use."""
        return self.api_token.get_secret_value() == DEV_API_TOKEN


class Settings(BaseSettings):
    """The worker's and the tools' settings."""

    model_config = SettingsConfigDict(env_prefix="GRID_", env_nested_delimiter="__", extra="forbid")

    app_id: str = "gridwatch"
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicNames = TopicNames()
    escalation: EscalationSettings = EscalationSettings()
    # Static group membership: a worker restarted with the same id (and web port) gets its
    # partitions back at once, without the two rebalances a crash otherwise costs. Default:
    # host name and web port, which is stable for a StatefulSet pod or a systemd unit.
    instance_id: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=6066, ge=1, le=65535)
    store: Literal["memory://", "rocksdb://"] = "memory://"
    data_dir: Path = Field(default_factory=_default_data_dir)
    log_level: Literal["debug", "info", "warn", "error", "crit"] = "info"
    # uvloop drained a backlog 1.15x faster than asyncio's loop (`gridwatch bench pipeline`).
    event_loop: Literal["aio", "uvloop"] = "uvloop"
    # Faust's own Prometheus sensors hook every event and send; off, the same drain was 1.23x
    # faster again. gridwatch's own metrics are served either way.
    faust_sensors: bool = False

    @property
    def group_instance_id(self) -> str:
        """This worker's static membership id."""
        return self.instance_id or f"{socket.gethostname()}-{self.web_port}"

    @property
    def worker_data_dir(self) -> Path:
        """One data dir per worker, so two workers on one machine never share table files."""
        return self.data_dir / f"{self.app_id}-{self.web_port}"


def faust_env_overrides(environ: dict[str, str] | None = None) -> list[str]:
    """Faust's own variables that are set, and would override our settings."""
    env = os.environ if environ is None else environ
    return [name for name in FAUST_OVERRIDE_VARS if name in env]
