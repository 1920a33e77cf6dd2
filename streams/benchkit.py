"""What the benchmarks share: fresh topics, a real worker process, a receiver for webhooks.

Benchmarks run the real thing (broker, worker process, HTTP) on topics of their own, so a run
never mixes with the demo's or another run's data, and print figures rather than assert them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from aiohttp import web
from kafka.admin import KafkaAdminClient, NewTopic

from streams.admin import create_topics
from streams.escalation.receiver import Delivery, receiver_app
from streams.settings import KafkaSettings, Settings, TopicNames

__all__ = [
    "BENCH_SECRET",
    "TUNING",
    "ReceiverThread",
    "cpu_seconds",
    "create_compacted_topic",
    "delete_topics_of",
    "free_port",
    "fresh_settings",
    "memory_mb",
    "metric_sum",
    "metric_sums",
    "sums_of",
    "start_peer",
    "start_worker",
    "stop_workers",
    "wait_ready",
]

BENCH_SECRET = b"bench-webhook-secret"


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_settings(bootstrap: str, run: str, partitions: int = 6) -> Settings:
    """Settings whose topics (created here) and group belong to this run alone."""
    defaults = TopicNames().model_dump()
    settings = Settings(
        app_id=f"gw-{run}",
        kafka=KafkaSettings(bootstrap_servers=bootstrap, partitions=partitions),
        topics=TopicNames(**{field: f"{run}.{name}" for field, name in defaults.items()}),
    )
    create_topics(settings)
    return settings


class ReceiverThread:
    """The reference webhook receiver in a thread; when each report first reached anyone."""

    def __init__(self) -> None:
        self.first_seen: dict[str, float] = {}
        self.deliveries = 0
        # every delivery's escalation id, in order (appended by the receiver's thread only)
        self.escalations: list[str] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _record(self, delivery: Delivery) -> None:
        self.deliveries += 1
        if isinstance(esc_id := delivery.payload.get("escalation_id"), str):
            self.escalations.append(esc_id)
        for report in delivery.payload.get("reports", ()):
            self.first_seen.setdefault(report["report_id"], delivery.received_at)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        app = receiver_app(BENCH_SECRET, on_delivery=self._record)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        ready.set()
        self._loop.run_forever()


# Settings a bench passes on to its workers when set, to measure a tuning against the default.
TUNING = (
    "GRID_FETCH_MIN_BYTES",
    "GRID_FETCH_MAX_WAIT_MS",
    "GRID_FETCH_IDLE_WAIT_MS",
    "GRID_OUTBOX_LINGER_MS",
    "GRID_WORK_AHEAD",
    "GRID_STORE",  # e.g. rocksdb://, production's, where the bench's default is memory://
    "GRID_ROCKSDB_MEMORY_MB",
    "GRID_TABLE_STANDBY_REPLICAS",  # what standbys cost with two or more workers
)


def _inherited_env() -> dict[str, str]:
    """This process's environment without its ``GRID_`` settings, bar the ``TUNING`` ones."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GRID_") or k in TUNING}


def start_worker(
    settings: Settings,
    data_dir: Path,
    port: int,
    receiver: ReceiverThread,
    extra_env: dict[str, str] | None = None,
    module: str = "streams.cli",
    profile: Path | None = None,
) -> subprocess.Popen[bytes]:
    """A ``gridwatch worker`` process of ``settings``, escalating to ``receiver``.

    ``module``: what runs the worker; ``streams.bench_peers.faust_core`` runs it without
    the escalation agents. ``profile``: run it under cProfile, written when it stops.
    """
    env = _inherited_env()
    env |= {f"GRID_TOPICS__{field.upper()}": name for field, name in settings.topics}
    env |= {
        "GRID_APP_ID": settings.app_id,
        "GRID_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "GRID_KAFKA__PARTITIONS": str(settings.kafka.partitions),
        "GRID_DATA_DIR": str(data_dir),
        "GRID_WEB_PORT": str(port),
        "GRID_LOG_LEVEL": "warn",
        "GRID_ESCALATION__WEBHOOK_BASE_URL": receiver.url,
        "GRID_ESCALATION__WEBHOOK_SECRET": BENCH_SECRET.decode(),
    }
    env |= extra_env or {}
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / f"worker-{port}.log").open("ab")
    under = ["-m", "cProfile", "-o", str(profile)] if profile else []
    args = [sys.executable, *under, "-m", module]
    args += ["worker"] if module == "streams.cli" else []
    return subprocess.Popen(args, env=env, stdout=log, stderr=log)  # noqa: S603 - our modules


def start_peer(
    module: str, config_json: str, log_path: Path, profile: Path | None = None
) -> subprocess.Popen[bytes]:
    """A bench peer process (``streams.bench_peers.<peer>``) with its config, logging to a file.

    ``profile``: run it under cProfile, which writes there when the peer exits on SIGTERM.
    """
    env = _inherited_env()
    log = log_path.open("ab")
    under = ["-m", "cProfile", "-o", str(profile)] if profile else []
    args = [sys.executable, *under, "-m", module, config_json]
    return subprocess.Popen(args, env=env, stdout=log, stderr=log)  # noqa: S603 - our modules


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of a process from /proc (VmRSS now, VmHWM its peak), in MB."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def create_compacted_topic(bootstrap: str, name: str, partitions: int) -> None:
    """A compacted topic, as a changelog is."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="gridwatch-bench")
    try:
        configs = {"cleanup.policy": "compact"}
        admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs)])
    finally:
        admin.close()


def delete_topics_of(bootstrap: str, run: str) -> list[str]:
    """Delete every topic whose name holds ``run`` (ours, the workers' changelogs, Quix's)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="gridwatch-bench")
    try:
        doomed = [name for name in admin.list_topics() if run in name]
        if doomed:
            admin.delete_topics(doomed)
        return doomed
    finally:
        admin.close()


def metrics_text(port: int) -> str:
    """A worker's /metrics, or '' while it does not answer."""
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return str(response.read().decode())
    except OSError:
        return ""


def metric_sum(port: int, name: str) -> float:
    """The sum of every sample of one metric on a worker (0 when absent)."""
    return metric_sums(port, name)[0]


def metric_sums(port: int, *names: str) -> tuple[float, ...]:
    """``metric_sum`` of each of ``names``, from one scrape: a scrape costs the worker ~4 ms."""
    return sums_of(metrics_text(port), names)


def sums_of(text: str, names: tuple[str, ...]) -> tuple[float, ...]:
    """The sum of every sample of each metric in ``names`` in a /metrics text (0 when absent).

    A bare name sums all its series; a name with labels, as the text spells them
    (``grid_rocksdb_memory_bytes{part="cache"}``), is that one series.
    """
    sums = dict.fromkeys(names, 0.0)
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        name = series.partition("{")[0]
        if name in sums:
            sums[name] += float(value)
        if series != name and series in sums:
            sums[series] += float(value)
    return tuple(sums[name] for name in names)


def wait_ready(port: int, worker: subprocess.Popen[bytes], timeout: float = 90) -> None:
    """Until the worker serves /metrics; raise if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            msg = f"the worker exited with {worker.returncode}"
            raise RuntimeError(msg)
        if metrics_text(port):
            return
        time.sleep(0.5)
    msg = "the worker did not start serving"
    raise RuntimeError(msg)


def stop_workers(processes: list[subprocess.Popen[bytes]], grace_s: float = 30) -> None:
    """SIGTERM, then SIGKILL whatever has not stopped within ``grace_s``.

    A worker stuck while stopping would otherwise keep running (and using CPU) under the
    next measurement.
    """
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
