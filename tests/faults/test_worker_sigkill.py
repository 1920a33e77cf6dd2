"""SIGKILL the only worker in the middle of 100,000 reports; the restarted one loses nothing.

Proves: a worker killed without a flush or a commit, then restarted as the same group
member, leaves every valid report accepted once and triaged once, every bad payload
dead-lettered with its reason, and /counters equal to the counts computed here.
"""

from __future__ import annotations

import json
import os
import random

import pytest

from tests.integration.conftest import wait_for

from .conftest import Stopwatch, check_exact, first_start, total, traffic, wait_processed

pytestmark = [pytest.mark.integration, pytest.mark.faults]

# 100,000 by default (issue 6); GRIDWATCH_FAULT_REPORTS scales it down where time is short.
VALID = int(os.environ.get("GRIDWATCH_FAULT_REPORTS", "100000"))


# rocksdb://: the restarted worker reopens the databases the killed one wrote, TTL ones
# among them (app.retained), and recovers only the changelog past what they hold.
@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
def test_sigkill_in_the_middle_of_100k_reports(pipeline, start_worker, truth, publisher, store):
    clock = Stopwatch()
    s = pipeline.settings
    pipeline.extra_env["GRID_STORE"] = store
    warm = first_start(pipeline, start_worker)
    clock.lap("the pipeline ran once (changelog topics exist)")
    payloads = traffic(VALID, 600, 3_000, seed=101, prefix="kill")
    careless = [json.loads(p) for p in payloads[:50] if p.startswith(b'{"schema_version"')]
    publisher.send(payloads)
    publisher.send((json.dumps(r).encode() for r in careless[:20]), keyed=False)  # re-keyed
    clock.lap(f"published {truth.published} ({len(truth.valid)} valid, {truth.retries} retries)")

    first = start_worker(warm.instance_id, warm.port)
    wait_for(lambda: total(pipeline, s.topics.findings) >= VALID // 3, 300, first._died, 0.2)
    first.kill()  # mid-stream: uncommitted offsets, unflushed counters, unsent batches
    done = total(pipeline, s.topics.findings)
    assert done < VALID, "the worker finished before it was killed"
    clock.lap(f"killed with {done} findings out")

    second = start_worker(first.instance_id, first.port)  # the same member, restarted
    # Retries that arrive after the restart are still recognised (from the recovered table).
    publisher.send(random.Random(5).sample(payloads, 1_000))
    wait_processed(pipeline, truth, second, timeout=900)
    clock.lap("restarted worker processed everything")
    check_exact(pipeline, truth, second, dlq_exact=False)
    clock.lap("checked")
