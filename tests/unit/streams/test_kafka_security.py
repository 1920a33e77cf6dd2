"""Kafka security settings: what is refused, and what every client is given.

The broker side (a client without credentials refused, the worker end to end over SASL_SSL)
is tests/integration/test_secure_broker.py.
"""

from __future__ import annotations

import ast
import datetime as dt
import ssl
from pathlib import Path

import faust
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from faust.types.auth import SASLMechanism
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient
from pydantic import ValidationError

from streams.app import create_app
from streams.errors import ConfigError
from streams.settings import KafkaSettings, Settings, kafka_client_options

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "unit-test-scram-password-7f3a"  # noqa: S105 - not a real secret

# Client constructions that do not take client_options() yet: benchmark and simulation
# code written alongside this change, which takes a bare bootstrap string and runs against
# the local plaintext broker only. Module prefixes, or "module:function".
NOT_YET = {
    "streams/bench_peers/",
    "streams/benchkit.py:create_compacted_topic",
    "streams/benchkit.py:delete_topics_of",
    "streams/bench_pipeline.py:publish_mixed_backlog",
    "streams/simulate/",
}


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    """A self-signed CA certificate in PEM, as a broker's CA file would be."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture
def secure_env(monkeypatch: pytest.MonkeyPatch, ca_file: Path, tmp_path: Path) -> None:
    """GRID_KAFKA__* for SCRAM over TLS, as a deployment sets them."""
    monkeypatch.setenv("GRID_KAFKA__BOOTSTRAP_SERVERS", "b1:9096,b2:9096")
    monkeypatch.setenv("GRID_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("GRID_KAFKA__SASL_USERNAME", "gridwatch")
    monkeypatch.setenv("GRID_KAFKA__SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("GRID_KAFKA__SSL_CAFILE", str(ca_file))
    monkeypatch.setenv("GRID_DATA_DIR", str(tmp_path / "data"))


def test_defaults_are_plaintext_for_the_local_broker():
    kafka = KafkaSettings()
    assert kafka.security_protocol == "PLAINTEXT"
    assert kafka.client_options() == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "PLAINTEXT",
        "ssl_context": None,
    }
    assert kafka.faust_credentials() is None


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, ["GRID_KAFKA__SASL_USERNAME", "GRID_KAFKA__SASL_PASSWORD"]),
        ({"GRID_KAFKA__SASL_USERNAME": "gridwatch"}, ["GRID_KAFKA__SASL_PASSWORD"]),
        ({"GRID_KAFKA__SASL_PASSWORD": PASSWORD}, ["GRID_KAFKA__SASL_USERNAME"]),
        ({"GRID_KAFKA__SASL_USERNAME": "u", "GRID_KAFKA__SASL_PASSWORD": ""}, ["PASSWORD"]),
    ],
)
def test_sasl_ssl_without_credentials_names_the_variables(monkeypatch, env, names):
    monkeypatch.setenv("GRID_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    for name in names:
        assert name in str(raised.value)


def test_credentials_without_sasl_ssl_are_refused_not_ignored(monkeypatch):
    monkeypatch.setenv("GRID_KAFKA__SASL_USERNAME", "gridwatch")
    monkeypatch.setenv("GRID_KAFKA__SASL_PASSWORD", PASSWORD)
    with pytest.raises(ValidationError, match="GRID_KAFKA__SECURITY_PROTOCOL is PLAINTEXT"):
        Settings()


def test_a_ca_file_needs_tls_and_must_exist_when_used(monkeypatch, ca_file, tmp_path):
    monkeypatch.setenv("GRID_KAFKA__SSL_CAFILE", str(ca_file))
    with pytest.raises(ValidationError, match="SSL_CAFILE is set but .* PLAINTEXT"):
        Settings()
    monkeypatch.setenv("GRID_KAFKA__SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("GRID_KAFKA__SSL_CAFILE", str(tmp_path / "missing.crt"))
    kafka = Settings().kafka  # mounted in the pod only: checked when a client is made
    with pytest.raises(ConfigError, match="missing.crt: no such file"):
        kafka.client_options()


def test_unknown_protocol_and_mechanism_are_refused():
    with pytest.raises(ValidationError):
        KafkaSettings.model_validate({"security_protocol": "SASL_PLAINTEXT"})
    with pytest.raises(ValidationError):
        KafkaSettings.model_validate({"sasl_mechanism": "PLAIN"})


@pytest.mark.usefixtures("secure_env")
def test_client_options_carry_tls_and_scram():
    options = Settings().kafka.client_options()
    assert options["bootstrap_servers"] == ["b1:9096", "b2:9096"]
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "gridwatch",
        PASSWORD,
    )
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "test CA"),),)]


@pytest.mark.usefixtures("secure_env")
@pytest.mark.parametrize("client", [KafkaConsumer, KafkaProducer, KafkaAdminClient])
def test_kafka_python_clients_know_every_option(client):
    assert set(Settings().kafka.client_options()) <= set(client.DEFAULT_CONFIG)


@pytest.mark.usefixtures("secure_env")
def test_aiokafka_gets_the_same_connection_from_faust_credentials():
    kafka = Settings().kafka
    credentials = kafka.faust_credentials()
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.mechanism is SASLMechanism.SCRAM_SHA_512
    auth = credentials_to_aiokafka_auth(credentials)
    direct = kafka.client_options()
    assert auth["security_protocol"] == direct["security_protocol"] == "SASL_SSL"
    for name in ("sasl_mechanism", "sasl_plain_username", "sasl_plain_password"):
        assert auth[name] == direct[name]
    assert auth["ssl_context"].verify_mode == ssl.CERT_REQUIRED


def test_tls_without_sasl_gives_ssl_credentials(ca_file):
    kafka = KafkaSettings(security_protocol="SSL", ssl_cafile=ca_file, ssl_check_hostname=False)
    credentials = kafka.faust_credentials()
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.context.check_hostname is False
    assert "sasl_mechanism" not in kafka.client_options()


@pytest.mark.usefixtures("secure_env")
def test_create_app_passes_the_credentials_to_faust():
    settings = Settings()
    app = create_app(settings)
    credentials = app.conf.broker_credentials
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password) == ("gridwatch", PASSWORD)
    assert str(app.conf.broker[0]) == "kafka://b1:9096"


@pytest.mark.usefixtures("secure_env")
def test_the_password_stays_out_of_reprs_and_dumps():
    settings = Settings()
    for text in (repr(settings), str(settings.kafka), settings.model_dump_json()):
        assert PASSWORD not in text
    assert PASSWORD not in repr(settings.kafka.faust_credentials())


@pytest.mark.usefixtures("secure_env")
def test_env_hands_the_same_settings_to_a_child_process(monkeypatch):
    kafka = Settings().kafka
    env = kafka.env()
    assert env["GRID_KAFKA__SASL_PASSWORD"] == PASSWORD
    for name in list(env):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings().kafka == kafka


def test_a_bare_broker_list_means_plaintext():
    assert kafka_client_options(["h:1"]) == {"bootstrap_servers": ["h:1"]}
    kafka = KafkaSettings(bootstrap_servers="h:1")
    assert kafka_client_options(kafka) == kafka.client_options()


def test_min_insync_replicas_never_exceeds_the_replicas():
    assert KafkaSettings(replication_factor=3).topic_min_insync_replicas == 2
    assert KafkaSettings(replication_factor=1).topic_min_insync_replicas == 1
    assert KafkaSettings(replication_factor=5, min_insync_replicas=3).topic_min_insync_replicas == 3


_CLIENTS = {"KafkaConsumer", "KafkaProducer", "KafkaAdminClient"}
_CLIENTS |= {"AIOKafkaConsumer", "AIOKafkaProducer", "AIOKafkaAdminClient", "AIOKafkaClient"}


def _spread_arguments(source: str, call: ast.Call) -> str:
    """The source of a call's ``**`` arguments."""
    spread = [k.value for k in call.keywords if k.arg is None]
    return " ".join(ast.get_source_segment(source, value) or "" for value in spread)


def _client_calls() -> list[tuple[str, int, str]]:
    """(where, line, source of the ** arguments) of every Kafka client made in streams/."""
    found = []
    for path in sorted((ROOT / "streams").rglob("*.py")):
        module = str(path.relative_to(ROOT))
        source = path.read_text()
        for function in ast.walk(ast.parse(source)):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            where = f"{module}:{function.name}"
            if any(where.startswith(prefix) for prefix in NOT_YET):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in _CLIENTS:
                    found.append((where, node.lineno, _spread_arguments(source, node)))
    return found


def test_every_kafka_client_in_streams_takes_the_client_options():
    calls = _client_calls()
    assert len(calls) >= 10  # the scan finds them (admin, publish, readers, responder, ...)
    missing = [f"{where}@{line}" for where, line, kwargs in calls if "client_options" not in kwargs]
    assert missing == [], "connect with **settings.kafka.client_options()"
