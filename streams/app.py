"""The single Faust app, built from ``Settings``; agents live in their concern's module."""

from __future__ import annotations

import gc
import logging
import math
from collections.abc import Iterable
from typing import Any, NamedTuple

import faust
from faust import web
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TP, TableT
from mode import ServiceT
from prometheus_client import CollectorRegistry, generate_latest
from yarl import URL

from streams import consumer_tuning, faust_fixes, json_codec, lookahead, outbox
from streams.admin import retained_changelog_configs
from streams.errors import ConfigError
from streams.metrics import GridMetrics
from streams.pii_vault import PiiVault
from streams.retention import DAY_S, Expiry
from streams.rocksdb_budget import MemoryBudget
from streams.settings import Settings, faust_env_overrides

__all__ = [
    "app",
    "create_app",
    "metrics",
    "outputs",
    "owned_partitions",
    "registry",
    "retained",
    "retained_expiry",
    "revoked_of",
    "store_expires",
    "without_default_monitor",
    "rocksdb_memory",
    "settings",
    "vault",
]

if faust_fixes.install():  # before the app exists: see streams/faust_fixes.py
    lookahead.install()  # the fetcher's hook for work done ahead (streams/lookahead.py)
outbox.install()  # the producer's flush empties the outboxes first
json_codec.install()  # table keys and values in bytes of their own size


def memory_budget(settings: Settings) -> MemoryBudget | None:
    """The RocksDB memory budget every table partition of the process shares (rocksdb:// only)."""
    if settings.store != "rocksdb://":
        return None
    mib = 1024 * 1024
    return MemoryBudget(settings.rocksdb_memory_mb * mib, settings.rocksdb_memtable_mb * mib)


