"""gridwatch against a broker that only speaks SASL_SSL (SCRAM-SHA-512 over TLS).

The broker is deploy/local/kafka-secure.sh's (port 9192, its own CA and SCRAM users),
started for the session and stopped at its end when this session started it. It shows that
a client without the right credentials is refused, and that a real worker configured with
GRID_KAFKA__* connects, processes a report end to end, and never shows a secret in its log
or on /metrics.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from streams.publish import publish_lines
from streams.settings import KafkaSettings, Settings, TopicNames
from streams.topic_reader import read_topic

from .conftest import ROOT, Receiver, wait_for

pytestmark = pytest.mark.integration

SECURE_SH = ROOT / "deploy/local/kafka-secure.sh"
SECURE_HOME = Path(
    os.environ.get("GRIDWATCH_KAFKA_SECURE_HOME")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gridwatch/kafka-secure"
)
FRAUD_TEXT = "独居老人手机被远程控制，骗子冒充银行客服，正在往安全账户转账"
# Distinctive values, so that finding one in the worker's output cannot be a coincidence.
WEBHOOK_SECRET = "whsec-" + uuid.uuid4().hex
API_TOKEN = "apitok-" + uuid.uuid4().hex
PII_KEY = Fernet.generate_key().decode()
# Refused clients should fail fast, not after kafka-python's 30 s default.
FAST_FAIL = {"bootstrap_timeout_ms": 3000, "request_timeout_ms": 3000}


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SECURE_SH), *args], capture_output=True, text=True, timeout=180, check=False
    )


def _no_broker(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true and no secure Kafka broker: {reason}", pytrace=False)
    pytest.skip(f"no secure Kafka broker ({reason}); run `deploy/local/kafka-secure.sh up`")


def _settings_from(env_lines: str) -> KafkaSettings:
    """KafkaSettings from ``kafka-secure.sh env`` (``export GRID_KAFKA__X=value`` lines)."""
    values = {}
    for line in env_lines.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        values[name.removeprefix("GRID_KAFKA__").lower()] = value
    return KafkaSettings.model_validate(values)


@pytest.fixture(scope="session")
def secure_kafka() -> Iterator[KafkaSettings]:
    """The secure broker's client settings; the broker is stopped after the session."""
    already = _script("status").returncode == 0
    up = _script("up")
    if up.returncode != 0:
        _no_broker(f"kafka-secure.sh up failed:\n{up.stdout}\n{up.stderr}")
    env = _script("env")
    if env.returncode != 0:
        _no_broker(f"kafka-secure.sh env failed: {env.stderr}")
    yield _settings_from(env.stdout)
    if not already:  # leave a broker someone else started alone
        _script("down")


def _refused(**options: Any) -> KafkaError:
    started = time.monotonic()
    with pytest.raises(KafkaError) as raised:
        admin = KafkaAdminClient(**options, **FAST_FAIL)
        try:
            admin.list_topics()
        finally:
            admin.close()
    assert time.monotonic() - started < 20
    return raised.value


def test_clients_without_the_right_credentials_are_refused(secure_kafka):
    options = secure_kafka.client_options()
    _refused(bootstrap_servers=options["bootstrap_servers"])  # plaintext on a TLS port
    tls_only = {**options, "security_protocol": "SSL"}  # TLS, but no SASL
    for name in ("sasl_mechanism", "sasl_plain_username", "sasl_plain_password"):
        tls_only.pop(name)
    _refused(**tls_only)

    log = SECURE_HOME / "logs/server.log"
    before = log.read_text(errors="replace").count("due to invalid credentials")
    _refused(**{**options, "sasl_plain_password": "not-the-password"})
    after = log.read_text(errors="replace").count("due to invalid credentials")
    assert after > before, "the broker should log the failed SCRAM authentication"

    admin = KafkaAdminClient(**options, **FAST_FAIL)  # the same options, right password
    try:
        assert isinstance(admin.list_topics(), list)
    finally:
        admin.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker_env(settings: Settings, port: int, receiver: Receiver) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRID_")}
    env |= settings.kafka.env()
    env |= {f"GRID_TOPICS__{field.upper()}": name for field, name in settings.topics}
    return env | {
        "GRID_APP_ID": settings.app_id,
        "GRID_DATA_DIR": str(settings.data_dir),
        "GRID_WEB_PORT": str(port),
        "GRID_INSTANCE_ID": "secure-w0",
        "GRID_LOG_LEVEL": "info",
        "GRID_STORE": "rocksdb://",
        "GRID_ESCALATION__WEBHOOK_BASE_URL": receiver.url,
        "GRID_ESCALATION__WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GRID_ESCALATION__API_TOKEN": API_TOKEN,
        "GRID_ESCALATION__PII_KEY": PII_KEY,
    }


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


