"""Production settings reach Faust: RocksDB memory bounds, standby replicas, replication.

The RocksDB test runs a real table on Faust's rocksdict store, offline (no broker).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import faust
import pytest
from faust.stores.rocksdb import Store as RocksDBStore

from streams.admin import topic_specs
from streams.app import create_app, retained, store_expires
from streams.rocksdb_budget import BudgetedOptions
from streams.settings import KafkaSettings, Settings

MIB = 1024 * 1024
_JSON: faust.Schema = faust.Schema(key_serializer="json", value_serializer="json")


def test_rocksdb_defaults_bound_the_worker_not_each_table_partition():
    settings = Settings()
    assert settings.table_standby_replicas == 1
    assert settings.rocksdb_options == {
        "write_buffer_size": 4 * MIB,
        "max_write_buffer_number": 2,
        "max_open_files": 64,
    }
    assert settings.rocksdb_memory_mb == 64
    assert settings.rocksdb_memtable_mb == 32


def test_rocksdb_bounds_and_standbys_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GRID_ROCKSDB_MEMORY_MB", "512")
    monkeypatch.setenv("GRID_ROCKSDB_WRITE_BUFFER_MB", "8")
    monkeypatch.setenv("GRID_ROCKSDB_MAX_WRITE_BUFFERS", "3")
    monkeypatch.setenv("GRID_ROCKSDB_MAX_OPEN_FILES", "256")
    monkeypatch.setenv("GRID_TABLE_STANDBY_REPLICAS", "2")
    settings = Settings()
    assert settings.rocksdb_options == {
        "write_buffer_size": 8 * MIB,
        "max_write_buffer_number": 3,
        "max_open_files": 256,
    }
    assert settings.rocksdb_memtable_mb == 256
    assert settings.table_standby_replicas == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GRID_ROCKSDB_MEMORY_MB", "8"),
        ("GRID_ROCKSDB_MAX_WRITE_BUFFERS", "1"),  # RocksDB needs 2 to flush while writing
        ("GRID_TABLE_STANDBY_REPLICAS", "-1"),
    ],
)
def test_out_of_range_values_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name.removeprefix("GRID_").lower()):
        Settings()


def test_the_table_standby_replicas_variable_of_faust_is_refused():
    from streams.settings import faust_env_overrides

    assert faust_env_overrides({"TABLE_STANDBY_REPLICAS": "0"}) == ["TABLE_STANDBY_REPLICAS"]


def _rocks_settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(
        app_id="gw-rocks-unit",
        store="rocksdb://",
        data_dir=tmp_path,
        rocksdb_memory_mb=64,
        rocksdb_write_buffer_mb=2,
        rocksdb_max_open_files=32,
        table_standby_replicas=2,
        **changes,  # type: ignore[arg-type]
    )


def test_create_app_passes_store_options_and_standbys_to_faust(tmp_path):
    app = create_app(_rocks_settings(tmp_path))
    assert app.conf.table_standby_replicas == 2
    assert str(app.conf.store) == "rocksdb:"
    table = app.Table("bounded", default=None, schema=_JSON)
    store = table.data
    assert isinstance(store, RocksDBStore)
    options = store.rocksdb_options
    assert isinstance(options, BudgetedOptions)
    assert options.budget.total_bytes == 64 * MIB
    assert options.write_buffer_size == 2 * MIB
    assert options.max_write_buffer_number == 2
    assert options.max_open_files == 32
    assert options.use_rocksdict


def test_every_table_of_an_app_draws_on_one_budget(tmp_path):
    app = create_app(_rocks_settings(tmp_path))
    first = app.Table("first", default=None, schema=_JSON).data
    second = app.Table("second", default=None, schema=_JSON).data
    assert isinstance(first, RocksDBStore) and isinstance(second, RocksDBStore)
    assert isinstance(first.rocksdb_options, BudgetedOptions)
    assert isinstance(second.rocksdb_options, BudgetedOptions)
    assert first.rocksdb_options.budget is second.rocksdb_options.budget


def test_a_table_may_still_ask_for_its_own_options(tmp_path):
    app = create_app(_rocks_settings(tmp_path))
    table = app.Table("big", default=None, schema=_JSON, options={"write_buffer_size": 8 * MIB})
    store = table.data
    assert isinstance(store, RocksDBStore)
    assert store.rocksdb_options.write_buffer_size == 8 * MIB
    assert store.rocksdb_options.max_open_files == 32


def test_memory_store_tables_get_no_rocksdb_options(tmp_path):
    app = create_app(Settings(app_id="gw-mem-unit", data_dir=tmp_path))
    table = app.Table("plain", default=None, schema=_JSON)
    assert table.options == {}


@pytest.mark.parametrize(("replication", "configs"), [(1, {}), (3, {"min.insync.replicas": "2"})])
def test_changelogs_get_min_insync_replicas_from_settings(tmp_path, replication, configs):
    kafka = KafkaSettings(replication_factor=replication)
    app = create_app(Settings(app_id="gw-isr-unit", data_dir=tmp_path, kafka=kafka))
    table = app.Table("replicated", default=None, schema=_JSON)
    assert getattr(table, "extra_topic_configs", None) == configs
    assert table.changelog_topic.config == configs
    assert app.conf.topic_replication_factor == replication


async def test_a_worker_with_rocksdb_runs_its_tables(tmp_path):
    """An agent counting into a RocksDB table, offline; the counts are on disk."""
    settings = _rocks_settings(tmp_path)
    app = create_app(settings)
    counts = app.Table("counts", default=int, schema=_JSON)
    words = app.topic("words", value_type=bytes, value_serializer="raw")

    @app.agent(words)
    async def count(stream):
        async for word in stream:
            counts[word.decode()] += 1
            yield counts[word.decode()]

    app.finalize()
    app.flow_control.resume()
    async with count.test_context() as agent:
        for word in (b"a", b"b", b"a"):
            await agent.put(word, key=word, partition=0)
        assert counts["a"] == 2
        assert counts["b"] == 1
        store = counts.data
        assert isinstance(store, RocksDBStore)
        db = store._db_for_partition(0)
        assert sorted(k for k in db.keys() if not k.startswith(b"__faust")) == [b'"a"', b'"b"']
    tables_dir = settings.worker_data_dir / "v1" / "tables"
    assert (tables_dir / "counts-0.db").is_dir()


def test_a_retained_table_on_memory_keeps_its_entries_until_the_agent_deletes_them(tmp_path):
    settings = Settings(app_id="gw-mem-unit", data_dir=tmp_path)
    assert not store_expires(settings)
    app = create_app(settings)
    table = app.Table("kept", default=None, schema=_JSON, **retained(settings, 0.5))
    assert table.options == {}
    assert table.changelog_topic.config == {
        "cleanup.policy": "compact,delete",
        "retention.ms": str(43_200_000),
    }


async def test_a_retained_table_on_rocksdb_forgets_old_entries_by_itself(tmp_path):
    """A TTL database: an entry past its time is gone after a compaction, a young one stays."""
    settings = _rocks_settings(tmp_path)
    assert store_expires(settings)
    app = create_app(settings)
    one_second = 1 / 86_400
    kept = app.Table("kept", default=None, schema=_JSON, **retained(settings, one_second))
    plain = app.Table("plain", default=None, schema=_JSON)
    assert (kept.changelog_topic.config or {}).get("cleanup.policy") == "compact,delete"
    words = app.topic("words", value_type=bytes, value_serializer="raw")

    @app.agent(words)
    async def remember(stream):
        async for word in stream:
            kept[word.decode()] = plain[word.decode()] = 1
            yield word

    app.finalize()
    app.flow_control.resume()
    async with remember.test_context() as agent:
        await agent.put(b"old", key=b"old", partition=0)
        await asyncio.sleep(2.1)  # RocksDB's TTL is in whole seconds: past it by a margin
        await agent.put(b"young", key=b"young", partition=0)
        kept_store, plain_store = kept.data, plain.data
        assert isinstance(kept_store, RocksDBStore) and isinstance(plain_store, RocksDBStore)
        kept_db, plain_db = kept_store._db_for_partition(0), plain_store._db_for_partition(0)
        assert kept_db.get(b'"old"') is not None  # expired, not yet compacted away
        kept_db.compact_range(None, None)
        plain_db.compact_range(None, None)
        assert kept_db.get(b'"old"') is None
        assert kept_db.get(b'"young"') is not None
        assert plain_db.get(b'"old"') is not None  # a table not retained keeps it
    tables_dir = settings.worker_data_dir / "v1" / "tables"
    assert (tables_dir / "kept.ttl-0.db").is_dir()  # never a database written without TTL
    assert not (tables_dir / "kept-0.db").exists()


def test_topic_configs_come_from_settings():
    from streams.admin import changelog_topic

    settings = Settings(kafka=KafkaSettings(replication_factor=3, min_insync_replicas=2))
    kept = {
        changelog_topic(settings, "intake-seen-reports"): str(8 * 86_400_000),
        changelog_topic(settings, "notifier-delivered"): str(30 * 86_400_000),
    }
    for spec in topic_specs(settings):
        topic = spec.new_topic(settings.kafka)
        assert topic.replication_factor == 3
        assert topic.topic_configs["min.insync.replicas"] == "2"
        if spec.name in kept:  # RocksDB forgets their entries: old records must go too
            assert topic.topic_configs["cleanup.policy"] == "compact,delete"
            assert topic.topic_configs["retention.ms"] == kept[spec.name]
        elif spec.compacted:
            assert topic.topic_configs == {"cleanup.policy": "compact", "min.insync.replicas": "2"}
        else:
            assert topic.topic_configs["cleanup.policy"] == "delete"
    single = spec.new_topic(KafkaSettings())
    assert single.replication_factor == 1
    assert "min.insync.replicas" not in single.topic_configs


def test_dead_letters_outlive_the_reports_they_came_from():
    days = {spec.name: spec.retention_days for spec in topic_specs(Settings())}
    topics = Settings().topics
    assert days[topics.dlq] > days[topics.reports]
    assert days[topics.alerts_dlq] >= days[topics.escalation_commands]


def test_every_table_of_the_worker_has_its_changelog_created_up_front():
    import streams.command_center
    import streams.escalation.notifier
    import streams.intake  # noqa: F401 - the worker's modules declare its tables
    from streams.admin import TABLES, changelog_topic
    from streams.app import app

    assert set(TABLES) == set(app.tables)
    settings = Settings()
    made = {spec.name: spec for spec in topic_specs(settings)}
    for table in app.tables.values():
        spec = made[table.changelog_topic.get_topic_name()]
        assert spec.name == changelog_topic(settings, table.name)
        assert spec.compacted and spec.partitions == settings.kafka.partitions
        # the table asks Faust for the same retention as the topic gridwatch creates
        asked = table.changelog_topic.config or {}
        assert asked.get("cleanup.policy", "compact") == spec.retention_configs()["cleanup.policy"]
        assert asked.get("retention.ms") == spec.retention_configs().get("retention.ms")
