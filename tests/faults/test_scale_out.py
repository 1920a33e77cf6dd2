"""A second worker joins while the first is busy: no report is forwarded twice.

Proves (when it passes): scaling out under traffic (or a rolling restart, where a worker
comes back while the others work) moves partitions without duplicating or losing a report
or a dead letter, and the counters stay exact. No process is killed here.
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import wait_for

from .conftest import Stopwatch, check_exact, first_start, total, traffic, wait_processed

pytestmark = [pytest.mark.integration, pytest.mark.faults]

VALID = 12_000


def test_second_worker_joins_under_traffic(pipeline, start_worker, truth, publisher):
    clock = Stopwatch()
    s = pipeline.settings
    warm = first_start(pipeline, start_worker)
    first = start_worker(warm.instance_id, warm.port)
    publisher.send(traffic(VALID, 200, 1_000, seed=505, prefix="out"))
    clock.lap(f"one worker up, published {truth.published}")
    # Early, as when it failed: the first worker is forwarding at full speed by then.
    wait_for(lambda: total(pipeline, s.topics.accepted) >= 200, 120, first._died, 0.1)
    second = start_worker()
    clock.lap(f"a second worker joined at {total(pipeline, s.topics.accepted)} accepted")
    wait_processed(pipeline, truth, first, timeout=300)
    clock.lap("both processed everything")
    assert second.process.poll() is None, second.log_tail()
    # One letter per bad payload: the revocation commits what was handled (Faust fix 8), so
    # the new owner replays nothing (without the fix: 16 to 101 letters twice, 4 runs in 5).
    check_exact(pipeline, truth, first, dlq_exact=True)
    clock.lap("checked")
