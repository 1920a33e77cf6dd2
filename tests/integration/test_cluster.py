"""Replication on a three-node cluster: no acknowledged report is lost when a leader dies.

A worker runs against ``deploy/local/kafka-cluster.sh``'s three KRaft nodes with every topic at
replication factor 3 and ``min.insync.replicas=2``. An app publishes with ``acks=all``; midway
the leader of partition 0 of the reports topic is SIGKILLed. Every report the app saw
acknowledged must then be accepted exactly once, by a worker that kept running.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from schemas import accepted_report_adapter
from streams.admin import create_topics, topic_specs
from streams.sample import valid_report
from streams.settings import KafkaSettings, Settings, TopicNames
from streams.topic_reader import read_topic

from .conftest import ROOT, Pipeline, Worker, wait_for

pytestmark = pytest.mark.integration

SCRIPT = ROOT / "deploy/local/kafka-cluster.sh"
# Each run appends what the failover cost to a file beside the cluster's state.
CLUSTER_HOME = Path(
    os.environ.get("GRIDWATCH_KAFKA_CLUSTER_HOME") or Path.home() / ".cache/gridwatch/kafka-cluster"
)
CLUSTER = "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"
NODES = {1, 2, 3}
REPORTS = 3_000
KILL_AFTER_ACKS = 1_000
RATE_PER_SECOND = 100  # 30 s of traffic: the failover happens while the app publishes
CHUNK = 20


def _cluster(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _no_cluster(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true and no Kafka cluster: {reason}", pytrace=False)
    pytest.skip(f"no Kafka cluster ({reason}); run `make cluster-up`")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """The three-node cluster's bootstrap list; started here and stopped after the module.

    A cluster that was fully running before is left running.
    """
    was_running = _cluster("status").returncode == 0
    started = _cluster("up")
    if started.returncode != 0:
        _no_cluster(f"kafka-cluster.sh up failed:\n{started.stdout}\n{started.stderr}")
    yield CLUSTER
    if not was_running:
        _cluster("down")


class ClusterPipeline(Pipeline):
    """conftest's Pipeline on the cluster: the same topics, but with three replicas each."""

    def __init__(self, bootstrap: str, data_dir: Path) -> None:  # no super(): it creates RF 1
        run = uuid.uuid4().hex[:10]
        defaults = TopicNames().model_dump()
        self.settings = Settings(
            app_id=f"gw-cluster-{run}",
            kafka=KafkaSettings(bootstrap_servers=bootstrap, partitions=6, replication_factor=3),
            topics=TopicNames(**{field: f"c{run}.{name}" for field, name in defaults.items()}),
            data_dir=data_dir,
        )
        # The worker's own topics (Faust changelogs) take the app's topic_replication_factor.
        self.extra_env = {"GRID_KAFKA__REPLICATION_FACTOR": "3"}
        create_topics(self.settings)

    def admin(self) -> KafkaAdminClient:
        """An admin client on the cluster (the caller closes it)."""
        return KafkaAdminClient(bootstrap_servers=self.settings.kafka.bootstrap_list)

    def describe(self, topics: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
        """Topic → its partitions' metadata (leader_id, replica_nodes, isr_nodes)."""
        admin = self.admin()
        try:
            return {t["name"]: t["partitions"] for t in admin.describe_topics(topics)}
        finally:
            admin.close()

    def own_topics(self) -> list[str]:
        """Every topic of this run: the pipeline's and the worker's (Faust's ``app_id-…``)."""
        mine = {spec.name for spec in topic_specs(self.settings)}
        prefix = f"{self.settings.app_id}-"
        return sorted(t for t in self.describe() if t in mine or t.startswith(prefix))

    def delete_own_topics(self) -> None:
        """Drop this run's topics, so repeated runs do not pile partitions onto the cluster."""
        admin = self.admin()
        try:
            admin.delete_topics(self.own_topics(), raise_errors=False)
        finally:
            admin.close()


class LeaderWatch(threading.Thread):
    """Polls partition 0 of a topic until a node other than ``dead`` leads it."""

    def __init__(self, pipeline: ClusterPipeline, topic: str, dead: int) -> None:
        super().__init__(daemon=True)
        self.pipeline, self.topic, self.dead = pipeline, topic, dead
        self.started = time.monotonic()
        self.elapsed: float | None = None  # seconds from the kill to a new leader
        self.leader: int | None = None
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set() and self.elapsed is None:
            try:
                partition = partition_zero(self.pipeline, self.topic)
            except KafkaError:
                partition = {"leader_id": -1}
            if partition["leader_id"] not in (-1, self.dead):
                self.leader = partition["leader_id"]
                self.elapsed = time.monotonic() - self.started
            self._done.wait(0.5)

    def stop(self) -> None:
        """End the polling."""
        self._done.set()
        self.join(10)


class ClientWarnings(logging.Handler):
    """Collects kafka-python's warnings: lost connections, and each produce it retries."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def retries(self) -> list[str]:
        """The sender's "Got error produce response …, retrying" lines."""
        return [m for m in self.messages if "retrying" in m]


def quorum_leader() -> int | None:
    """The active controller, as ``kafka-cluster.sh status`` reports it (for the record)."""
    found = re.search(r"quorum_leader=(-?\d+)", _cluster("status", timeout=60).stdout)
    return int(found.group(1)) if found else None


def partition_zero(pipeline: ClusterPipeline, topic: str) -> dict[str, Any]:
    """Partition 0's metadata: leader_id, replica_nodes, isr_nodes."""
    partitions = pipeline.describe([topic])[topic]
    return next(p for p in partitions if p["partition_index"] == 0)


class Publisher:
    """An app publishing with acks=all and retries, recording every acknowledgement."""

    def __init__(self, pipeline: ClusterPipeline) -> None:
        self.topic = pipeline.settings.topics.reports
        self.producer = KafkaProducer(
            bootstrap_servers=pipeline.settings.kafka.bootstrap_list,
            acks="all",
            enable_idempotence=True,
            retries=2**31 - 1,  # bounded by delivery_timeout_ms, as in the Java client
            delivery_timeout_ms=120_000,
            linger_ms=5,
            client_id="gridwatch-cluster-test",
        )
        self.sent_at: dict[str, float] = {}
        self.acked: dict[str, float] = {}  # report_id → seconds from send to ack
        self.failed: dict[str, str] = {}  # report_id → error

    def send(self, report: dict[str, object]) -> None:
        """Send one report keyed by its id (the contract); the ack arrives later."""
        rid = str(report["report_id"])
        self.sent_at[rid] = time.monotonic()
        future = self.producer.send(self.topic, key=rid.encode(), value=json.dumps(report).encode())
        future.add_callback(self._ack, rid)
        future.add_errback(self._fail, rid)

    def _ack(self, rid: str, _metadata: object) -> None:
        self.acked[rid] = time.monotonic() - self.sent_at[rid]

    def _fail(self, rid: str, error: BaseException) -> None:
        self.failed[rid] = repr(error)

    def close(self) -> None:
        """Wait for every outstanding acknowledgement, then close."""
        self.producer.flush(timeout=150)
        self.producer.close(timeout=10)


def record_failover(summary: dict[str, object]) -> None:
    """Print what the failover cost and append it to ``failover-runs.jsonl`` (for the record)."""
    line = json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **summary})
    print(f"failover: {line}")
    with (CLUSTER_HOME / "failover-runs.jsonl").open("a") as runs:
        runs.write(line + "\n")


