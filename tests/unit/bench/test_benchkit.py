"""Bench helpers: several metrics from one scrape of a worker, and what workers inherit."""

from streams import benchkit
from streams.benchkit import sums_of

SCRAPE = """\
# HELP grid_reports_received_total Messages read.
# TYPE grid_reports_received_total counter
grid_reports_received_total 120.0
grid_reports_received_total_created 1.7e+09
grid_reports_triaged_total{worker="a"} 40.0
grid_reports_triaged_total{worker="b"} 2.0
grid_rocksdb_memory_bytes{part="memtables"} 1024.0
grid_rocksdb_memory_bytes{part="cache"} 4096.0
"""


def test_each_name_sums_its_samples_and_only_its_own():
    received, triaged = sums_of(
        SCRAPE, ("grid_reports_received_total", "grid_reports_triaged_total")
    )
    assert received == 120.0  # not the _created sample that shares its prefix
    assert triaged == 42.0


def test_a_metric_absent_or_a_worker_not_answering_is_zero():
    assert sums_of(SCRAPE, ("grid_escalations_open",)) == (0.0,)
    assert sums_of("", ("grid_reports_received_total", "grid_reports_triaged_total")) == (0.0, 0.0)


def test_the_order_of_the_names_is_the_order_of_the_sums():
    assert sums_of(SCRAPE, ("grid_rocksdb_memory_bytes", "grid_reports_received_total")) == (
        5120.0,
        120.0,
    )


def test_a_name_with_labels_is_that_one_series():
    # what ``gridwatch bench soak`` asks for its RocksDB column
    cache, memtables, both = sums_of(
        SCRAPE,
        (
            'grid_rocksdb_memory_bytes{part="cache"}',
            'grid_rocksdb_memory_bytes{part="memtables"}',
            "grid_rocksdb_memory_bytes",
        ),
    )
    assert (cache, memtables, both) == (4096.0, 1024.0, 5120.0)


def test_tuning_variables_reach_the_workers_and_other_grid_settings_do_not(monkeypatch):
    monkeypatch.setenv("GRID_TABLE_STANDBY_REPLICAS", "0")
    monkeypatch.setenv("GRID_OUTBOX_LINGER_MS", "25")
    monkeypatch.setenv("GRID_APP_ID", "somebody-elses-app")
    monkeypatch.setenv("GRID_KAFKA__BOOTSTRAP_SERVERS", "elsewhere:9092")
    env = benchkit._inherited_env()
    assert env["GRID_TABLE_STANDBY_REPLICAS"] == "0"
    assert env["GRID_OUTBOX_LINGER_MS"] == "25"
    assert "GRID_APP_ID" not in env
    assert "GRID_KAFKA__BOOTSTRAP_SERVERS" not in env
