"""The plain-loop peer commits only what it still owns after a rebalance mid-batch."""

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka.errors import CommitFailedError
from aiokafka.structs import TopicPartition

from streams.bench_peers.plain_loop import commit, committable

T0, T1, T4 = (TopicPartition("src.grid.reports", p) for p in (0, 1, 4))


def _records(*offsets: int) -> list[SimpleNamespace]:
    return [SimpleNamespace(offset=o) for o in offsets]


def test_a_partition_revoked_while_its_batch_was_handled_is_not_committed():
    polled = {T0: _records(10, 11), T4: _records(7), T1: _records(3, 4, 5)}
    assert committable(polled, {T0, T1}) == {T0: 12, T1: 6}
    assert committable(polled, set()) == {}


class _Consumer:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.committed: list[dict[TopicPartition, int]] = []

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.error is not None:
            raise self.error
        self.committed.append(offsets)


def test_nothing_to_commit_asks_nothing_of_the_broker():
    consumer = _Consumer()
    asyncio.run(commit(consumer, {}))
    assert consumer.committed == []
    asyncio.run(commit(consumer, {T0: 12}))
    assert consumer.committed == [{T0: 12}]


def test_a_group_that_rebalanced_meanwhile_refuses_the_commit_and_the_loop_goes_on():
    asyncio.run(commit(_Consumer(CommitFailedError("rebalanced")), {T0: 12}))
    with pytest.raises(RuntimeError):  # anything else still stops the peer
        asyncio.run(commit(_Consumer(RuntimeError("broken")), {T0: 12}))