def accepted_ids(pipeline: ClusterPipeline) -> Counter[str]:
    s = pipeline.settings
    return Counter(
        accepted_report_adapter.validate_json(r.value).report_id
        for r in read_topic(s.kafka.bootstrap_list, s.topics.accepted, idle_timeout_ms=5000)
    )


def publish_and_kill_leader(
    pipeline: ClusterPipeline, reports: list[dict[str, object]], record: dict[str, object]
) -> tuple[Publisher, int, LeaderWatch]:
    """Publish at a steady rate; SIGKILL partition 0's leader after ~1,000 acks."""
    publisher, killed, watch = Publisher(pipeline), 0, None
    topic = pipeline.settings.topics.reports
    began = time.monotonic()
    try:
        for start in range(0, len(reports), CHUNK):
            for report in reports[start : start + CHUNK]:
                publisher.send(report)
            if not killed and len(publisher.acked) >= KILL_AFTER_ACKS:
                killed = partition_zero(pipeline, topic)["leader_id"]
                record["quorum_leader_before_kill"] = quorum_leader()
                record["killed_node"] = killed  # set first: the test restarts it whatever happens
                result = _cluster("kill", str(killed))
                assert result.returncode == 0, f"kill {killed}: {result.stdout}{result.stderr}"
                watch = LeaderWatch(pipeline, topic, killed)
                watch.start()
            time.sleep(max(0.0, began + (start + CHUNK) / RATE_PER_SECOND - time.monotonic()))
    finally:
        publisher.close()
    assert watch is not None, f"only {len(publisher.acked)} acks: the leader was never killed"
    return publisher, killed, watch


