"""Faust's floor in this worker: ``faust_core`` with intake's step reduced to counting.

What a message costs before gridwatch does anything with it: Faust's fetch, delivery, stream
and acknowledgement, the consumer thread, the timers and the tables' idle upkeep, all as the
real worker has them. Intake's agent runs, but its ``handle`` only counts the message (the
bench's progress metrics). Nothing is forwarded, so the bench does not check its outputs.

Run as ``python -m streams.bench_peers.faust_floor`` with the worker's ``GRID_*`` environment.
"""

from __future__ import annotations

import sys

from streams.app import metrics
from streams.bench_peers import faust_core

__all__ = ["count_only", "main"]


async def count_only(message: object, raw: bytes) -> None:
    """Intake's step without its work: what the bench reads as handled and triaged."""
    metrics.reports_received.inc()
    metrics.labelled(metrics.reports_triaged, "none").inc()


def main() -> int:
    """Start the worker without escalation agents and with intake's step counting only."""
    import streams.intake

    streams.intake.handle = count_only  # the agent looks ``handle`` up on every message
    streams.intake.ahead.detach()  # no work ahead either
    return faust_core.main()


if __name__ == "__main__":
    sys.exit(main())
