"""``gridwatch bench pipeline``: how fast one worker drains a backlog through the whole pipeline.

Each variant (an event loop, a setting: environment variables for the worker) gets topics of
its own holding the same pre-published reports; then, one variant at a time, a fresh worker
drains them through intake, triage and escalation, and the bench times the first to the last
report triaged (read from the worker's /metrics) and the worker's CPU seconds. Variants run in
the same invocation so that their ratio means something on a shared, noisy machine.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaProducer

from streams.bench_peers.progress import PeerConfig, read_progress
from streams.bench_peers.verify import Expected, TopicCount, check, count_topic
from streams.benchkit import (
    ReceiverThread,
    cpu_seconds,
    create_compacted_topic,
    delete_topics_of,
    free_port,
    fresh_settings,
    memory_mb,
    metric_sum,
    metric_sums,
    start_peer,
    start_worker,
    stop_workers,
    wait_ready,
)
from streams.sample import bad_payloads, valid_report
from streams.settings import Settings

__all__ = [
    "DEFAULT_VARIANTS",
    "DrainResult",
    "Running",
    "ThroughputResult",
    "Variant",
    "publish_backlog",
    "publish_mixed_backlog",
    "run_pipeline_bench",
    "run_throughput_bench",
    "start_variant",
    "throughput_table",
]

TRIAGED = "grid_reports_triaged_total"  # a report is done once its findings are out


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
    producer = KafkaProducer(**settings.kafka.client_options(), acks="all", linger_ms=20)
    rng = random.Random(seed)
    for n in range(count):
        report = valid_report(rng, n, prefix="bp", routine_share=routine_share)
        value = json.dumps(report, ensure_ascii=False).encode()
        producer.send(settings.topics.reports, key=str(report["report_id"]).encode(), value=value)
    producer.flush()
    producer.close()


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
            cpu_before = cpu_seconds(worker.pid)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                triaged = metric_sum(port, TRIAGED)
                now = time.monotonic()
                if first is None and triaged > 0:
                    first = now
                if triaged >= count:
                    done = now
                    break
                time.sleep(_poll_pause(first is not None, triaged, count))
            cpu = cpu_seconds(worker.pid) - cpu_before
            seconds = (done - first) if done and first else float("nan")
            results.append(DrainResult(name, count, seconds, cpu, memory_mb(worker.pid)))
        finally:
            stop_workers([worker])
    return results


# -- gridwatch bench throughput: Faust against a plain aiokafka loop and Quix Streams

PEER_MODULES = {"plain": "streams.bench_peers.plain_loop", "quix": "streams.bench_peers.quix"}
WORKER_MODULES = {
    "faust": "streams.cli",
    "core": "streams.bench_peers.faust_core",
    "floor": "streams.bench_peers.faust_floor",
}
# Variants that forward nothing: their outputs are not checked.
UNCHECKED = {"floor": "not checked: forwards nothing (Faust's floor)"}
KINDS = ("faust", "core", "floor", "plain", "quix", "quix-eos")
DEFAULT_VARIANTS = (
    "faust-x1",
    "faust-x2",
    "core-x1",
    "core-x2",
    "plain-x1",
    "plain-x2",
    "quix-x1",
    "quix-x2",
    "quix-eos-x1",
)


@dataclass(frozen=True)
class Variant:
    """What drains the backlog: a kind (``faust``, ``core``, ``floor``, ``plain``, ``quix``...)."""

    name: str
    kind: str
    processes: int

    @classmethod
    def parse(cls, name: str) -> Variant:
        """``kind-xN``, e.g. ``plain-x2``: two plain-loop processes in one group."""
        kind, _, count = name.rpartition("-x")
        if kind not in KINDS or not count.isdigit() or int(count) < 1:
            msg = f"variant {name!r}: expected KIND-xN with KIND one of {', '.join(KINDS)}"
            raise ValueError(msg)
        return cls(name, kind, int(count))


@dataclass(frozen=True)
class ThroughputResult:
    """One variant's drain: figures and what verification found wrong (nothing, we hope)."""

    variant: str
    reports: int
    seconds: float
    cpu_seconds: float
    rss_mb: float  # peak RSS, summed over the variant's processes
    problems: tuple[str, ...]

    @property
    def rate(self) -> float:
        """Reports per second, first accepted to the last report handled."""
        return self.reports / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_1k(self) -> float:
        """CPU seconds per 1,000 reports, all processes together."""
        return self.cpu_seconds / self.reports * 1000


