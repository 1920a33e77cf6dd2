"""A gridwatch worker without escalation: intake (with triage) and counters, for the bench.

The peers (plain loop, Quix) do intake's and triage's work and count findings, but do not
escalate. To compare like with like, this runs the real worker (same app, settings,
modules) with the escalation agents taken off the app before it starts. What remains per
report: intake (validate, dedup table, forward, classify, emit findings, and send the few
escalation candidates, which nobody reads here) and the command center's counters (re-read
the findings, count, flush the table every second). The escalator's once-a-second tick
timer still runs (a few sends per second, idle).

Run as ``python -m streams.bench_peers.faust_core`` with the worker's ``GRID_*`` environment.
"""

from __future__ import annotations

import sys

__all__ = ["ESCALATION_AGENTS", "main"]

# Agent names (module.function) that escalate: taken off the app.
ESCALATION_AGENTS = (
    "streams.escalation.agents.watch_campaigns",
    "streams.escalation.agents.route_actions",
    "streams.escalation.agents.escalate",
    "streams.escalation.notifier.notify",
    "streams.command_center.watch_escalations",
)


def main() -> int:
    """Start the worker with the escalation agents removed."""
    import mode.loop

    from streams.admin import create_topics
    from streams.app import app, check_environment, settings

    check_environment()
    create_topics(settings)
    import streams.command_center  # noqa: F401 - counters
    import streams.escalation.notifier  # noqa: F401 - imported by the worker; removed below
    import streams.intake  # noqa: F401 - intake with triage (it still sends candidates)

    missing = [name for name in ESCALATION_AGENTS if name not in app.agents]
    if missing:
        msg = f"no such agents to remove: {missing}; known: {sorted(app.agents)}"
        raise RuntimeError(msg)
    for name in ESCALATION_AGENTS:
        app.agents.pop(name)
    mode.loop.use(settings.event_loop)  # Faust reads --loop only at `import faust`
    sys.argv = ["gridwatch", "worker", "--loglevel", "warn"]
    app.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
