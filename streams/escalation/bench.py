"""``gridwatch bench escalation``: from a report's publish to the first webhook delivery.

It runs the whole path on the real broker, on fresh topics: sample traffic at a fixed rate
through a real worker process (intake, triage, escalation routing, escalator, notifier), into
the reference receiver served here. One report in ``probe_every`` is a fraud in progress at
an address of its own (so it opens its own escalation); its latency is the time from the
producer's send to the receiver accepting the first delivery that lists it. Both clocks are
this machine's.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from kafka import KafkaProducer

from streams.admin import create_topics
from streams.escalation.receiver import Delivery, receiver_app
from streams.sample import valid_report
from streams.settings import Settings, TopicNames

__all__ = ["HEADER", "Probe", "RateResult", "Traffic", "percentile", "run_bench"]

_FRAUD = "独居老人手机被远程控制，骗子冒充银行客服，正在往安全账户转账"
_SECRET = b"bench-webhook-secret"


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

    def row(self) -> str:
        """A line of the printed table."""
        lat = self.latencies_ms
        if not lat:
            return (
                f"{self.rate:>7} {self.sent:>7} {self.sent / self.seconds:>9.0f} {self.probes:>6} 0"
            )
        figures = " ".join(f"{percentile(lat, p):>7.0f}" for p in (50, 95, 99))
        return (
            f"{self.rate:>7} {self.sent:>7} {self.sent / self.seconds:>9.0f} {self.probes:>6}"
            f" {len(lat):>9} {figures} {max(lat):>7.0f}"
        )


HEADER = f"{'rate/s':>7} {'sent':>7} {'actual/s':>9} {'probes':>6} {'delivered':>9}"
HEADER += f" {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"


class _Receiver:
    """The reference receiver in a thread; remembers when each report first reached anyone."""

    def __init__(self) -> None:
        self.first_seen: dict[str, float] = {}
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _record(self, delivery: Delivery) -> None:
        for report in delivery.payload.get("reports", ()):
            self.first_seen.setdefault(report["report_id"], delivery.received_at)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(receiver_app(_SECRET, on_delivery=self._record), access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        ready.set()
        self._loop.run_forever()


def _worker(
    settings: Settings, receiver: _Receiver, data_dir: Path, port: int
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRID_")}
    env |= {f"GRID_TOPICS__{field.upper()}": name for field, name in settings.topics}
    env |= {
        "GRID_APP_ID": settings.app_id,
        "GRID_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "GRID_KAFKA__PARTITIONS": str(settings.kafka.partitions),
        "GRID_DATA_DIR": str(data_dir),
        "GRID_WEB_PORT": str(port),
        "GRID_LOG_LEVEL": "warn",
        "GRID_ESCALATION__WEBHOOK_BASE_URL": f"http://127.0.0.1:{receiver.port}",
        "GRID_ESCALATION__WEBHOOK_SECRET": _SECRET.decode(),
        "GRID_EVENT_LOOP": os.environ.get("GRID_EVENT_LOOP", "aio"),
    }
    log = (data_dir / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "worker"], env=env, stdout=log, stderr=log
    )


def _wait_ready(port: int, worker: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            msg = f"the worker exited with {worker.returncode}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.5)
    msg = "the worker did not start serving"
    raise RuntimeError(msg)


@dataclass(frozen=True)
class Traffic:
    """What is published: the rate's reports, a share routine, one in ``probe_every`` a probe."""

    seconds: float
    probe_every: int
    routine_share: float


def _send_at_rate(
    producer: KafkaProducer, topic: str, rate: int, traffic: Traffic, run: str
) -> tuple[int, list[Probe]]:
    """Publish ``rate`` reports a second for ``seconds``, paced every 10 ms."""
    rng = random.Random(rate)
    probes: list[Probe] = []
    total = int(rate * traffic.seconds)
    start = time.monotonic()
    probe_every = traffic.probe_every
    for n in range(total):
        report = valid_report(rng, n, prefix=f"{run}-{rate}", routine_share=traffic.routine_share)
        if n % probe_every == 0:
            report |= {"text": _FRAUD, "address": f"测试路{n}号", "contact_phone": "13912345678"}
            report.pop("lat", None)
            report.pop("lon", None)
        due = start + n / rate
        if (pause := due - time.monotonic()) > 0:
            time.sleep(pause)
        rid = str(report["report_id"])
        producer.send(
            topic, key=rid.encode(), value=json.dumps(report, ensure_ascii=False).encode()
        )
        if n % probe_every == 0:
            probes.append(Probe(rid, time.time()))
    producer.flush()
    return total, probes


def run_bench(bootstrap: str, rates: list[int], traffic: Traffic) -> list[RateResult]:
    """Run every rate against one worker (warmed up first) and return the figures."""
    run = f"bench{uuid.uuid4().hex[:8]}"
    defaults = TopicNames().model_dump()
    settings = Settings(
        app_id=f"gw-{run}",
        kafka={"bootstrap_servers": bootstrap, "partitions": 6},
        topics=TopicNames(**{field: f"{run}.{name}" for field, name in defaults.items()}),
    )
    create_topics(settings)
    receiver = _Receiver()
    data_dir = Path(tempfile.mkdtemp(prefix="gridwatch-bench-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    worker = _worker(settings, receiver, data_dir, port)
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap_list, acks="all", linger_ms=2
    )
    results = []
    try:
        _wait_ready(port, worker)
        warm_up = Traffic(4, 10, traffic.routine_share)
        _send_at_rate(producer, settings.topics.reports, 50, warm_up, f"{run}-warm")
        time.sleep(5)
        for rate in rates:
            began = time.monotonic()
            sent, probes = _send_at_rate(producer, settings.topics.reports, rate, traffic, run)
            elapsed = time.monotonic() - began
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
            results.append(RateResult(rate, sent, elapsed, len(probes), latencies))
            time.sleep(3)
    finally:
        producer.close()
        worker.terminate()
        worker.wait(30)
    return results
