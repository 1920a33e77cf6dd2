"""All configuration of gridwatch, from one pydantic-settings object.

Everything is read from ``GRID_``-prefixed environment variables (nested with ``__``, e.g.
``GRID_KAFKA__BOOTSTRAP_SERVERS``) and passed to Faust explicitly. Faust's own variables
(``BROKER_URL``, ``APP_VERSION``…) would silently override constructor arguments, so the
worker refuses to start while any of them is set.
"""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.errors import ConfigError

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT

__all__ = [
    "DEV_API_TOKEN",
    "FAUST_OVERRIDE_VARS",
    "EscalationSettings",
    "KafkaSettings",
    "STORES",
    "RetentionSettings",
    "Settings",
    "Store",
    "TopicNames",
    "WebhookTarget",
    "faust_env_overrides",
    "kafka_client_options",
]

Store = Literal["memory://", "rocksdb://"]
STORES: tuple[str, ...] = get_args(Store)  # for command-line choices

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
    "TABLE_STANDBY_REPLICAS",
)


def _default_data_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "gridwatch" / "worker"


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]


class KafkaSettings(BaseModel):
    """Where the brokers are, how topics are laid out, and how clients authenticate.

    ``security_protocol`` is PLAINTEXT for the local broker only; production is SASL_SSL
    (SCRAM over TLS, ``ssl_cafile`` naming the CA when it is not in the system's trust
    store). Every Kafka client gridwatch makes takes its connection settings from here:
    Faust through ``faust_credentials()``, kafka-python and aiokafka through
    ``client_options()``.
    """

    bootstrap_servers: str = "127.0.0.1:9092"
    partitions: int = Field(default=6, ge=1, le=1000)
    replication_factor: int = Field(default=1, ge=1, le=7)
    # Writes with acks=all need this many replicas in sync (capped at the replication factor).
    min_insync_replicas: int = Field(default=2, ge=1, le=7)
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    # None: the system's trust store (a CA-signed broker certificate).
    ssl_cafile: Path | None = None
    ssl_check_hostname: bool = True

    @model_validator(mode="after")
    def _security_consistent(self) -> KafkaSettings:
        _check_security(self)
        return self

    @property
    def faust_broker_url(self) -> str:
        """The same brokers in Faust's URL form (``kafka://host:port;host:port``)."""
        hosts = [h.strip() for h in self.bootstrap_servers.split(",") if h.strip()]
        return ";".join(f"kafka://{h}" for h in hosts)

    @property
    def bootstrap_list(self) -> list[str]:
        """The brokers as kafka-python wants them."""
        return [h.strip() for h in self.bootstrap_servers.split(",") if h.strip()]

    @property
    def topic_min_insync_replicas(self) -> int:
        """min.insync.replicas for our topics: never more than there are replicas."""
        return min(self.min_insync_replicas, self.replication_factor)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for SSL and SASL_SSL (verifying the broker), None for PLAINTEXT.

        The CA file is read here, when a client is made, not when settings are loaded: it is
        often mounted from a secret that only the running worker sees.
        """
        if self.security_protocol == "PLAINTEXT":
            return None
        if self.ssl_cafile is not None and not self.ssl_cafile.is_file():
            msg = f"GRID_KAFKA__SSL_CAFILE={self.ssl_cafile}: no such file"
            raise ConfigError(msg)
        cafile = None if self.ssl_cafile is None else str(self.ssl_cafile)
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
        context.check_hostname = self.ssl_check_hostname
        return context

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for every kafka-python or aiokafka client: brokers, TLS, SASL.

        Both libraries take the same names, and both use ``ssl_context`` as it is, so every
        client verifies the brokers alike. Contains the password in clear: pass it to a
        client, never log it.
        """
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_list,
            "security_protocol": self.security_protocol,
            "ssl_context": self.ssl_context(),
        }
        if self.security_protocol == "SASL_SSL":
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = _reveal(self.sasl_password)
        return options

    def faust_credentials(self) -> CredentialsT | None:
        """Faust's ``broker_credentials`` for the same connection (None for PLAINTEXT)."""
        from faust.auth import SASLCredentials, SSLCredentials  # Faust only where it runs

        context = self.ssl_context()
        if context is None:
            return None
        if self.security_protocol == "SSL":
            return SSLCredentials(context)
        return SASLCredentials(
            username=self.sasl_username,
            password=_reveal(self.sasl_password),
            ssl_context=context,
            mechanism=self.sasl_mechanism,
        )

    def env(self) -> dict[str, str]:
        """These settings as ``GRID_KAFKA__*`` variables, for a child process (a worker).

        Holds the password in clear, like the parent's own environment did.
        """
        values = self.model_dump(exclude_none=True)
        values["sasl_password"] = _reveal(self.sasl_password)
        return {
            f"GRID_KAFKA__{name.upper()}": str(value)
            for name, value in values.items()
            if value is not None
        }


