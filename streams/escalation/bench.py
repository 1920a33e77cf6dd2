"""``gridwatch bench escalation``: from a report's publish to the first webhook delivery.

It runs the whole path on the real broker, on fresh topics: sample traffic at a fixed rate
through a real worker process (intake, triage, escalation routing, escalator, notifier), into
the reference receiver served here. One report in ``probe_every`` is a fraud in progress at
an address of its own (so it opens its own escalation); its latency is the time from the
producer's send to the receiver accepting the first delivery that lists it. Every report's
findings latency is the time from its send to the broker's append time of its record on the
findings topic. Both clocks are this machine's.

Then (``run_compared``) the same traffic goes through the throughput bench's peers, one after
another, each on topics of its own: their findings latency and CPU per report, beside the
worker's, at the same rates on the same machine.
"""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from kafka import KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord

from streams.bench_pipeline import Running, Variant, start_variant
from streams.benchkit import (
    ReceiverThread,
    cpu_seconds,
    delete_topics_of,
    free_port,
    fresh_settings,
    metric_sum,
    start_worker,
    stop_workers,
    wait_ready,
)
from streams.sample import valid_report
from streams.settings import Settings
from streams.topic_reader import read_topic
from streams.triage import load_engine

__all__ = [
    "HEADER",
    "Probe",
    "RateResult",
    "Traffic",
    "compared_table",
    "finding_share",
    "findings_latencies",
    "percentile",
    "run_bench",
    "run_compared",
    "traffic_messages",
]

_TICK_S = 0.005
_FRAUD = "独居老人手机被远程控制，骗子冒充银行客服，正在往安全账户转账"


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted here)."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Probe:
    """A fraud report whose way to the first responder is timed."""

    report_id: str
    sent_at: float


@dataclass(frozen=True)
class RateResult:
    """The figures of one rate."""

    rate: int
    sent: int
    seconds: float
    probes: int
    latencies_ms: list[float]
    cpu_ms_per_report: float  # the workers' CPU while sending, per report they handled then
    # every report: send -> its findings record's append time (read after every rate has run)
    findings_ms: list[float] = field(default_factory=list)

    def row(self) -> str:
        """A line of the printed table."""
        lat = self.latencies_ms
        start = f"{self.rate:>7} {self.sent:>7} {self.sent / self.seconds:>9.0f} {self.probes:>6}"
        cpu = f"{self.cpu_ms_per_report:>8.2f}"
        found = self.findings_ms
        findings = " ".join(f"{percentile(found, p):>7.0f}" for p in (50, 95, 99)) if found else ""
        findings = f"{len(found):>8} {findings}"
        if not lat:
            return f"{start} {0:>9} {'':>31} {cpu} {findings}"
        figures = " ".join(f"{percentile(lat, p):>7.0f}" for p in (50, 95, 99))
        return f"{start} {len(lat):>9} {figures} {max(lat):>7.0f} {cpu} {findings}"


HEADER = f"{'rate/s':>7} {'sent':>7} {'actual/s':>9} {'probes':>6} {'delivered':>9}"
HEADER += f" {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'cpu ms':>8}"
HEADER += f" {'findings':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"


@dataclass(frozen=True)
class Traffic:
    """What is published: the rate's reports, a share routine, one in ``probe_every`` a probe."""

    seconds: float
    probe_every: int
    routine_share: float


def traffic_messages(
    rate: int, traffic: Traffic, run: str, turn: int = 0
) -> list[tuple[bytes, bytes, bool]]:
    """The rate's messages (key, value, is a probe), built before the clock starts.

    ``turn``: the rate's place in the run. A rate sent again (``--rates 1000,1000``) sends new
    reports of the same mix: new ids (the same ids would be app retries), new grids (the same
    ones would join the escalations the last turn opened) and probes at new addresses.
    """
    rng = random.Random(rate + 7919 * turn)  # turn 0: the traffic of every earlier release
    messages = []
    prefix = f"{run}-{turn}-{rate}"
    for n in range(int(rate * traffic.seconds)):
        report = valid_report(rng, n, prefix=prefix, routine_share=traffic.routine_share)
        probe = n % traffic.probe_every == 0
        if probe:
            # a street per turn: no probe shares a place with one of an earlier turn
            address = f"测试{turn}路{n}号"
            report |= {"text": _FRAUD, "address": address, "contact_phone": "13912345678"}
            report.pop("lat", None)
            report.pop("lon", None)
        value = json.dumps(report, ensure_ascii=False).encode()
        messages.append((str(report["report_id"]).encode(), value, probe))
    return messages