@pytest.fixture
def secure_settings(secure_kafka: KafkaSettings, tmp_path: Path) -> Iterator[Settings]:
    """Settings of one run: its own topics and group, deleted afterwards (best effort)."""
    run = uuid.uuid4().hex[:8]
    topics = {field: f"s{run}.{name}" for field, name in TopicNames().model_dump().items()}
    settings = Settings(
        app_id=f"gw-secure-{run}",
        kafka=secure_kafka.model_copy(update={"partitions": 2}),
        topics=TopicNames(**topics),
        data_dir=tmp_path / "worker-data",
    )
    yield settings
    admin = KafkaAdminClient(**settings.kafka.client_options(), **FAST_FAIL)
    try:
        mine = [t for t in admin.list_topics() if t.startswith((settings.app_id, f"s{run}."))]
        if mine:
            admin.delete_topics(mine)
    except KafkaError:
        pass  # cleanup must not fail a test that passed
    finally:
        admin.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(WEBHOOK_SECRET.encode())
    yield server
    server.close()


def test_a_worker_with_credentials_works_end_to_end_and_leaks_no_secret(
    secure_settings, receiver, report_factory, tmp_path
):
    port = _free_port()
    env = _worker_env(secure_settings, port, receiver)
    created = subprocess.run(
        [sys.executable, "-m", "streams.cli", "topics", "create"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    assert f"created  {secure_settings.topics.reports}" in created.stdout

    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    metrics_url = f"http://127.0.0.1:{port}/metrics"

    def died() -> str | None:
        if worker.poll() is None:
            return None
        return f"worker exited {worker.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}"

    try:
        wait_for(lambda: _get(metrics_url)[0] == 200, 60, died)
        report = report_factory(report_id="secure-1", text=FRAUD_TEXT, address="翠柏里5幢301")
        summary = publish_lines(secure_settings, [json.dumps(report).encode()], progress=False)
        assert (summary.sent, summary.failed) == (1, 0)

        def finding_of_report() -> bool:
            records = read_topic(
                secure_settings.kafka, secure_settings.topics.findings, idle_timeout_ms=1000
            )
            return any(json.loads(r.value)["report_id"] == "secure-1" for r in records)

        wait_for(finding_of_report, 45, died, interval=1)
        # A delivery the receiver accepted was signed with the webhook secret.
        wait_for(lambda: bool(receiver.deliveries()), 30, died)
        escalation_id = receiver.deliveries()[0]["payload"]["escalation_id"]
        escalation_url = f"http://127.0.0.1:{port}/escalations/{escalation_id}"
        wait_for(lambda: _get(escalation_url, API_TOKEN)[0] == 200, 15, died)
        assert _get(escalation_url, "wrong-token")[0] == 401
        status, metrics = _get(metrics_url)
        assert status == 200
        assert "grid_reports_received_total 1.0" in metrics
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)

    output = log_path.read_text(errors="replace")
    assert "Worker]: Ready" in output  # the log is the worker's, at info level
    secrets = {
        "Kafka password": secure_settings.kafka.env()["GRID_KAFKA__SASL_PASSWORD"],
        "webhook secret": WEBHOOK_SECRET,
        "API token": API_TOKEN,
        "PII key": PII_KEY,
    }
    for what, secret in secrets.items():
        assert secret not in output, f"the {what} is in the worker's log"
        assert secret not in metrics, f"the {what} is on /metrics"
