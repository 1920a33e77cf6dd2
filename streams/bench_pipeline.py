"""``gridwatch bench pipeline``: how fast one worker drains a backlog through the whole pipeline.

Each variant (an event loop, a setting: environment variables for the worker) gets topics of
its own holding the same pre-published reports; then, one variant at a time, a fresh worker
drains them through intake, triage and escalation, and the bench times the first to the last
report triaged (read from the worker's /metrics) and the worker's CPU seconds. Variants run in
the same invocation so that their ratio means something on a shared, noisy machine.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaProducer

from streams.benchkit import (
    ReceiverThread,
    free_port,
    fresh_settings,
    metric_sum,
    start_worker,
    wait_ready,
)
from streams.sample import valid_report
from streams.settings import Settings

__all__ = ["DrainResult", "publish_backlog", "run_pipeline_bench"]


@dataclass(frozen=True)
class DrainResult:
    """One variant's figures."""

    variant: str
    reports: int
    seconds: float
    cpu_seconds: float
    rss_mb: float

    @property
    def rate(self) -> float:
        """Reports per second, first to last triaged."""
        return self.reports / self.seconds if self.seconds else 0.0


def publish_backlog(settings: Settings, count: int, routine_share: float, seed: int) -> None:
    """``count`` sample reports on the variant's reports topic, before any worker runs."""
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap_list, acks="all", linger_ms=20
    )
    rng = random.Random(seed)
    for n in range(count):
        report = valid_report(rng, n, prefix="bp", routine_share=routine_share)
        value = json.dumps(report, ensure_ascii=False).encode()
        producer.send(settings.topics.reports, key=str(report["report_id"]).encode(), value=value)
    producer.flush()
    producer.close()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_pipeline_bench(
    bootstrap: str,
    count: int,
    routine_share: float,
    variants: dict[str, dict[str, str]],
    timeout: float = 900,
) -> list[DrainResult]:
    """Drain ``count`` reports once per variant; the variants' figures, in order."""
    run = f"bp{uuid.uuid4().hex[:8]}"
    receiver = ReceiverThread()
    prepared = {}
    for name in variants:
        settings = fresh_settings(bootstrap, f"{run}{name}")
        publish_backlog(settings, count, routine_share, seed=7)
        prepared[name] = settings
    results = []
    for name, env in variants.items():
        port = free_port()
        data_dir = Path(tempfile.mkdtemp(prefix="gridwatch-bench-"))
        worker = start_worker(prepared[name], data_dir, port, receiver, env)
        try:
            wait_ready(port, worker)
            first = done = None
            cpu_before = _cpu_seconds(worker.pid)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                triaged = metric_sum(port, "grid_reports_triaged_total")
                now = time.monotonic()
                if first is None and triaged > 0:
                    first = now
                if triaged >= count:
                    done = now
                    break
                time.sleep(0.2)
            cpu = _cpu_seconds(worker.pid) - cpu_before
            seconds = (done - first) if done and first else float("nan")
            results.append(DrainResult(name, count, seconds, cpu, _rss_mb(worker.pid)))
        finally:
            worker.terminate()
            worker.wait(30)
    return results
