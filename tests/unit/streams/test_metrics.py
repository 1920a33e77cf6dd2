"""Metrics: remembered label children count into the registry like ``labels()`` does."""

from prometheus_client import CollectorRegistry

from streams.metrics import GridMetrics


def sample(registry: CollectorRegistry, name: str, labels: dict[str, str]) -> float | None:
    return registry.get_sample_value(name, labels)


def test_a_labelled_child_is_remembered_and_counts_in_the_registry():
    registry = CollectorRegistry()
    metrics = GridMetrics.create(registry)
    first = metrics.labelled(metrics.reports_triaged, "high")
    assert metrics.labelled(metrics.reports_triaged, "high") is first
    assert metrics.labelled(metrics.reports_triaged, "low") is not first
    for _ in range(3):
        metrics.labelled(metrics.reports_triaged, "high").inc()
    metrics.reports_triaged.labels("high").inc()  # the plain way adds to the same child
    assert sample(registry, "grid_reports_triaged_total", {"severity": "high"}) == 4


def test_processed_counts_and_times_each_agent_apart():
    registry = CollectorRegistry()
    metrics = GridMetrics.create(registry)
    for agent, times in (("intake", 3), ("escalate", 1)):
        for _ in range(times):
            metrics.processed(agent, started=0.0)
    assert sample(registry, "grid_events_processed_total", {"agent": "intake"}) == 3
    assert sample(registry, "grid_events_processed_total", {"agent": "escalate"}) == 1
    count = sample(registry, "grid_processing_seconds_count", {"agent": "intake"})
    assert count == 3


def test_the_worker_registry_exports_process_memory_and_full_collections():
    from prometheus_client import generate_latest

    from streams.app import registry

    text = generate_latest(registry).decode()
    assert "process_resident_memory_bytes " in text
    assert 'python_gc_collections_total{generation="2"}' in text