def test_acknowledged_reports_survive_a_leader_kill(cluster: str, tmp_path: Path) -> None:
    pipeline = ClusterPipeline(cluster, tmp_path / "worker-data")
    s = pipeline.settings
    worker = Worker(pipeline, tmp_path / "worker.log", "cluster-w0")
    warnings = ClientWarnings()
    logging.getLogger("kafka").addHandler(warnings)
    summary: dict[str, object] = {}
    restarted = False
    try:
        worker.wait_ready(120)
        rng = random.Random(2024)
        run = s.app_id.rsplit("-", 1)[1]
        reports = [valid_report(rng, i, prefix=f"cl{run}") for i in range(REPORTS)]
        publisher, killed, watch = publish_and_kill_leader(pipeline, reports, summary)
        watch.stop()
        acked = set(publisher.acked)
        summary |= {
            "new_leader": watch.leader,
            "seconds_to_new_leader_p0": watch.elapsed and round(watch.elapsed, 1),
            "acked": len(acked),
            "failed": len(publisher.failed),
            "max_ack_seconds": round(max(publisher.acked.values(), default=0.0), 1),
            "acks_over_1s": sum(1 for v in publisher.acked.values() if v > 1),
            "client_warnings": len(warnings.messages),
            "produce_retries": len(warnings.retries()),
            "first_retries": warnings.retries()[:3],
        }

        def where() -> str:
            return f"{summary}\n{pipeline.progress()}\n{worker.log_tail()}"

        # Generous limits: they only bound a failure; a shared 2-core machine is slow at times.
        wait_for(
            lambda: worker.metric("grid_reports_accepted_total") >= len(acked),
            120,
            worker._died,
            describe=where,
        )
        # Counted is not yet written: a partition whose leader is being elected holds its
        # records in the producer for seconds after the count. Read until all are there.
        deadline = time.monotonic() + 60
        ids = accepted_ids(pipeline)
        while not acked <= set(ids) and time.monotonic() < deadline:
            ids = accepted_ids(pipeline)
        summary |= {"accepted": len(ids), "accepted_twice": sum(n > 1 for n in ids.values())}
        record_failover(summary)

        assert publisher.failed == {}, f"sends failed: {list(publisher.failed.items())[:5]}"
        lost = acked - set(ids)
        assert not lost, f"{len(lost)} acknowledged reports never accepted: {sorted(lost)[:5]}"
        twice = {rid: n for rid, n in ids.items() if n > 1}
        assert twice == {}, f"{len(twice)} reports accepted more than once"
        assert set(ids) <= {str(r["report_id"]) for r in reports}
        assert worker.process.poll() is None, f"the worker died:\n{worker.log_tail()}"
        assert worker.metric("grid_reports_accepted_total") == len(ids)

        # Every partition of the reports topic is led by a survivor with two in-sync replicas.
        for partition in pipeline.describe([s.topics.reports])[s.topics.reports]:
            assert partition["leader_id"] in NODES - {killed}, partition
            assert len(partition["isr_nodes"]) >= 2, partition
        assert watch.leader in NODES - {killed}
        # The worker's own topics (changelogs, Faust's leader topic) are replicated as well.
        replicas = {
            name: {len(p["replica_nodes"]) for p in partitions}
            for name, partitions in pipeline.describe(pipeline.own_topics()).items()
        }
        assert any(name.endswith("-changelog") for name in replicas), replicas
        assert all(counts == {3} for counts in replicas.values()), replicas
        offsets = pipeline.describe(["__consumer_offsets"])["__consumer_offsets"]
        assert {len(p["replica_nodes"]) for p in offsets} == {3}

        restart = _cluster("start", str(killed))
        restarted = True
        assert restart.returncode == 0, f"node {killed} did not come back:\n{restart.stderr}"
    finally:
        logging.getLogger("kafka").removeHandler(warnings)
        worker.stop()
        if "killed_node" in summary and not restarted:
            _cluster("start", str(summary["killed_node"]))
        try:
            pipeline.delete_own_topics()
        except KafkaError as error:  # cleanup only: never hide the test's own failure
            print(f"could not delete this run's topics: {error!r}")