def finding_share(messages: list[tuple[bytes, bytes, bool]]) -> float:
    """The share of messages whose text triage finds something in."""
    engine = load_engine()
    found = sum(
        bool(engine.classify(json.loads(value)["text"]).findings) for _, value, _ in messages
    )
    return found / len(messages) if messages else 0.0


def _send_at_rate(
    producer: KafkaProducer, topic: str, rate: int, traffic: Traffic, run: str, turn: int = 0
) -> tuple[dict[str, float], list[Probe]]:
    """Publish ``rate`` reports a second for ``seconds``, in ticks of ``_TICK_S``.

    Each tick sends the reports due by its end: sending each report alone at its due time
    woke the producer's I/O thread a thousand times a second, a CPU the worker shares here.
    """
    messages = traffic_messages(rate, traffic, run, turn)
    probes: list[Probe] = []
    sent: dict[str, float] = {}
    start = time.monotonic()
    for n, (key, value, probe) in enumerate(messages):
        if (pause := start + n / rate - _TICK_S - time.monotonic()) > 0:
            time.sleep(pause + _TICK_S)
        producer.send(topic, key=key, value=value)
        sent[report_id := key.decode()] = time.time()
        if probe:
            probes.append(Probe(report_id, sent[report_id]))
    producer.flush()
    return sent, probes


def findings_latencies(records: Iterable[ConsumerRecord], sent: dict[str, float]) -> list[float]:
    """Milliseconds from each sent report to its findings record's (broker) append time."""
    latencies = []
    for record in records:
        report_id = json.loads(record.value).get("report_id")
        if (at := sent.get(report_id)) is not None:
            latencies.append(record.timestamp - at * 1000)
    return latencies


def _handled(ports: list[int]) -> float:
    return sum(metric_sum(port, "grid_reports_received_total") for port in ports)


def run_bench(
    bootstrap: str,
    rates: list[int],
    traffic: Traffic,
    workers: int = 1,
    *,
    store: str = "memory://",
) -> list[RateResult]:
    """Run every rate against one worker (warmed up first) and return the figures."""
    run = f"bench{uuid.uuid4().hex[:8]}"
    settings = fresh_settings(bootstrap, run)
    receiver = ReceiverThread()
    data_dir = Path(tempfile.mkdtemp(prefix="gridwatch-bench-"))
    loop = os.environ.get("GRID_EVENT_LOOP", "uvloop")
    ports = [free_port() for _ in range(workers)]
    processes = [
        start_worker(
            settings,
            data_dir,
            port,
            receiver,
            {"GRID_EVENT_LOOP": loop, "GRID_INSTANCE_ID": f"b{n}", "GRID_STORE": store},
        )
        for n, port in enumerate(ports)
    ]
    measured = _Measured(
        processes=processes,
        handled=lambda: _handled(ports),
        settled=lambda: all(metric_sum(port, "grid_reports_received_total") for port in ports),
        receiver=receiver,
    )

    def ready() -> None:
        for port, worker in zip(ports, processes, strict=True):
            wait_ready(port, worker)

    return _timed(settings, run, rates, traffic, measured, ready)


def run_compared(
    bootstrap: str, rates: list[int], traffic: Traffic, variants: list[Variant]
) -> dict[str, list[RateResult]]:
    """The same traffic through each of ``variants`` in turn: findings latency and CPU.

    They are the throughput bench's: ``core`` (the worker without its escalation agents), the
    plain aiokafka loop and Quix Streams. None of them escalates, so only their findings are
    timed; each runs on topics and a group of its own.
    """
    results: dict[str, list[RateResult]] = {}
    receiver = ReceiverThread()  # `core` is a worker: it wants a webhook URL, unused here
    for variant in variants:
        run = f"bench{uuid.uuid4().hex[:8]}"
        settings = fresh_settings(bootstrap, run)
        running = start_variant(variant, settings, receiver)
        results[variant.name] = _timed(settings, run, rates, traffic, _measured(running))
    return results


def _timed(
    settings: Settings,
    run: str,
    rates: list[int],
    traffic: Traffic,
    measured: _Measured,
    ready: Callable[[], None] = lambda: None,
) -> list[RateResult]:
    """Once ``ready``, send the rates; stop the processes; time the findings; delete the topics."""
    try:
        try:
            ready()
            sent = _send_rates(settings, run, rates, traffic, measured)
        finally:
            stop_workers(measured.processes)
        return _with_findings(settings, sent)
    finally:
        delete_topics_of(settings.kafka.bootstrap_servers, run)


