"""One memory budget bounds the memtables of every RocksDB database that draws on it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from faust.stores.rocksdb import RocksDBOptions
from prometheus_client import CollectorRegistry

from streams.metrics import GridMetrics
from streams.rocksdb_budget import MemoryBudget

MIB = 1024 * 1024
_PER_DATABASE: dict[str, Any] = {
    "write_buffer_size": 4 * MIB,
    "max_write_buffer_number": 2,
    "use_rocksdict": True,
}


def _fill(
    tmp_path: Path, options: RocksDBOptions, on_full: Callable[[], object] = lambda: None
) -> tuple[int, int]:
    """Write ~4 MB into each of 8 databases; their memtables' peak, and total at the end."""
    dbs = [options.open(tmp_path / f"part-{n}.db") for n in range(8)]
    peak = 0
    try:
        for row in range(4000):
            for n, db in enumerate(dbs):
                db[f"report-{row}-{n}".encode()] = os.urandom(1000)
            if row % 100 == 0:
                peak = max(peak, _memtables(dbs))
        on_full()
        return peak, _memtables(dbs)
    finally:
        for db in dbs:
            db.close()


def _memtables(dbs: list[Any]) -> int:
    return sum(int(db.property_int_value("rocksdb.cur-size-all-mem-tables")) for db in dbs)


def test_memtables_of_many_databases_stay_within_the_budget(tmp_path):
    budget = MemoryBudget(32 * MIB, 8 * MIB)
    seen: list[tuple[int, int]] = []
    options = budget.options(**_PER_DATABASE)
    peak, end = _fill(tmp_path, options, on_full=lambda: seen.append(_usage(budget)))
    # Past 90 % of 8 MiB a write flushes its memtable, in background threads: 8.5 MiB at the
    # peak on a quiet machine, up to 12.9 with six of these tests at once on two cores. The
    # bound leaves room for a loaded machine and stays far under the 32+ MiB without it.
    assert peak <= 20 * MIB
    assert 0 < end <= 20 * MIB
    memtables, cache = seen[0]
    assert end <= memtables <= cache <= 32 * MIB  # the memtables are charged to the cache


def _usage(budget: MemoryBudget) -> tuple[int, int]:
    return budget.memtable_bytes(), budget.cache_bytes()


def test_without_the_budget_each_database_fills_its_own_memtables(tmp_path):
    """The control: the same writes on Faust's per-database options take four times as much."""
    peak, _ = _fill(tmp_path, RocksDBOptions(**_PER_DATABASE))
    assert peak > 28 * MIB


def test_the_memtables_must_be_a_part_of_the_budget():
    with pytest.raises(ValueError, match="must be a part of the budget"):
        MemoryBudget(16 * MIB, 16 * MIB)


def test_reads_go_through_the_shared_cache(tmp_path):
    budget = MemoryBudget(32 * MIB, 8 * MIB)
    db = budget.options(**_PER_DATABASE).open(tmp_path / "read.db")
    try:
        for row in range(20_000):
            db[f"seen-{row}".encode()] = b"x" * 200
        db.flush()
        before = budget.cache_bytes()
        assert all(db[f"seen-{row}".encode()] == b"x" * 200 for row in range(0, 20_000, 7))
        assert budget.cache_bytes() > before  # data blocks read from the flushed file
    finally:
        db.close()


def test_the_metric_reads_the_budget_at_each_scrape(tmp_path):
    registry = CollectorRegistry()
    budget = MemoryBudget(32 * MIB, 8 * MIB)
    budget.export(GridMetrics.create(registry).rocksdb_memory)

    def scraped(part: str) -> float | None:
        return registry.get_sample_value("grid_rocksdb_memory_bytes", {"part": part})

    assert scraped("memtables") == 0
    db = budget.options(**_PER_DATABASE).open(tmp_path / "scraped.db")
    try:
        for row in range(2_000):
            db[f"seen-{row}".encode()] = b"x" * 200
        assert scraped("memtables") == budget.memtable_bytes() > 0
        assert scraped("cache") == budget.cache_bytes() >= budget.memtable_bytes()
    finally:
        db.close()
