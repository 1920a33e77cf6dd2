"""A real Prometheus scrapes a real worker: what it sums per district is what grid.findings holds.

Prometheus is Debian's build, unpacked by deploy/local/prometheus.sh (fetched if missing).
Without it this skips with the reason; with CI=true it fails instead.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from schemas import findings_event_adapter
from streams.publish import publish_lines
from streams.sample import make_sample
from streams.topic_reader import read_topic
from tests.unit.deploy.prometheus_tools import DEPLOY_PROMETHEUS, ROOT, bin_dir

from .conftest import Pipeline, Worker, wait_for

pytestmark = pytest.mark.integration

REPORTS = 300
DASHBOARD = ROOT / "deploy/grafana/dashboards/command-center.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Prometheus:
    """A Prometheus server in a temp dir, scraping the given ports every second."""

    def __init__(self, tmp: Path, scrape_ports: list[int]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            # the real alert rules, so that the server also shows they load and evaluate
            "rule_files": [str(DEPLOY_PROMETHEUS / "alerts.yml")],
            "scrape_configs": [
                {
                    "job_name": "gridwatch",
                    "scrape_interval": "1s",
                    "scrape_timeout": "1s",
                    "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in scrape_ports]}],
                }
            ],
        }
        (tmp / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        self.log_path = tmp / "prometheus.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                str(bin_dir() / "prometheus"),
                f"--config.file={tmp / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            cwd=tmp,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def get(self, path: str, **params: str) -> Any:
        """GET an API path; the decoded ``data`` of a success, else a failed test."""
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's vector result."""
        result: list[dict[str, Any]] = self.get("/api/v1/query", query=expr)["result"]
        return result

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except OSError:
            return False

    def died(self) -> str | None:
        if self.process.poll() is None:
            return None
        return f"prometheus exited {self.process.returncode}:\n{self.log_tail()}"

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
def start_prometheus(tmp_path: Path) -> Iterator[Callable[[list[int]], Prometheus]]:
    """Start Prometheus servers scraping given ports; each is stopped after the test."""
    servers: list[Prometheus] = []

    def start(scrape_ports: list[int]) -> Prometheus:
        home = tmp_path / f"prometheus-{len(servers)}"
        home.mkdir()
        server = Prometheus(home, scrape_ports)
        servers.append(server)
        wait_for(server.ready, 60, server.died)
        return server

    yield start
    for server in servers:
        server.stop()


def findings_by_district(pipeline: Pipeline) -> Counter[str]:
    s = pipeline.settings
    events = [
        findings_event_adapter.validate_json(r.value)
        for r in read_topic(s.kafka.bootstrap_list, s.topics.findings, idle_timeout_ms=2000)
    ]
    assert len(events) == REPORTS, "one findings event per report"
    return Counter(e.district for e in events for _ in e.findings)


def scraped_by_district(prometheus: Prometheus) -> dict[str, float]:
    rows = prometheus.query("sum by (district) (grid_findings_total)")
    return {row["metric"]["district"]: float(row["value"][1]) for row in rows}


def test_prometheus_sums_findings_per_district(pipeline, start_worker, start_prometheus):
    bin_dir()  # skip (or fail in CI) before starting anything when there is no Prometheus
    worker: Worker = start_worker()
    sample = make_sample(REPORTS, 0, 0, seed=23, prefix="prom")
    summary = publish_lines(pipeline.settings, sample.lines(random.Random(23)), progress=False)
    assert (summary.sent, summary.failed) == (REPORTS, 0)

    s = pipeline.settings
    wait_for(lambda: worker.metric_sum("grid_reports_triaged_total") >= REPORTS, 180, worker._died)
    wait_for(lambda: sum(pipeline.end_offsets(s.topics.findings).values()) >= REPORTS, 60)
    expected = findings_by_district(pipeline)
    assert len(expected) >= 5 and sum(expected.values()) > 50, "the sample spans districts"
    assert worker.metric_sum("grid_findings_total") == sum(expected.values())

    prometheus = start_prometheus([worker.port])
    up = 'up{job="gridwatch"} == 1'
    wait_for(lambda: bool(prometheus.query(up)), 60, prometheus.died)
    wait_for(
        lambda: scraped_by_district(prometheus) == dict(expected),
        30,
        prometheus.died,
        describe=lambda: f"scraped {scraped_by_district(prometheus)} != {dict(expected)}",
    )
    assert scraped_by_district(prometheus) == {d: float(n) for d, n in expected.items()}

    # The exposition itself passes promtool's lint (names, units, help texts).
    checked = subprocess.run(  # noqa: S603 - our own promtool on our own worker's text
        [str(bin_dir() / "promtool"), "check", "metrics"],
        input=worker.metrics(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def dashboard_exprs() -> list[str]:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [t["expr"] for p in board["panels"] for t in p.get("targets", [])]


def test_alerts_load_and_dashboard_queries_parse(start_prometheus):
    """The real server loads alerts.yml and accepts every dashboard expression."""
    prometheus = start_prometheus([free_port()])  # nothing listens there: WorkerDown pends
    wait_for(lambda: bool(prometheus.query('up{job="gridwatch"} == 0')), 30, prometheus.died)

    def rules() -> dict[str, str]:
        groups = prometheus.get("/api/v1/rules")["groups"]
        return {r["name"]: r["health"] for g in groups for r in g["rules"]}

    names = {"FraudEscalationUnacknowledged", "DeadLetterSpike", "ConsumerLagGrowing", "WorkerDown"}
    wait_for(
        lambda: rules() == dict.fromkeys(names, "ok"),
        30,
        prometheus.died,
        describe=lambda: str(rules()),
    )
    grafana = {"$__rate_interval": "1m", "$__range": "5m"}
    for expr in dashboard_exprs():
        for variable, value in grafana.items():
            expr = expr.replace(variable, value)
        prometheus.query(expr)  # a parse error fails in get()
