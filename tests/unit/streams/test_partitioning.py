"""Kafka's default partitioner: the same partitions as aiokafka's (and so the Java client's)."""

import pytest
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from streams import partitioning
from streams.partitioning import murmur2, partition_of, remembered_partition_of


@given(st.binary(max_size=80))
def test_murmur2_equals_aiokafkas(key):
    assert murmur2(key) == aiokafka_murmur2(key)


@pytest.mark.parametrize(
    ("key", "partition"),
    [(b"", 681), (b"a", 524), (b"ab", 434), (b"abc", 107), (b"123456789", 566), (b"\x00 ", 742)],
)
def test_the_java_clients_partitions_among_1000(key, partition):
    # The Java producer's DefaultPartitioner places these keys so (kafka-python's
    # Java-compatibility vectors); every key length modulo 4 is there.
    assert partition_of(key, 1000) == partition


def test_remembered_partitions_are_the_same_and_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(partitioning, "_CACHE_SIZE", 8)
    monkeypatch.setattr(partitioning, "_partitions", {})
    keys = [f"330206-MS-{n}".encode() for n in range(20)]
    for key in keys * 2:
        assert remembered_partition_of(key, 12) == partition_of(key, 12)
        assert len(partitioning._partitions) <= 8
    assert remembered_partition_of(keys[0], 7) == partition_of(keys[0], 7)
