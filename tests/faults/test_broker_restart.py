"""Restart the broker under a running worker: it recovers by itself and loses nothing.

Runs its own single-node broker on a free port (deploy/local/kafka.sh with its own
GRIDWATCH_KAFKA_HOME, the jars shared with the local broker's), never the shared one.

Proves: a worker that sees its only broker stop (controlled shutdown) and come back after a
few seconds reconnects without being restarted; every valid report published before, during
the outage's aftermath and after is accepted and triaged once, every bad payload
dead-lettered, and /counters equal to the counts computed here.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT, Pipeline, wait_for

from .conftest import Stopwatch, check_exact, ci, first_start, total, traffic, wait_processed

pytestmark = [pytest.mark.integration, pytest.mark.faults]

KAFKA_SH = ROOT / "deploy/local/kafka.sh"
VALID = 20_000
DOWN_SECONDS = 8


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _ephemeral_start() -> int:
    """The lowest port the kernel hands to outgoing connections (32768 if unknown)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _free_port_pair() -> int:
    """Two free consecutive ports below the ephemeral range (the controller is on port + 1).

    Below it, no client's outgoing connection can take either port while the broker is down
    (one did, in CI: "Socket server failed to bind ... Address already in use"), and a client
    retrying a connection to the stopped broker cannot connect to itself.
    """
    rng = random.Random()
    top = max(_ephemeral_start() - 2, 10_002)
    for _ in range(200):
        port = rng.randrange(10_000, top)
        if _bindable(port) and _bindable(port + 1):
            return port
    pytest.fail("no two free consecutive ports on 127.0.0.1 below the ephemeral range")


class OwnBroker:
    """A broker of this test only: started, restarted and stopped with kafka.sh."""

    def __init__(self, home: Path) -> None:
        shared = os.environ.get("GRIDWATCH_KAFKA_HOME") or str(
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gridwatch/kafka"
        )
        self.port = _free_port_pair()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_KAFKA")}
        # The jars: fetched once into the shared home (a no-op when there), then linked.
        self.run("fetch", {"GRIDWATCH_KAFKA_HOME": shared})
        home.mkdir(parents=True, exist_ok=True)
        (home / "lib").symlink_to(Path(shared) / "lib")
        self.env |= {
            "GRIDWATCH_KAFKA_HOME": str(home),
            "GRIDWATCH_KAFKA_PORT": str(self.port),
            "GRIDWATCH_KAFKA_HEAP": "512m",
        }

    def run(self, command: str, env: dict[str, str] | None = None) -> None:
        """kafka.sh ``command``; a failure fails the test in CI, skips it outside."""
        done = subprocess.run(
            ["bash", str(KAFKA_SH), command],
            env=self.env | (env or {}),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            reason = f"kafka.sh {command} failed:\n{done.stdout}\n{done.stderr}"
            if ci():
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason)

    def up(self) -> None:
        """Start (or start again, on the same data) and wait until it serves."""
        self.run("up")

    def down(self) -> None:
        """Controlled shutdown (SIGTERM, SIGKILL after 30 s)."""
        self.run("down")


@pytest.fixture
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnBroker]:
    """This test's broker; stopped (only it) afterwards."""
    own = OwnBroker(tmp_path_factory.mktemp("kafka-home"))
    own.up()
    yield own
    own.down()


@pytest.fixture
def pipeline(own_broker: OwnBroker, tmp_path: Path) -> Pipeline:
    """The pipeline on this test's broker (start_worker's workers use it)."""
    return Pipeline(own_broker.bootstrap, tmp_path / "worker-data")  # the broker goes with it


def test_broker_restart_mid_stream(own_broker, pipeline, start_worker, truth, publisher):
    clock = Stopwatch()
    s = pipeline.settings
    warm = first_start(pipeline, start_worker)
    payloads = traffic(VALID, 400, 1_500, seed=202, prefix="brk")
    before, after = payloads[: len(payloads) * 3 // 5], payloads[len(payloads) * 3 // 5 :]
    publisher.send(before)
    clock.lap(f"published {truth.published} before the restart")

    worker = start_worker(warm.instance_id, warm.port)
    wait_for(lambda: total(pipeline, s.topics.findings) >= VALID // 5, 180, worker._died, 0.2)
    own_broker.down()
    clock.lap("broker stopped")
    time.sleep(DOWN_SECONDS)
    assert worker.process.poll() is None, f"the worker died with the broker:\n{worker.log_tail()}"
    own_broker.up()
    clock.lap("broker up again")

    publisher.send(after)
    clock.lap(f"published {truth.published} in all")
    wait_processed(pipeline, truth, worker, timeout=300)
    clock.lap("the same worker processed everything")
    check_exact(pipeline, truth, worker, dlq_exact=True)
    clock.lap("checked")
