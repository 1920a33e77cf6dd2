"""``gridwatch bench soak``: one worker under steady simulated traffic; is its memory flat?

A fresh worker on topics of its own takes ``rate`` simulated messages a second (the city's
mix: hazards, fraud, routine notes, retries, bad payloads; webhooks to a local receiver) for
``minutes``. Every ``every`` seconds the bench prints the worker's resident memory, what it
has handled and its CPU; at the end, the memory growth over the second half of the run (the
first half includes warm-up: tables filling, caches, the rules compiled) as a slope, and
whether the worker kept pace. Figures only: a leak shows as a slope that does not go away
with a longer run.
"""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaProducer

from schemas.escalation import EscalationActionV1
from streams.benchkit import (
    ReceiverThread,
    cpu_seconds,
    delete_topics_of,
    free_port,
    fresh_settings,
    memory_mb,
    metric_sums,
    start_worker,
    stop_workers,
    wait_ready,
)
from streams.settings import Settings
from streams.simulate.generator import SimConfig, Simulator
from streams.simulate.publish import publish_messages

__all__ = [
    "Resolver",
    "Sample",
    "SoakResult",
    "memory_slope",
    "retention_env",
    "run_soak",
    "sample_line",
    "soak_summary",
]

HEADER = "   min  handled  msgs/s  rss MB  cpu %  rocksdb MB"
ROCKSDB_IN_USE = 'grid_rocksdb_memory_bytes{part="cache"}'  # the budget, memtables included


@dataclass(frozen=True)
class Sample:
    """The worker at one moment of the run."""

    at_s: float
    handled: float
    rss_mb: float
    cpu_s: float
    rocksdb_mb: float = 0.0  # of the worker's RocksDB budget, in use (0 with memory://)


@dataclass
class SoakResult:
    """Every sample, and what was published."""

    rate: float
    minutes: float
    published: int = 0
    resolved: int = 0  # escalations the soak's responders resolved
    samples: list[Sample] = field(default_factory=list)