@dataclass(frozen=True)
class _Measured:
    """What the rates are sent to: its processes, how many reports it handled, if it settled."""

    processes: list[subprocess.Popen[bytes]]
    handled: Callable[[], float]
    settled: Callable[[], bool]
    receiver: ReceiverThread | None = None  # where probes are delivered; None: not timed


def _measured(running: Running) -> _Measured:
    return _Measured(
        processes=running.processes,
        handled=lambda: running.progress()[0],
        settled=lambda: running.progress()[0] > 0,
    )


def _send_rates(
    settings: Settings, run: str, rates: list[int], traffic: Traffic, measured: _Measured
) -> list[tuple[RateResult, dict[str, float]]]:
    """Warm up, then send every rate; each rate's figures and every report's send time."""
    producer = KafkaProducer(**settings.kafka.client_options(), acks="all", linger_ms=2)
    rated: list[tuple[RateResult, dict[str, float]]] = []
    receiver = measured.receiver
    pids = [process.pid for process in measured.processes]
    try:
        # Warm up until the group has settled: every process has handled traffic.
        warm_up = Traffic(4, 10, traffic.routine_share)
        for attempt in range(10):
            _send_at_rate(producer, settings.topics.reports, 50, warm_up, f"{run}-warm{attempt}")
            time.sleep(3)
            if measured.settled():
                break
        # What this process made so far (modules, the triage engine, the warm-up) stays out
        # of its full collections: their pauses (67-96 ms mid-rate) held up the receiver's
        # thread, and the time it stamps on deliveries, as if the worker were slow.
        gc.collect()
        gc.freeze()
        for turn, rate in enumerate(rates):
            handled = measured.handled()
            cpu = sum(cpu_seconds(pid) for pid in pids)
            began = time.monotonic()
            sent_at, probes = _send_at_rate(
                producer, settings.topics.reports, rate, traffic, run, turn
            )
            elapsed = time.monotonic() - began
            cpu = sum(cpu_seconds(pid) for pid in pids) - cpu
            handled = measured.handled() - handled
            latencies: list[float] = []
            if receiver is not None:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and any(
                    p.report_id not in receiver.first_seen for p in probes
                ):
                    time.sleep(0.5)
                latencies = [
                    (receiver.first_seen[p.report_id] - p.sent_at) * 1000
                    for p in probes
                    if p.report_id in receiver.first_seen
                ]
            cpu_ms = cpu * 1000 / handled if handled else 0.0
            result = RateResult(rate, len(sent_at), elapsed, len(probes), latencies, cpu_ms)
            rated.append((result, sent_at))
            time.sleep(3)
    finally:
        producer.close()
    return rated


def _with_findings(
    settings: Settings, rated: list[tuple[RateResult, dict[str, float]]]
) -> list[RateResult]:
    """Each rate's figures with its findings latencies, the topic read once the clock stopped."""
    findings = list(read_topic(settings.kafka, settings.topics.findings))
    return [
        replace(result, findings_ms=findings_latencies(findings, sent)) for result, sent in rated
    ]


def compared_table(
    worker: str, results: dict[str, list[RateResult]], rates: list[int]
) -> list[str]:
    """Findings latency of every variant, rate by rate; ``worker`` names the ratios' base."""
    lines = [
        f"{'variant':<10} {'rate/s':>7} {'actual/s':>9} {'findings':>8} {'p50 ms':>7}"
        f" {'p95 ms':>7} {'p99 ms':>7} {'cpu ms':>7} {'faust/this':>10}"
    ]
    for n, rate in enumerate(rates):
        base = results[worker][n].findings_ms
        for name, rows in results.items():
            r, found = rows[n], rows[n].findings_ms
            figures = " ".join(
                f"{percentile(found, p):>7.0f}" if found else f"{'-':>7}" for p in (50, 95, 99)
            )
            ratio = (
                f"{percentile(base, 99) / percentile(found, 99):>10.2f}"
                if base and found and percentile(found, 99) > 0
                else f"{'-':>10}"
            )
            lines.append(
                f"{name:<10} {rate:>7} {r.sent / r.seconds:>9.0f} {len(found):>8} {figures}"
                f" {r.cpu_ms_per_report:>7.2f} {ratio}"
            )
    return lines
