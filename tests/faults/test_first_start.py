"""The very first worker of a fresh pipeline, with reports already waiting for it.

Proves (when it passes): a pipeline whose tables' changelog topics do not exist yet, started
for the first time, accepts each report once, recognises retries and counts exactly. Faust
creates the changelog topics while the worker starts; the other fault tests start from a
pipeline that ran once before (``first_start``), so this is the only test of the first start.
"""

from __future__ import annotations

import pytest

from .conftest import Stopwatch, check_exact, traffic, wait_processed

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def test_first_start_accepts_each_report_once(pipeline, start_worker, truth, publisher):
    clock = Stopwatch()
    publisher.send(traffic(3_000, 100, 500, seed=404, prefix="first"))
    worker = start_worker()
    wait_processed(pipeline, truth, worker, timeout=300)
    clock.lap("the first worker processed everything")
    check_exact(pipeline, truth, worker, dlq_exact=True)
    clock.lap("checked")