def memory_slope(samples: list[Sample]) -> float:
    """Least-squares growth of resident memory, MB per minute, over the given samples."""
    if len(samples) < 2:  # noqa: PLR2004
        return 0.0
    xs = [s.at_s / 60 for s in samples]
    ys = [s.rss_mb for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0


def sample_line(previous: Sample, now: Sample) -> str:
    """One printed line: minutes, handled, per second and CPU % since ``previous``, RocksDB."""
    span = max(now.at_s - previous.at_s, 1e-9)
    rate = (now.handled - previous.handled) / span
    cpu = 100 * (now.cpu_s - previous.cpu_s) / span
    return (
        f"{now.at_s / 60:6.1f} {now.handled:8.0f} {rate:7.0f} {now.rss_mb:7.1f} {cpu:6.0f}"
        f" {now.rocksdb_mb:11.1f}"
    )


def soak_summary(result: SoakResult) -> list[str]:
    """Memory over the second half of the run (after warm-up) and whether the worker kept pace."""
    lines = []
    second_half = [s for s in result.samples if s.at_s >= result.minutes * 30]
    if second_half:
        first, last = second_half[0], second_half[-1]
        lines.append(
            f"second half: rss {first.rss_mb:.1f} -> {last.rss_mb:.1f} MB, "
            f"slope {memory_slope(second_half):+.2f} MB/min; "
            f"rocksdb {first.rocksdb_mb:.1f} -> {last.rocksdb_mb:.1f} MB"
        )
    if result.samples:
        handled = result.samples[-1].handled
        lines.append(f"published {result.published}, handled {handled:.0f} by the end")
    if result.resolved:
        lines.append(f"escalations resolved by the soak's responders: {result.resolved}")
    return lines


def retention_env(minutes: float | None) -> dict[str, str]:
    """The worker's settings that keep every retained table for ``minutes`` (None: defaults)."""
    if minutes is None:
        return {}
    days = str(minutes / (24 * 60))
    names = ("SEEN_REPORTS_DAYS", "CLOSED_ESCALATIONS_DAYS", "DELIVERIES_DAYS")
    return {f"GRID_RETENTION__{name}": days for name in names}


class Resolver:
    """Responders who resolve every escalation they are sent, every few seconds, via alerts.acks."""

    def __init__(self, settings: Settings, receiver: ReceiverThread) -> None:
        self.topic = settings.topics.acks
        self.receiver = receiver
        self.producer = KafkaProducer(**settings.kafka.client_options())
        self.resolved: set[str] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="soak-resolver", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        read = 0
        while not self.stop.wait(2.0):
            delivered = self.receiver.escalations[read:]  # a copy; the receiver only appends
            read += len(delivered)
            for esc_id in dict.fromkeys(delivered):
                if esc_id not in self.resolved:
                    action = EscalationActionV1(escalation_id=esc_id, action="resolve", by="soak")
                    self.producer.send(self.topic, action.model_dump_json().encode())
                    self.resolved.add(esc_id)
            self.producer.flush()

    def close(self) -> None:
        """Stop resolving and close the producer."""
        self.stop.set()
        self.thread.join(timeout=10)
        self.producer.close()


def run_soak(
    bootstrap: str,
    rate: float,
    minutes: float,
    every_s: float = 30.0,
    seed: int = 2025,
    store: str = "rocksdb://",
    *,
    resolve: bool = False,
    retention_minutes: float | None = None,
) -> SoakResult:
    """Publish for ``minutes`` at ``rate`` to a fresh worker, sampling it every ``every_s``.

    ``store``: the worker's table store. With ``memory://`` every table lives in the
    process, so its memory grows with the state it keeps (each report id seen, each
    escalation and delivery); production runs ``rocksdb://``, whose memory is bounded.
    ``resolve``: responders resolve each escalation within seconds of its first delivery,
    as a staffed city would; without it every escalation stays open. ``retention_minutes``:
    how long the worker keeps seen ids, deliveries and resolved escalations (default: days).
    """
    run = f"soak{uuid.uuid4().hex[:8]}"
    settings = fresh_settings(bootstrap, run)
    result = SoakResult(rate=rate, minutes=minutes)
    receiver = ReceiverThread()
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="gridwatch-soak-"))
    env = {"GRID_STORE": store} | retention_env(retention_minutes)
    worker = start_worker(settings, data_dir, port, receiver, env)
    resolver = Resolver(settings, receiver) if resolve else None
    try:
        wait_ready(port, worker)
        count = int(rate * minutes * 60)
        sim = Simulator(SimConfig(count=count, seed=seed, prefix=run))

        def publish() -> None:
            summary = publish_messages(
                settings, sim.messages(), total=count, rate=rate, progress=False
            )
            result.published = summary.sent

        publisher = threading.Thread(target=publish, name="soak-publisher", daemon=True)
        started = time.monotonic()
        publisher.start()
        print(HEADER, flush=True)  # noqa: T201
        while True:
            at = time.monotonic() - started
            handled, rocksdb = metric_sums(port, "grid_reports_received_total", ROCKSDB_IN_USE)
            rocksdb_mb = rocksdb / (1024 * 1024)
            rss, cpu = memory_mb(worker.pid), cpu_seconds(worker.pid)
            sample = Sample(at, handled, rss, cpu, rocksdb_mb)
            if result.samples:
                print(sample_line(result.samples[-1], sample), flush=True)  # noqa: T201
            result.samples.append(sample)
            if worker.poll() is not None:
                msg = f"the worker exited with {worker.returncode}"
                raise RuntimeError(msg)
            if at >= minutes * 60:
                break
            time.sleep(min(every_s, max(0.0, minutes * 60 - at)))
        publisher.join(timeout=60)
    finally:
        if resolver is not None:
            resolver.close()
            result.resolved = len(resolver.resolved)
        stop_workers([worker])
        delete_topics_of(bootstrap, run)
    return result
