"""Integration fixtures: the real local Kafka broker, unique topics and real worker processes.

Outside CI a broker that cannot be had skips these tests with a hint; with CI=true it fails
the run, so integration tests never pass by not running.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from streams.admin import create_topics
from streams.escalation.receiver import receiver_app
from streams.settings import KafkaSettings, Settings, TopicNames

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = os.environ.get("GRIDWATCH_TEST_BOOTSTRAP", "127.0.0.1:9092")

pytestmark = pytest.mark.integration


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def _no_broker(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true and no Kafka broker: {reason}", pytrace=False)
    pytest.skip(f"no Kafka broker ({reason}); run `make kafka-up`")


@pytest.fixture(scope="session")
def broker() -> str:
    """A running broker's bootstrap address; starts the local one when nothing listens."""
    host, port = BOOTSTRAP.rsplit(":", 1)
    if not _port_open(host, int(port)):
        started = subprocess.run(
            ["bash", str(ROOT / "deploy/local/kafka.sh"), "up"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if started.returncode != 0:
            _no_broker(f"kafka.sh up failed:\n{started.stdout}\n{started.stderr}")
        if not _port_open(host, int(port)):
            _no_broker(f"kafka.sh up succeeded but nothing listens on {BOOTSTRAP}")
    return BOOTSTRAP


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Pipeline:
    """One isolated pipeline: its own topics, consumer group and worker data dir."""

    def __init__(self, bootstrap: str, data_dir: Path) -> None:
        run = uuid.uuid4().hex[:10]
        defaults = TopicNames().model_dump()
        self.settings = Settings(
            app_id=f"gw-test-{run}",
            kafka=KafkaSettings(bootstrap_servers=bootstrap, partitions=6),
            topics=TopicNames(**{field: f"t{run}.{name}" for field, name in defaults.items()}),
            data_dir=data_dir,
        )
        self.extra_env: dict[str, str] = {}  # e.g. GRID_ESCALATION__* for one test
        create_topics(self.settings)

    def env(self, web_port: int, instance_id: str) -> dict[str, str]:
        """The environment a worker of this pipeline runs with."""
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRID_")}
        env.update(
            GRID_APP_ID=s.app_id,
            GRID_KAFKA__BOOTSTRAP_SERVERS=s.kafka.bootstrap_servers,
            GRID_KAFKA__PARTITIONS=str(s.kafka.partitions),
            GRID_DATA_DIR=str(s.data_dir),
            GRID_WEB_PORT=str(web_port),
            GRID_INSTANCE_ID=instance_id,
            GRID_LOG_LEVEL="warn",
        )
        env |= {f"GRID_TOPICS__{field.upper()}": name for field, name in s.topics}
        return env | self.extra_env

    def delete_topics(self) -> None:
        """Drop this pipeline's topics and Faust's (changelogs, leader topic); best effort."""
        admin = KafkaAdminClient(bootstrap_servers=self.settings.kafka.bootstrap_list)
        try:
            mine = [
                name
                for name in admin.list_topics()
                if name.startswith(
                    (self.settings.app_id, self.settings.topics.reports.split(".")[0])
                )
            ]
            if mine:
                admin.delete_topics(mine)
        except Exception:  # noqa: BLE001, S110 - cleanup must not fail a test that passed
            pass
        finally:
            admin.close()

    def end_offsets(self, topic: str) -> dict[int, int]:
        """Partition → end offset of ``topic`` now."""
        consumer = KafkaConsumer(bootstrap_servers=self.settings.kafka.bootstrap_list)
        try:
            parts = [TopicPartition(topic, p) for p in range(self.settings.kafka.partitions)]
            return {tp.partition: end for tp, end in consumer.end_offsets(parts).items()}
        finally:
            consumer.close()

    def committed(self, topic: str | None = None) -> dict[int, int]:
        """Partition → offset the worker group committed on ``topic`` (default: reports)."""
        topic = topic or self.settings.topics.reports
        admin = KafkaAdminClient(bootstrap_servers=self.settings.kafka.bootstrap_list)
        try:
            offsets = admin.list_group_offsets({self.settings.app_id: None})
        finally:
            admin.close()
        return {
            tp.partition: meta.offset
            for tp, meta in offsets.get(self.settings.app_id, {}).items()
            if tp.topic == topic
        }

    def progress(self) -> str:
        """Committed vs end offsets of the reports topic, for failure messages."""
        return f"committed {self.committed()} of {self.end_offsets(self.settings.topics.reports)}"

    def drained(self) -> bool:
        """Whether the workers have committed everything now on the reports topic."""
        ends = {p: e for p, e in self.end_offsets(self.settings.topics.reports).items() if e}
        committed = self.committed()
        return all(committed.get(p, 0) >= end for p, end in ends.items())


class Worker:
    """A real ``gridwatch worker`` process."""

    def __init__(
        self, pipeline: Pipeline, log_path: Path, instance_id: str, port: int | None = None
    ) -> None:
        self.port = port or _free_port()
        self.instance_id = instance_id
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker"],
            cwd=ROOT,
            env=pipeline.env(self.port, instance_id),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def metrics(self) -> str:
        """The worker's /metrics text, or '' while it is not serving."""
        try:
            url = f"http://127.0.0.1:{self.port}/metrics"
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                return str(response.read().decode())
        except OSError:
            return ""

    def metric(self, name: str) -> float:
        """One unlabelled sample from /metrics (0 when absent)."""
        for line in self.metrics().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    def metric_sum(self, name: str) -> float:
        """The sum of every labelled sample of one metric."""
        return sum(
            float(line.split()[-1])
            for line in self.metrics().splitlines()
            if line.startswith(name + "{")
        )

    def wait_ready(self, timeout: float = 60) -> None:
        """Until /metrics answers; fail with the log tail if the process dies."""
        wait_for(lambda: bool(self.metrics()), timeout, self._died)

    def _died(self) -> str | None:
        if self.process.poll() is None:
            return None
        return f"worker exited {self.process.returncode}:\n{self.log_tail()}"

    def log_tail(self, lines: int = 40) -> str:
        """The end of the worker's log."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no flush, no commit, no goodbye."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    failure: Callable[[], str | None] = lambda: None,
    interval: float = 0.5,
    describe: Callable[[], str] = lambda: "",
) -> None:
    """Poll ``condition`` until true; fail early when ``failure`` says why it never will."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        reason = failure()
        if reason:
            pytest.fail(reason, pytrace=False)
        time.sleep(interval)
    pytest.fail(f"not true after {timeout}s: {condition} {describe()}", pytrace=False)


@pytest.fixture
def pipeline(broker: str, tmp_path: Path) -> Iterator[Pipeline]:
    """Fresh topics and group on the real broker for one test; deleted afterwards.

    Deleting keeps a long-lived local broker small: thousands of leftover partitions once
    ran a 512 MiB broker out of heap in the middle of a run.
    """
    fresh = Pipeline(broker, tmp_path / "worker-data")
    yield fresh
    fresh.delete_topics()


@pytest.fixture
def start_worker(pipeline: Pipeline, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start workers of the pipeline; every one is stopped after the test.

    ``start_worker(same.instance_id, same.port)`` restarts a worker as the same group member.
    """
    workers: list[Worker] = []

    def start(instance_id: str | None = None, port: int | None = None) -> Worker:
        log_path = tmp_path / f"worker-{len(workers)}.log"
        worker = Worker(pipeline, log_path, instance_id or f"w{len(workers)}", port)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


class Receiver:
    """gridwatch's reference webhook receiver, served from a thread on a free port."""

    def __init__(self, secret: bytes) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(secret,), daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            pytest.fail("the webhook receiver did not start")

    def _serve(self, secret: bytes) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(receiver_app(secret))
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self._runner = runner
        self._ready.set()
        self._loop.run_forever()

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery accepted so far (each delivery id once, with its attempt count)."""
        url = f"{self.url}/_deliveries"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            found: list[dict[str, Any]] = json.loads(response.read())
            return found

    def close(self) -> None:
        """Stop serving."""
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver standing in for every responder, signed with ``RECEIVER_SECRET``."""
    server = Receiver(RECEIVER_SECRET)
    yield server
    server.close()


RECEIVER_SECRET = b"integration-webhook-secret"