def publish_mixed_backlog(
    bootstrap: str,
    topic: str,
    count: int,
    routine_share: float,
    *,
    retry_share: float = 0.02,
    bad_share: float = 0.01,
    seed: int = 7,
) -> Expected:
    """``count`` messages: valid reports, app retries of earlier ones, bad payloads."""
    producer = KafkaProducer(bootstrap_servers=[bootstrap], acks="all", linger_ms=20)
    rng = random.Random(seed)
    valid = retries = invalid = 0
    sent: list[tuple[bytes, bytes]] = []
    catalogue: list[bytes] = []
    for n in range(count):
        draw = rng.random()
        if draw < bad_share and catalogue:
            key, value = None, catalogue[invalid % len(catalogue)]
            invalid += 1
        elif draw < bad_share + retry_share and sent:
            key, value = rng.choice(sent)
            retries += 1
        else:
            report = valid_report(rng, n, prefix="bt", routine_share=routine_share)
            key, value = str(report["report_id"]).encode(), json.dumps(report).encode()
            sent.append((key, value))
            catalogue = catalogue or [b.raw for b in bad_payloads(report)]
            valid += 1
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()
    return Expected(count, valid, retries, invalid)


@dataclass
class Running:
    """The processes of one variant, and how far they got."""

    processes: list[subprocess.Popen[bytes]]
    progress: Callable[[], tuple[float, float]]  # (messages handled, reports accepted)
    outputs: Settings


def start_variant(
    variant: Variant,
    settings: Settings,
    receiver: ReceiverThread,
    profile_dir: Path | None = None,
) -> Running:
    """Start ``variant``'s processes on ``settings``' topics and group (workers: until ready)."""
    if variant.kind in WORKER_MODULES:
        return _start_faust(variant, settings, receiver, profile_dir)
    return _start_peers(variant, settings, profile_dir)


def _start_faust(
    variant: Variant, settings: Settings, receiver: ReceiverThread, profile_dir: Path | None
) -> Running:
    ports = [free_port() for _ in range(variant.processes)]
    data_dir = Path(tempfile.mkdtemp(prefix="gridwatch-bench-"))
    module = WORKER_MODULES[variant.kind]
    workers = [
        start_worker(
            settings,
            data_dir,
            port,
            receiver,
            module=module,
            profile=profile_dir / f"{variant.name}-{n}.prof" if profile_dir else None,
        )
        for n, port in enumerate(ports)
    ]
    for port, worker in zip(ports, workers, strict=True):
        wait_ready(port, worker)

    def progress() -> tuple[float, float]:
        scraped = [metric_sums(p, "grid_reports_received_total", TRIAGED) for p in ports]
        return sum(s[0] for s in scraped), sum(s[1] for s in scraped)

    return Running(workers, progress, settings)


def _start_peers(variant: Variant, settings: Settings, profile_dir: Path | None) -> Running:
    work_dir = Path(tempfile.mkdtemp(prefix="gridwatch-peer-"))
    bootstrap = settings.kafka.bootstrap_servers
    seen = f"{settings.app_id}.seen"
    if variant.kind == "plain":
        create_compacted_topic(bootstrap, seen, settings.kafka.partitions)
    t = settings.topics
    configs = [
        PeerConfig(
            bootstrap=bootstrap,
            source=t.reports,
            accepted=t.accepted,
            findings=t.findings,
            dlq=t.dlq,
            seen=seen,
            group=settings.app_id,
            progress=str(work_dir / f"progress-{n}.json"),
            partitions=settings.kafka.partitions,
            guarantee="exactly-once" if variant.kind == "quix-eos" else "at-least-once",
            state_dir=str(work_dir / f"state-{n}"),
        )
        for n in range(variant.processes)
    ]
    module = PEER_MODULES[variant.kind.removesuffix("-eos")]
    profiles = [
        profile_dir / f"{variant.name}-{n}.prof" if profile_dir else None
        for n in range(variant.processes)
    ]
    peers = [
        start_peer(module, c.to_json(), work_dir / f"peer-{n}.log", profile)
        for n, (c, profile) in enumerate(zip(configs, profiles, strict=True))
    ]

    def progress() -> tuple[float, float]:
        figures = read_progress(Path(c.progress) for c in configs)
        return figures.get("consumed", 0.0), figures.get("accepted", 0.0)

    return Running(peers, progress, settings)


