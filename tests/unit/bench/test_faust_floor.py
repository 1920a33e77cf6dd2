"""The floor worker's step counts each message as the bench's progress reads it, nothing more."""

from streams.app import metrics
from streams.bench_peers.faust_floor import count_only
from streams.bench_pipeline import DEFAULT_VARIANTS, UNCHECKED, WORKER_MODULES


async def test_the_floor_step_counts_a_message_handled_and_triaged():
    received = metrics.reports_received._value.get()
    triaged = metrics.labelled(metrics.reports_triaged, "none")._value.get()
    await count_only(object(), b"{}")
    assert metrics.reports_received._value.get() == received + 1
    assert metrics.labelled(metrics.reports_triaged, "none")._value.get() == triaged + 1
    assert metrics.reports_accepted._value.get() == 0  # nothing is forwarded


def test_the_floor_runs_on_request_and_is_not_checked():
    assert WORKER_MODULES["floor"] == "streams.bench_peers.faust_floor"
    assert "floor" in UNCHECKED
    assert not [v for v in DEFAULT_VARIANTS if v.startswith("floor")]
