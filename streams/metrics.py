"""Every Prometheus metric gridwatch exports, declared in one place on an injected registry.

Labels are bounded by design: kinds, codes and districts, never report ids, grids or people.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    ProcessCollector,
)

__all__ = ["INTAKE_LATENCY_BUCKETS", "GridMetrics"]

_Metric = TypeVar("_Metric", Counter, Gauge, Histogram)

# Intake is a parse and a send, tens of microseconds; buckets from 50 us to 1 s show both the
# normal case and a stall (a rebalance, a slow broker) without a long tail of empty buckets.
INTAKE_LATENCY_BUCKETS = (
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.05,
    0.25,
    1.0,
)


@dataclass(frozen=True)
class GridMetrics:
    """The domain and engine metrics of one worker."""

    reports_received: Counter
    reports_accepted: Counter
    reports_invalid: Counter
    dead_letters_failed: Counter
    reports_duplicate: Counter
    reports_rekeyed: Counter
    reports_reconciled: Counter
    reports_triaged: Counter
    findings: Counter
    intake_seconds: Histogram
    intake_paused: Counter
    retention_deleted: Counter
    escalation_events: Counter
    notifications: Counter
    notification_seconds: Histogram
    escalations_open: Gauge
    escalations_overdue: Gauge
    escalation_oldest_unacknowledged: Gauge
    consumer_lag: Gauge
    rocksdb_memory: Gauge
    events_processed: Counter
    processing_seconds: Histogram
    _children: dict[tuple[int, tuple[str, ...]], Any] = field(
        default_factory=dict, repr=False, compare=False
    )

    def labelled(self, metric: _Metric, *values: str) -> _Metric:
        """``metric.labels(*values)``, remembered (label values are few, by design).

        ``labels`` checks and locks on every call (~2 µs); the hot paths count every event.
        """
        key = (id(metric), values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def processed(self, agent: str, started: float) -> None:
        """Count one event an agent handled and how long it took (from ``perf_counter``)."""
        self.labelled(self.events_processed, agent).inc()
        self.labelled(self.processing_seconds, agent).observe(time.perf_counter() - started)

    @classmethod
    def create(cls, registry: CollectorRegistry) -> GridMetrics:
        """Register every metric on ``registry`` (tests pass a fresh one)."""
        # The process's memory and CPU, and its garbage collections by generation
        # (``process_*``, ``python_gc_*``): what a memory or pause problem shows first.
        ProcessCollector(registry=registry)
        GCCollector(registry=registry)
        return cls(
            reports_received=Counter(
                "grid_reports_received_total", "Messages read from grid.reports.", registry=registry
            ),
            reports_accepted=Counter(
                "grid_reports_accepted_total",
                "Valid, first-seen reports forwarded to grid.reports.accepted.",
                registry=registry,
            ),
            reports_invalid=Counter(
                "grid_reports_invalid_total",
                "Messages dead-lettered, by error kind.",
                ["reason"],
                registry=registry,
            ),
            dead_letters_failed=Counter(
                "grid_dead_letters_failed_total",
                "Dead letters that could not be sent either, by DLQ topic: messages lost (logged).",
                ["topic"],
                registry=registry,
            ),
            reports_duplicate=Counter(
                "grid_reports_duplicate_total",
                "Valid reports whose report_id was seen before (app retries); not forwarded.",
                registry=registry,
            ),
            reports_rekeyed=Counter(
                "grid_reports_rekeyed_total",
                "Reports not keyed by report_id, re-sent keyed by it so one worker owns each id.",
                registry=registry,
            ),
            reports_reconciled=Counter(
                "grid_reports_reconciled_total",
                "Reports found already forwarded by a previous owner of a partition (crash).",
                registry=registry,
            ),
            reports_triaged=Counter(
                "grid_reports_triaged_total",
                "Accepted reports classified, by highest severity ('none': no finding).",
                ["severity"],
                registry=registry,
            ),
            findings=Counter(
                "grid_findings_total",
                "Findings by district, code and severity (10 x 5 x 4 series at most).",
                ["district", "code", "severity"],
                registry=registry,
            ),
            intake_seconds=Histogram(
                "grid_intake_processing_seconds",
                "Time to validate and route one message.",
                buckets=INTAKE_LATENCY_BUCKETS,
                registry=registry,
            ),
            intake_paused=Counter(
                "grid_intake_paused_total",
                "Times intake's sources were paused (or resumed) so escalations could catch up.",
                ["action"],
                registry=registry,
            ),
            retention_deleted=Counter(
                "grid_retention_deleted_total",
                "Table entries deleted after their retention (streams/retention.py), by table.",
                ["table"],
                registry=registry,
            ),
            escalation_events=Counter(
                "grid_escalation_events_total",
                "Escalation lifecycle events (opened, notified, escalated…) by code and level.",
                ["type", "code", "level"],
                registry=registry,
            ),
            notifications=Counter(
                "grid_notifications_total",
                "Webhook deliveries by target and outcome (delivered, failed, skipped_repeat).",
                ["target", "outcome"],
                registry=registry,
            ),
            notification_seconds=Histogram(
                "grid_notification_delivery_seconds",
                "From the notified event's time to the responder's 2xx, retries included.",
                buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0),
                registry=registry,
            ),
            escalations_open=Gauge(
                "grid_escalations_open",
                "Escalations not yet resolved, by code and current level (this worker's share).",
                ["code", "level"],
                registry=registry,
            ),
            escalations_overdue=Gauge(
                "grid_escalations_overdue",
                "Open escalations that missed an ack deadline and are still unacknowledged.",
                ["code"],
                registry=registry,
            ),
            escalation_oldest_unacknowledged=Gauge(
                "grid_escalation_oldest_unacknowledged_seconds",
                "Age of the oldest escalation nobody has acknowledged, by code.",
                ["code"],
                registry=registry,
            ),
            consumer_lag=Gauge(
                "grid_consumer_lag_messages",
                "Messages on a partition this worker owns that its group has not committed yet.",
                ["topic", "partition"],
                registry=registry,
            ),
            rocksdb_memory=Gauge(
                "grid_rocksdb_memory_bytes",
                "The worker's RocksDB budget in use: the shared cache (memtables included), "
                "and the memtables alone (rocksdb:// only).",
                ["part"],
                registry=registry,
            ),
            events_processed=Counter(
                "grid_events_processed_total",
                "Events each agent handled (dead-lettered ones included).",
                ["agent"],
                registry=registry,
            ),
            processing_seconds=Histogram(
                "grid_processing_seconds",
                "Time an agent spent on one event, sends included.",
                ["agent"],
                buckets=INTAKE_LATENCY_BUCKETS,
                registry=registry,
            ),
        )