def _poll_pause(started: bool, done: float, total: float) -> float:
    """Seconds until the next look at a worker's progress.

    Progress is read from the worker's /metrics, which costs it ~4 ms a scrape: often only
    before the start and near the end, so that the bench does not slow what it measures (10
    scrapes a second were 3.6% of the worker's time in a profile).
    """
    return 0.1 if not started or done >= 0.97 * total else 1.0


def _time_drain(drain: Running, expected: Expected, timeout: float) -> tuple[float, float, float]:
    """Seconds from the first report accepted to the last message handled; CPU s; peak MB."""
    pids = [p.pid for p in drain.processes]
    first = done = None
    cpu_before = 0.0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done:
        if any(p.poll() is not None for p in drain.processes):
            msg = f"a process exited with {[p.returncode for p in drain.processes]}"
            raise RuntimeError(msg)
        handled, accepted = drain.progress()
        now = time.monotonic()
        if first is None and accepted > 0:
            first, cpu_before = now, sum(cpu_seconds(pid) for pid in pids)
        if handled >= expected.messages and accepted >= expected.valid:
            done = now
        else:
            time.sleep(_poll_pause(first is not None, handled, expected.messages))
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    peak = sum(memory_mb(pid, "VmHWM") for pid in pids)
    seconds = (done - first) if done and first else float("nan")
    return seconds, cpu, peak


def _verify(bootstrap: str, settings: Settings, expected: Expected) -> list[str]:
    t = settings.topics

    async def counts() -> list[TopicCount]:
        n = settings.kafka.partitions
        return [await count_topic(bootstrap, name, n) for name in (t.accepted, t.findings, t.dlq)]

    accepted, findings, dlq = asyncio.run(counts())
    return check(expected, accepted, findings, dlq)


def run_throughput_bench(
    bootstrap: str,
    count: int,
    routine_share: float,
    variants: list[Variant],
    *,
    timeout: float = 1800,
    keep_topics: bool = False,
    on_result: Callable[[ThroughputResult], None] | None = None,
    profile_dir: Path | None = None,
) -> tuple[Expected, list[ThroughputResult]]:
    """Publish ``count`` messages once; drain them with each variant in its own group.

    ``profile_dir``: run every process under cProfile and leave a ``.prof`` per process there
    (the profiler's overhead then counts in their figures).
    """
    run = f"bt{uuid.uuid4().hex[:8]}"
    source = fresh_settings(bootstrap, f"{run}src").topics.reports
    expected = publish_mixed_backlog(bootstrap, source, count, routine_share)
    receiver = ReceiverThread()
    results = []
    try:
        for variant in variants:
            own = fresh_settings(bootstrap, f"{run}{variant.name.replace('-', '')}")
            settings = own.model_copy(
                update={"topics": own.topics.model_copy(update={"reports": source})}
            )
            drain = start_variant(variant, settings, receiver, profile_dir)
            try:
                seconds, cpu, peak = _time_drain(drain, expected, timeout)
            finally:
                stop_workers(drain.processes)
            unchecked = UNCHECKED.get(variant.kind)
            problems = [unchecked] if unchecked else _verify(bootstrap, settings, expected)
            result = ThroughputResult(variant.name, count, seconds, cpu, peak, tuple(problems))
            results.append(result)
            if on_result:
                on_result(result)
    finally:
        if not keep_topics:
            delete_topics_of(bootstrap, run)
    return expected, results


def throughput_table(results: list[ThroughputResult]) -> str:
    """The results as a table; each ratio is Faust's rate (the first faust-xN) over the row's."""
    faust = {r.variant.rsplit("-x", 1)[1]: r.rate for r in results if r.variant.startswith("faust")}
    lines = [
        f"{'variant':<12} {'reports':>8} {'seconds':>8} {'reports/s':>10} {'cpu s/1k':>9}"
        f" {'peak MB':>8} {'faust/this':>10}  check"
    ]
    for r in results:
        base = faust.get(r.variant.rsplit("-x", 1)[1])
        ratio = f"{base / r.rate:>10.2f}" if base and r.rate else f"{'-':>10}"
        lines.append(
            f"{r.variant:<12} {r.reports:>8} {r.seconds:>8.1f} {r.rate:>10.0f}"
            f" {r.cpu_per_1k:>9.2f} {r.rss_mb:>8.0f} {ratio}  {'; '.join(r.problems) or 'ok'}"
        )
    return "\n".join(lines)
