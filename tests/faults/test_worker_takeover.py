"""Two workers, one SIGKILLed and never restarted: the other takes over, counters stay exact.

Proves: when a group member dies without leaving the group, the survivor gets its partitions
once the session expires, recovers their tables (seen reports, counters) from the
changelogs, finishes what the dead one left uncommitted without forwarding anything twice,
and alone answers /counters for the whole city with the counts computed here. Run with the
demo's tables in memory and with production's RocksDB (one memory budget per worker).
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import wait_for

from .conftest import (
    Stopwatch,
    check_exact,
    first_start,
    total,
    traffic,
    wait_group_settled,
    wait_processed,
)

pytestmark = [pytest.mark.integration, pytest.mark.faults]

VALID = 20_000


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
def test_survivor_takes_over_a_killed_workers_partitions(
    pipeline, start_worker, truth, publisher, store
):
    clock = Stopwatch()
    s = pipeline.settings
    pipeline.extra_env["GRID_STORE"] = store
    warm = first_start(pipeline, start_worker)
    survivor, victim = start_worker(warm.instance_id, warm.port), start_worker()
    # Traffic only once both own partitions: a worker joining under traffic is another fault
    # (test_scale_out.py), and this test is about the kill.
    wait_group_settled([survivor, victim], s.kafka.partitions)
    clock.lap("two workers up, partitions shared")
    publisher.send(traffic(VALID, 300, 1_500, seed=303, prefix="two"))
    clock.lap(f"published {truth.published}")

    wait_for(lambda: total(pipeline, s.topics.findings) >= VALID // 3, 240, victim._died, 0.2)
    victim.kill()
    assert total(pipeline, s.topics.findings) < VALID, "all done before the kill"
    clock.lap("one worker killed")

    wait_processed(pipeline, truth, survivor, timeout=300)
    clock.lap("the survivor processed everything")
    check_exact(pipeline, truth, survivor, dlq_exact=False)
    clock.lap("checked")