def create_app(settings: Settings, budget: MemoryBudget | None = None) -> faust.App:
    """A Faust app whose every setting comes from ``settings``, passed explicitly.

    ``budget``: the RocksDB memory its tables share; a new one by default.
    """
    settings.worker_data_dir.mkdir(parents=True, exist_ok=True)  # Faust does not create parents
    return faust.App(
        settings.app_id,
        broker=settings.kafka.faust_broker_url,
        broker_credentials=settings.kafka.faust_credentials(),
        store=settings.store,
        Table=_table_class(settings, budget or memory_budget(settings)),
        table_standby_replicas=settings.table_standby_replicas,
        datadir=str(settings.worker_data_dir),
        topic_partitions=settings.kafka.partitions,
        topic_replication_factor=settings.kafka.replication_factor,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        # Faust's own views have no authentication: /table reads any table key (escalations,
        # seen reports) and /router, /stats, /graph show the cluster. Ours check the token and
        # find owners through the assignor's metadata, not through /router.
        web_tables_enabled=False,
        web_router_enabled=False,
        web_stats_enabled=False,
        web_graph_enabled=False,
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


class _Appended(NamedTuple):
    """What Faust's table reads of a changelog send's result: ``.message.partition``."""

    partition: int

    @property
    def message(self) -> _Appended:
        return self


def _table_class(settings: Settings, budget: MemoryBudget | None) -> type[faust.Table[Any, Any]]:
    """Faust's table class, giving every table our store options and changelog configs.

    Faust has no app-wide setting for either: its RocksDB store reads the options of each
    table (unbounded defaults otherwise), and a changelog topic is created with each
    table's ``extra_topic_configs`` (else the broker's ``min.insync.replicas``).
    """
    options = settings.rocksdb_options if settings.store == "rocksdb://" else {}
    configs = {}
    if settings.kafka.replication_factor > 1:
        configs["min.insync.replicas"] = str(settings.kafka.topic_min_insync_replicas)

    class GridTable(faust.Table[Any, Any]):
        def __init__(self, app: faust.App, **kw: Any) -> None:
            kw["options"] = {**options, **(kw.get("options") or {})}
            kw["extra_topic_configs"] = {**configs, **(kw.get("extra_topic_configs") or {})}
            super().__init__(app, **kw)

        def _new_store_by_url(self, url: Any) -> Any:
            """Faust's store; a RocksDB one opens its databases on the shared budget.

            A TTL database (``retained``) keeps a write time beside every value, so it must
            never open a database written without one: it gets directories of its own.
            """
            if "ttl" in (self.options or {}) and URL(str(url)).scheme == "rocksdb":
                url = URL("rocksdb://") / f"{self.name}.ttl"  # relative: in the table dir
            store = super()._new_store_by_url(url)
            if budget is not None and isinstance(store, RocksDBStore):
                store.rocksdb_options = budget.options(**(store.options or {}), use_rocksdict=True)
            return store

        def send_changelog(
            self,
            partition: int | None,
            key: Any,
            value: Any,
            key_serializer: Any = None,
            value_serializer: Any = None,
        ) -> Any:
            """Faust's, through the outbox: one future per batch, not several per record."""
            if partition is None or outputs.producer() is None:  # not started: Faust's way
                return super().send_changelog(
                    partition, key, value, key_serializer, value_serializer
                )
            topic = self.changelog_topic
            key_bytes, _ = topic.prepare_key(key, key_serializer or self.key_serializer)
            value_bytes, _ = topic.prepare_value(value, value_serializer or self.value_serializer)
            outputs.append(
                topic.get_topic_name(),
                key_bytes,
                value_bytes,
                partition=partition,
                delivered=self.data.set_persisted_offset,  # what RocksDB has from its changelog
            )
            return _Appended(partition)

    return GridTable


def retained(settings: Settings, days: float) -> dict[str, Any]:
    """``app.Table`` arguments for a table whose entries are needed ``days`` after their write.

    Its changelog deletes records older than that (``retained_changelog_configs``). With
    ``rocksdb://`` its databases are RocksDB TTL ones: an entry stays at least ``days`` after
    it was written (or restored) and is dropped by a compaction after that, so the worker
    keeps no index of such entries in memory. With ``memory://`` the agent that wrote them
    deletes them (``streams/retention.py``): see ``retained_expiry``.
    """
    kwargs: dict[str, Any] = {"extra_topic_configs": retained_changelog_configs(days)}
    if store_expires(settings):
        kwargs["options"] = {"ttl": math.ceil(days * DAY_S)}
    return kwargs


def store_expires(settings: Settings) -> bool:
    """Whether tables made with ``retained`` lose their old entries by themselves."""
    return settings.store == "rocksdb://"


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
consumer_tuning.install(
    consumer_tuning.FetchBounds(
        settings.fetch_min_bytes, settings.fetch_max_wait_ms, settings.fetch_idle_wait_ms
    )
)
rocksdb_memory = memory_budget(settings)
app = create_app(settings, rocksdb_memory)


def owned_partitions(*topics: str) -> set[int]:
    """The partition numbers of ``topics`` this worker is assigned now."""
    return {tp.partition for tp in app.consumer.assignment() if tp.topic in topics}


def without_default_monitor(app: faust.App) -> None:
    """Take Faust's default ``Monitor`` off every event, table access, send and commit.

    Faust hooks it in when the app starts, whatever the sensor settings; it keeps rates and
    timings for Faust's ``/stats`` view, which is off here (``web_stats_enabled``), and
    nothing else reads them: 2-3% of the worker's main thread in a profile, for nothing.
    ``GRID_FAUST_SENSORS=true`` replaces it with Faust's Prometheus monitor and keeps it.
    """
    with_monitor = app.on_init_dependencies

    def on_init_dependencies() -> Iterable[ServiceT]:
        services = with_monitor()  # adds the monitor to ``app.sensors``, starts nothing yet
        app.sensors.remove(app.monitor)
        return services

    app.on_init_dependencies = on_init_dependencies  # type: ignore[method-assign]


def revoked_of(args: tuple[object, ...], kwargs: dict[str, object]) -> set[TP]:
    """The partitions an ``app.on_partitions_revoked`` signal names (positional or keyword)."""
    revoked = args[0] if args else kwargs.get("revoked", ())
    return set(revoked) if isinstance(revoked, (set, frozenset, list, tuple)) else set()


registry = CollectorRegistry()
metrics = GridMetrics.create(registry)
if rocksdb_memory is not None:
    rocksdb_memory.export(metrics.rocksdb_memory)
if settings.faust_sensors:
    setup_prometheus_sensors(app, registry=registry)
else:  # our metrics only, without a hook on every event
    without_default_monitor(app)

    @app.page("/metrics")
    async def _metrics(self: web.View, request: web.Request) -> web.Response:
        # aiohttp refuses a charset inside content_type; the exposition format is UTF-8 anyway
        return self.bytes(generate_latest(registry), content_type=_EXPOSITION)


# The hot path's outputs (accepted, findings, escalation candidates) and table changelogs.
outputs = outbox.Outbox(
    lambda: app.producer._producer,  # type: ignore[attr-defined]
    linger=settings.outbox_linger_ms / 1000,
)

_pii_key = settings.escalation.pii_key


def retained_expiry(table: TableT[Any, Any], days: float) -> Expiry | None:
    """Who deletes the old entries of a ``retained`` table: nobody here when RocksDB does.

    Otherwise an ``Expiry`` for the agent that writes the table to drive, its deletes
    counted in ``grid_retention_deleted_total``.
    """
    if store_expires(settings):
        return None
    deleted = metrics.labelled(metrics.retention_deleted, table.name).inc
    return Expiry(days * DAY_S, name=table.name, deleted=deleted)


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


async def freeze_startup_objects(sender: object, /, *args: object, **kwargs: object) -> None:
    """Once the first assignment is done, keep what startup made out of later full collections.

    Modules, the compiled rules and the recovered tables live as long as the process, yet
    each full (generation 2) collection walked them all: pauses of 100-160 ms in the
    escalation bench, against 8 ms once they were frozen (measured with ``gc.callbacks``).
    """
    if gc.get_freeze_count() == 0:
        gc.collect()  # what startup left as garbage must not be frozen with the rest
        gc.freeze()
        gc.callbacks.append(freeze_survivors)
        gc.set_threshold(*GC_THRESHOLDS)


# Every report allocates a few thousand objects, nearly all freed with it: at Python's
# default (700 allocations) the youngest generation was collected several times a report.
# 20,000 cut the worker's CPU per report by ~5% (bench throughput, core-x1, in turns).
GC_THRESHOLDS = (20_000, 20, 20)


def freeze_survivors(phase: str, info: dict[str, int]) -> None:
    """After each full collection, keep what survived it out of the next ones (``gc.freeze``).

    With ``memory://`` the tables' entries are objects that the collector walked in every full
    collection: at 1,000 reports/s one came every ~4 s and its pause grew with the tables,
    7 ms to 177 ms over 80 s (the escalation bench, ``gc.callbacks``). Frozen objects are
    still freed when their last reference goes; only a reference cycle among objects that had
    survived a full collection would now never be collected. Workers unfrozen and collected
    mid-bench held none (0 unreachable among 319,000 and 474,000 frozen objects).
    """
    if phase == "stop" and info["generation"] == 2:  # noqa: PLR2004 - the oldest generation
        gc.freeze()


app.on_rebalance_complete.connect(freeze_startup_objects)