def kafka_client_options(kafka: KafkaSettings | list[str]) -> dict[str, Any]:
    """Client keyword arguments for ``kafka``: its ``client_options()``.

    A bare list of brokers is taken as PLAINTEXT, for tests and tools on the local broker;
    code that has settings passes them, so that TLS and SASL are never lost on the way.
    """
    if isinstance(kafka, KafkaSettings):
        return kafka.client_options()
    return {"bootstrap_servers": kafka}


def _reveal(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()


def _check_security(kafka: KafkaSettings) -> None:
    """Refuse settings that would connect less securely than they look."""
    protocol = kafka.security_protocol
    if protocol == "SASL_SSL" and (not kafka.sasl_username or not _reveal(kafka.sasl_password)):
        msg = (
            "GRID_KAFKA__SECURITY_PROTOCOL=SASL_SSL needs GRID_KAFKA__SASL_USERNAME and "
            "GRID_KAFKA__SASL_PASSWORD (the SCRAM user the brokers know)"
        )
        raise ValueError(msg)
    if protocol != "SASL_SSL" and (kafka.sasl_username or kafka.sasl_password):
        msg = (
            f"GRID_KAFKA__SASL_USERNAME/GRID_KAFKA__SASL_PASSWORD are set but "
            f"GRID_KAFKA__SECURITY_PROTOCOL is {protocol}, which sends no credentials: "
            "set it to SASL_SSL"
        )
        raise ValueError(msg)
    if kafka.ssl_cafile is not None and protocol == "PLAINTEXT":
        msg = "GRID_KAFKA__SSL_CAFILE is set but GRID_KAFKA__SECURITY_PROTOCOL is PLAINTEXT"
        raise ValueError(msg)


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


class RetentionSettings(BaseModel):
    """How long tables keep what is needed only for a while (``streams/retention.py``), in days."""

    # A retry is recognised while its report id is kept: longer than grid.reports' 7 days,
    # so a replay of the whole topic (a consumer group reset) still finds every duplicate.
    seen_reports_days: float = Field(default=8.0, gt=0)
    # An escalation resolved longer ago is forgotten: its page, its acks (then 404) and its
    # report markers. Open, acknowledged and expired ones are never deleted.
    closed_escalations_days: float = Field(default=30.0, gt=0)
    # Deliveries made: a replayed notification older than this would be POSTed again.
    deliveries_days: float = Field(default=30.0, gt=0)


class Settings(BaseSettings):
    """The worker's and the tools' settings."""

    model_config = SettingsConfigDict(env_prefix="GRID_", env_nested_delimiter="__", extra="forbid")

    app_id: str = "gridwatch"
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicNames = TopicNames()
    escalation: EscalationSettings = EscalationSettings()
    retention: RetentionSettings = RetentionSettings()
    # Static group membership: a worker restarted with the same id (and web port) gets its
    # partitions back at once, without the two rebalances a crash otherwise costs. Default:
    # host name and web port, which is stable for a StatefulSet pod or a systemd unit.
    instance_id: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=6066, ge=1, le=65535)
    store: Store = "memory://"
    # Production: rocksdb:// with standby replicas, so a moved table partition is already
    # (nearly) restored on the worker it moves to. RocksDB opens one database per table
    # partition a worker holds, active or standby; they all share one memory budget
    # (streams/rocksdb_budget.py): a block cache with the memtables charged to it. Faust's
    # defaults (2 GiB cache, 3 x 64 MiB memtables, 90 % of the file limit) are per database.
    table_standby_replicas: int = Field(default=1, ge=0, le=3)
    rocksdb_memory_mb: int = Field(default=64, ge=16, le=65536)  # the worker's budget
    rocksdb_write_buffer_mb: int = Field(default=4, ge=1, le=512)
    rocksdb_max_write_buffers: int = Field(default=2, ge=2, le=8)
    rocksdb_max_open_files: int = Field(default=64, ge=16, le=65536)
    data_dir: Path = Field(default_factory=_default_data_dir)
    log_level: Literal["debug", "info", "warn", "error", "crit"] = "info"
    # uvloop drained a backlog 1.15x faster than asyncio's loop (`gridwatch bench pipeline`).
    event_loop: Literal["aio", "uvloop"] = "uvloop"
    # Faust's own Prometheus sensors hook every event and send; off, the same drain was 1.23x
    # faster again. gridwatch's own metrics are served either way.
    faust_sensors: bool = False
    # Intake's pure work done a fetch at a time (streams/lookahead.py): 20-39% less CPU per
    # report in a drain. On by default since 30 of 30 counters-test runs and the fault tests
    # passed with it; the one miscount seen with it on is unexplained
    # (docs/performance-history.md, "Work ahead").
    work_ahead: bool = True
    # How long the broker may hold a fetch to fill it (streams/consumer_tuning.py), and how
    # long outputs wait for company (streams/outbox.py); each hop pays both, a few ms. Faust's
    # own fetch (answer at the first byte, else after 1.5 s) made hundreds of tiny fetches a
    # second at a steady rate: at 300 reports/s the worker's CPU per report was 1.9 ms with
    # it, 1.4 ms with 64 KiB / 10 ms, and the fraud p99 fell from ~200 to ~105 ms
    # (`gridwatch bench escalation`). 30 ms instead of 10: 1.54-1.60 against 2.49-2.76 ms a
    # report at 200/s for a p99 of 118-196 against 91-114 ms; at 1,000/s 0.74-0.79 against
    # 0.85-0.89 ms and a p99 of 248-744 against 826-1,198 ms
    # (docs/performance-history.md, "Escalation latency").
    # After a fetch that brought nothing, the next asks for any byte and waits up to
    # ``fetch_idle_wait_ms``: with 10 ms throughout, an idle worker fetched 100 times a second
    # (~12 % of a core). The idle wait also bounds how long a partition resumed meanwhile
    # waits for the fetch in flight to come back.
    fetch_min_bytes: int = Field(default=64 * 1024, ge=1, le=16 * 1024 * 1024)
    fetch_max_wait_ms: int = Field(default=30, ge=1, le=30_000)
    fetch_idle_wait_ms: int = Field(default=100, ge=1, le=30_000)
    outbox_linger_ms: float = Field(default=10.0, ge=0, le=1000)

    @property
    def group_instance_id(self) -> str:
        """This worker's static membership id."""
        return self.instance_id or f"{socket.gethostname()}-{self.web_port}"

    @property
    def rocksdb_options(self) -> dict[str, int]:
        """Faust's RocksDB options for every table partition (faust.stores.rocksdb)."""
        mib = 1024 * 1024
        return {
            "write_buffer_size": self.rocksdb_write_buffer_mb * mib,
            "max_write_buffer_number": self.rocksdb_max_write_buffers,
            "max_open_files": self.rocksdb_max_open_files,
        }

    @property
    def rocksdb_memtable_mb(self) -> int:
        """The budget's share for memtables (half): past it, a write flushes its memtable."""
        return self.rocksdb_memory_mb // 2

    @property
    def worker_data_dir(self) -> Path:
        """One data dir per worker, so two workers on one machine never share table files."""
        return self.data_dir / f"{self.app_id}-{self.web_port}"


def faust_env_overrides(environ: dict[str, str] | None = None) -> list[str]:
    """Faust's own variables that are set, and would override our settings."""
    env = os.environ if environ is None else environ
    return [name for name in FAUST_OVERRIDE_VARS if name in env]
