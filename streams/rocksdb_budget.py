"""One RocksDB memory budget for the whole worker, shared by every table partition it opens.

Faust opens a RocksDB database per table per partition a worker holds (36 for one worker
with six tables and six partitions), and each gets a block cache and memtables of its own:
the worker's RocksDB memory is bounded only by that product, and it creeps towards it as
the memtables and caches fill (a 10-minute soak was still growing). Here every database of
the process reads through one LRU cache, and one write-buffer manager charges their
memtables to that same cache; past their share of it, a write flushes its own memtable. So
RocksDB's memory stays near ``GRID_ROCKSDB_MEMORY_MB`` however many partitions the worker
holds. Index and bloom blocks are kept in the cache too, where they count against it,
rather than beside every open file.
"""

from __future__ import annotations

from typing import Any

import rocksdict
from faust.stores.rocksdb import RocksDBOptions
from prometheus_client import Gauge

__all__ = ["BudgetedOptions", "MemoryBudget"]


class MemoryBudget:
    """The process's one block cache, and the manager that charges memtables to it."""

    def __init__(self, total_bytes: int, memtable_bytes: int) -> None:
        if not 0 < memtable_bytes < total_bytes:
            msg = f"memtables ({memtable_bytes} bytes) must be a part of the budget ({total_bytes})"
            raise ValueError(msg)
        self.total_bytes = total_bytes
        self.cache = rocksdict.Cache(total_bytes)
        self.write_buffers = rocksdict.WriteBufferManager.new_write_buffer_manager_with_cache(
            buffer_size=memtable_bytes,
            allow_stall=False,  # past the share, flush; never stop the writers
            cache=self.cache,
        )

    def cache_bytes(self) -> int:
        """What the cache holds now: data, index and bloom blocks, and the memtables' charge."""
        return int(self.cache.get_usage())

    def memtable_bytes(self) -> int:
        """What every database's memtables take now (counted inside ``cache_bytes``)."""
        return int(self.write_buffers.get_usage())

    def export(self, gauge: Gauge) -> None:
        """Have ``gauge`` (labelled by part) read the cache and memtables at every scrape."""
        gauge.labels("cache").set_function(self.cache_bytes)
        gauge.labels("memtables").set_function(self.memtable_bytes)

    def options(self, **faust_options: Any) -> BudgetedOptions:
        """Faust's options for one table partition's database, drawing on this budget."""
        return BudgetedOptions(self, **faust_options)


class BudgetedOptions(RocksDBOptions):
    """Faust's rocksdict options, with the shared cache and write-buffer manager put in."""

    def __init__(self, budget: MemoryBudget, **faust_options: Any) -> None:
        super().__init__(**faust_options)
        self.budget = budget

    def as_options(self) -> rocksdict.Options:
        """Faust's ``RocksDBOptions.as_options`` (rocksdict), with the budget's cache."""
        options = rocksdict.Options(raw_mode=True)
        options.create_if_missing(True)
        if self.max_open_files is not None:
            options.set_max_open_files(self.max_open_files)
        options.set_write_buffer_size(self.write_buffer_size)
        options.set_target_file_size_base(self.target_file_size_base)
        options.set_max_write_buffer_number(self.max_write_buffer_number)
        options.set_write_buffer_manager(self.budget.write_buffers)
        table = rocksdict.BlockBasedOptions()
        table.set_bloom_filter(self.bloom_filter_size, True)
        table.set_block_cache(self.budget.cache)
        table.set_cache_index_and_filter_blocks(True)
        table.set_pin_l0_filter_and_index_blocks_in_cache(True)
        table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
        options.set_block_based_table_factory(table)
        return options
