"""The single Faust app, built from ``Settings``; agents live in their concern's module."""

from __future__ import annotations

import logging

import faust
from faust import web
from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CollectorRegistry, generate_latest

from streams import faust_fixes
from streams.errors import ConfigError
from streams.metrics import GridMetrics
from streams.pii_vault import PiiVault
from streams.settings import Settings, faust_env_overrides

__all__ = ["app", "create_app", "metrics", "registry", "settings", "vault"]

faust_fixes.install()  # before the app exists: see streams/faust_fixes.py


def create_app(settings: Settings) -> faust.App:
    """A Faust app whose every setting comes from ``settings``, passed explicitly."""
    settings.worker_data_dir.mkdir(parents=True, exist_ok=True)  # Faust does not create parents
    return faust.App(
        settings.app_id,
        broker=settings.kafka.faust_broker_url,
        store=settings.store,
        datadir=str(settings.worker_data_dir),
        topic_partitions=settings.kafka.partitions,
        topic_replication_factor=settings.kafka.replication_factor,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        autodiscover=False,
        value_serializer="raw",
        key_serializer="raw",
        producer_acks=-1,
        # A few ms of linger lets a burst leave as one produce request per partition; without
        # it every send was a request of its own (a sixth of the worker's CPU in a profile).
        producer_linger=0.005,
        consumer_auto_offset_reset="earliest",
        broker_max_poll_records=500,
        # A SIGKILLed worker's partitions wait for its session to expire before moving on;
        # Faust's 60 s default would stall the group for a minute after every crash.
        broker_session_timeout=10.0,
        consumer_group_instance_id=settings.group_instance_id,
        broker_heartbeat_interval=3.0,
        stream_buffer_maxsize=4096,
        loghandlers=[],
    )


def check_environment() -> None:
    """Refuse to run while Faust's own variables would override our settings."""
    overrides = faust_env_overrides()
    if overrides:
        msg = f"unset {', '.join(overrides)}: Faust would let them override GRID_* settings"
        raise ConfigError(msg)


_EXPOSITION = "text/plain; version=0.0.4"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING}
_LEVELS |= {"error": logging.ERROR, "crit": logging.CRITICAL}

settings = Settings()
app = create_app(settings)
registry = CollectorRegistry()
metrics = GridMetrics.create(registry)
if settings.faust_sensors:
    setup_prometheus_sensors(app, registry=registry)
else:  # our metrics only, without a hook on every event

    @app.page("/metrics")
    async def _metrics(self: web.View, request: web.Request) -> web.Response:
        # aiohttp refuses a charset inside content_type; the exposition format is UTF-8 anyway
        return self.bytes(generate_latest(registry), content_type=_EXPOSITION)


_pii_key = settings.escalation.pii_key
vault = PiiVault(None if _pii_key is None else _pii_key.get_secret_value())


async def _undo_spinner_debug_level() -> None:
    """Put the root logger back to the configured level once the worker runs.

    Below info, Faust's terminal spinner sets the root logger to DEBUG so that it spins on
    every record; every debug call in Faust and aiokafka then builds a log record, which
    cost about a tenth of a worker's CPU in a profile.
    """
    logging.getLogger().setLevel(_LEVELS[settings.log_level])
    if vault.uses_dev_key or settings.escalation.uses_dev_token:
        logging.getLogger(__name__).warning(
            "using the public development PII key or API token: set GRID_ESCALATION__PII_KEY "
            "and GRID_ESCALATION__API_TOKEN before real reports arrive"
        )


app.task(_undo_spinner_debug_level)
