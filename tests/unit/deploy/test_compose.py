"""deploy/compose/ and deploy/docker/: the compose stack holds together without a Docker engine.

compose.yaml is read with PyYAML (anchors and merge keys resolved as compose resolves them)
and checked against itself (the KRaft quorum, startup order, volumes), against gridwatch's
settings (every GRID_* name is a real setting and ``Settings`` accepts the values, with the
secrets taken from .env.example) and against deploy/prometheus and deploy/grafana (what is
scraped, where the dashboards are mounted).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values
from pydantic import BaseModel

from streams.settings import FAUST_OVERRIDE_VARS, Settings

from .prometheus_tools import bin_dir

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_DIR = ROOT / "deploy/compose"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"
DOCKERFILE = ROOT / "deploy/docker/Dockerfile"
GRAFANA_PROVIDER = ROOT / "deploy/grafana/provisioning/dashboards/gridwatch.yml"
GRAFANA_DATASOURCE = ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml"

# ---- helpers shared with test_k8s.py --------------------------------------------------------

_FAUST_NAME = re.compile(
    r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, FAUST_OVERRIDE_VARS)) + r")(?![A-Za-z0-9_])"
)


def strings_in(node: Any) -> Iterator[str]:
    """Every string in a parsed YAML document, keys included (comments are not parsed)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from strings_in(key)
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)


def faust_names_in(node: Any) -> set[str]:
    """Faust's own variable names used anywhere in a document, as whole words."""
    return {match for text in strings_in(node) for match in _FAUST_NAME.findall(text)}


def is_setting(name: str) -> bool:
    """Whether ``GRID_A__B`` names a field of ``Settings`` (pydantic ignores unknown ones)."""
    if not name.startswith("GRID_"):
        return False
    model: type[BaseModel] = Settings
    *parents, leaf = name.removeprefix("GRID_").lower().split("__")
    for part in parents:
        field = model.model_fields.get(part)
        annotation = None if field is None else field.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return False
        model = annotation
    return leaf in model.model_fields


def settings_from(env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """``Settings`` built from exactly these GRID_* variables; every name must be a setting."""
    unknown = sorted(name for name in env if not is_setting(name))
    assert not unknown, f"not gridwatch settings (streams/settings.py): {unknown}"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


# ---- compose.yaml ---------------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return data


COMPOSE = load_compose()
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def env_example() -> dict[str, str]:
    return {k: v for k, v in dotenv_values(ENV_EXAMPLE, interpolate=False).items() if v is not None}


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}`` against ``env``."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        assert op in (":-", "-"), f"${{{name}}} is required but .env.example does not set it"
        return str(arg)

    return _INTERPOLATION.sub(one, value)


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as strings, in either of compose's two forms."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    """``depends_on`` as service -> condition (the list form means service_started)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def mounts(service: Mapping[str, Any]) -> dict[str, str]:
    """Container path -> source (named volume, or host path resolved from compose.yaml's dir)."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            source = str((COMPOSE_DIR / source).resolve())
        found[target] = source
    return found


def brokers() -> dict[str, dict[str, Any]]:
    return {
        n: s for n, s in SERVICES.items() if str(s.get("image", "")).startswith("apache/kafka:")
    }


def gridwatch_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in SERVICES.items() if "build" in s}


def workers() -> dict[str, dict[str, Any]]:
    return {
        n: s for n, s in gridwatch_services().items() if s.get("command", ["worker"]) == ["worker"]
    }


def broker_env(name: str) -> dict[str, str]:
    return environment(SERVICES[name])


def listener_port(listeners: str, name: str) -> int:
    ports = [int(u.rsplit(":", 1)[1]) for u in listeners.split(",") if u.startswith(f"{name}://")]
    assert len(ports) == 1, f"{name} listener in {listeners!r}"
    return ports[0]


# ---- Kafka ----------------------------------------------------------------------------------


def test_three_brokers_with_distinct_node_ids():
    assert set(brokers()) == {"kafka-1", "kafka-2", "kafka-3"}
    ids = [broker_env(n)["KAFKA_NODE_ID"] for n in brokers()]
    assert sorted(ids) == ["1", "2", "3"]
    for name, service in brokers().items():
        assert service["image"] == "apache/kafka:4.1.0"
        assert broker_env(name)["KAFKA_PROCESS_ROLES"] == "broker,controller"  # combined mode


def test_every_broker_has_the_same_voters_and_is_one_of_them():
    voters = {broker_env(n)["KAFKA_CONTROLLER_QUORUM_VOTERS"] for n in brokers()}
    assert len(voters) == 1, voters
    expected = set()
    for name, service in brokers().items():
        env = broker_env(name)
        port = listener_port(env["KAFKA_LISTENERS"], env["KAFKA_CONTROLLER_LISTENER_NAMES"])
        assert service.get("hostname", name) == name
        expected.add(f"{env['KAFKA_NODE_ID']}@{name}:{port}")
    assert set(voters.pop().split(",")) == expected
    assert len({broker_env(n)["CLUSTER_ID"] for n in brokers()}) == 1


def test_brokers_replicate_three_times_and_need_two_in_sync():
    for name in brokers():
        env = broker_env(name)
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"


def test_brokers_advertise_their_own_name_and_workers_bootstrap_from_all():
    internal = set()
    for name in brokers():
        env = broker_env(name)
        listener = env["KAFKA_INTER_BROKER_LISTENER_NAME"]
        port = listener_port(env["KAFKA_LISTENERS"], listener)
        advertised = env["KAFKA_ADVERTISED_LISTENERS"].split(",")
        assert f"{listener}://{name}:{port}" in advertised
        internal.add(f"{name}:{port}")
    for name, service in gridwatch_services().items():
        servers = environment(service)["GRID_KAFKA__BOOTSTRAP_SERVERS"].split(",")
        assert set(servers) == internal, name


def test_brokers_have_a_healthcheck_with_the_kafka_tools_and_their_own_volume():
    volumes = set()
    for name, service in brokers().items():
        assert "kafka-broker-api-versions.sh" in " ".join(service["healthcheck"]["test"]), name
        data = mounts(service)[broker_env(name)["KAFKA_LOG_DIRS"]]
        assert data in COMPOSE["volumes"], name
        volumes.add(data)
    assert len(volumes) == len(brokers())


# ---- startup order --------------------------------------------------------------------------


def has_healthcheck(service: Mapping[str, Any]) -> bool:
    check: dict[str, Any] = service.get("healthcheck") or {}
    return bool(check) and not check.get("disable", False) and check.get("test") != ["NONE"]


def is_one_shot(service: Mapping[str, Any]) -> bool:
    return service.get("restart", "no") == "no" and "command" in service


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_dependency_condition_can_be_met(name):
    for target, condition in depends_on(SERVICES[name]).items():
        assert target in SERVICES, f"{name} depends on unknown service {target}"
        if condition == "service_healthy":
            assert has_healthcheck(SERVICES[target]), f"{name} waits for {target}'s health"
        elif condition == "service_completed_successfully":
            assert is_one_shot(SERVICES[target]), f"{name} waits for {target} to exit"
        else:
            assert condition == "service_started", f"{name}: {condition}"


def test_topics_are_created_once_with_three_replicas_after_the_brokers_are_healthy():
    topics = SERVICES["topics"]
    assert topics["command"] == ["topics", "create"]
    assert environment(topics)["GRID_KAFKA__REPLICATION_FACTOR"] == "3"
    assert is_one_shot(topics)
    assert depends_on(topics) == dict.fromkeys(brokers(), "service_healthy")


# ---- workers --------------------------------------------------------------------------------


def test_two_workers_each_with_its_own_identity_and_volume():
    assert len(workers()) == 2
    ids, volumes = set(), set()
    for name, service in workers().items():
        env = environment(service)
        assert env["GRID_STORE"] == "rocksdb://"
        volume = mounts(service)[env["GRID_DATA_DIR"]]
        assert volume in COMPOSE["volumes"], f"{name}: data dir not on a named volume"
        ids.add(env["GRID_INSTANCE_ID"])
        volumes.add(volume)
    assert len(ids) == len(volumes) == len(workers())


def test_workers_start_after_healthy_brokers_and_created_topics_and_have_healthchecks():
    expected = dict.fromkeys(brokers(), "service_healthy") | {
        "topics": "service_completed_successfully"
    }
    for name, service in workers().items():
        assert depends_on(service) == expected, name
        assert has_healthcheck(service), name
        assert "/metrics" in " ".join(service["healthcheck"]["test"]), name
        assert service["stop_grace_period"] == "60s", name


def test_workers_bind_and_advertise_a_name_the_other_workers_resolve():
    # GRID_WEB_HOST is Faust's web_host: the bind address and the URL acks are forwarded to.
    for name, service in workers().items():
        env = environment(service)
        assert env["GRID_WEB_HOST"] == name == service["hostname"]
        published = [p.split(":") for p in service.get("ports", [])]
        assert [p[-1] for p in published] == [env["GRID_WEB_PORT"]], name


def test_gridwatch_services_build_the_worker_image():
    for name, service in gridwatch_services().items():
        build = service["build"]
        assert (COMPOSE_DIR / build["context"]).resolve() == ROOT, name
        assert (ROOT / build["dockerfile"]).resolve() == DOCKERFILE, name


def test_ports_are_published_on_loopback_only():
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every address"


def test_named_volumes_are_declared():
    for name, service in SERVICES.items():
        for source in mounts(service).values():
            if not source.startswith("/"):
                assert source in COMPOSE["volumes"], f"{name}: volume {source}"


# ---- settings -------------------------------------------------------------------------------


def test_no_faust_variable_anywhere():
    assert not faust_names_in(COMPOSE)
    assert not faust_names_in(list(env_example()))
    dockerfile_names = re.findall(r"^\s*(?:ENV|ARG)\s+(.*)$", DOCKERFILE.read_text(), re.M)
    assert not faust_names_in(dockerfile_names)


def resolved_environment(name: str) -> dict[str, str]:
    """A service's environment as the container gets it, secrets taken from .env.example."""
    example = env_example()
    return {k: interpolate(v, example) for k, v in environment(SERVICES[name]).items()}


@pytest.mark.parametrize("name", sorted(gridwatch_services()))
def test_grid_variables_are_real_settings_with_accepted_values(name, monkeypatch):
    settings = settings_from(resolved_environment(name), monkeypatch)
    assert settings.kafka.replication_factor == 3
    assert len(settings.kafka.bootstrap_list) == len(brokers())


def test_worker_settings_as_configured(monkeypatch):
    settings = settings_from(resolved_environment("gridwatch-worker-1"), monkeypatch)
    assert settings.store == "rocksdb://"
    assert settings.group_instance_id == "gridwatch-worker-1"
    assert not settings.escalation.uses_dev_token
    policy = yaml.safe_load((ROOT / "streams/escalation/policy.yaml").read_text(encoding="utf-8"))
    assert set(settings.escalation.webhooks) <= set(policy["targets"])


def test_env_example_sets_every_required_variable_with_placeholders_only():
    required = {m["name"] for text in strings_in(COMPOSE) for m in _INTERPOLATION.finditer(text)}
    example = env_example()
    assert required == set(example), "compose.yaml and .env.example disagree"
    for key, value in example.items():
        assert "change-me" in value, f"{key} in .env.example looks like a real secret"
    assert ".env" in (COMPOSE_DIR / ".gitignore").read_text().split()


# ---- Prometheus and Grafana -----------------------------------------------------------------


def compose_prometheus() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text())
    return data


def prometheus_config_path() -> str:
    flags = dict(f.split("=", 1) for f in SERVICES["prometheus"]["command"] if "=" in f)
    return flags["--config.file"]


def test_prometheus_scrapes_every_worker_by_its_service_name():
    jobs = {job["job_name"]: job for job in compose_prometheus()["scrape_configs"]}
    job = jobs["gridwatch"]  # the job name alerts.yml and the dashboard select on
    targets = {t for config in job["static_configs"] for t in config["targets"]}
    ports = {n: environment(s)["GRID_WEB_PORT"] for n, s in workers().items()}
    assert targets == {f"{name}:{port}" for name, port in ports.items()}
    assert job["metrics_path"] == "/metrics"


def test_prometheus_mounts_its_config_and_the_alerting_rules():
    service_mounts = mounts(SERVICES["prometheus"])
    config = PurePosixPath(prometheus_config_path())
    assert Path(service_mounts[str(config)]) == COMPOSE_DIR / "prometheus.yml"
    for rule_file in compose_prometheus()["rule_files"]:
        in_container = config.parent / rule_file
        mounted_dirs = [PurePosixPath(t) for t in service_mounts]
        parent = next(d for d in mounted_dirs if d in in_container.parents)
        on_host = Path(service_mounts[str(parent)]) / in_container.relative_to(parent)
        assert on_host == ROOT / "deploy/prometheus/alerts.yml"


def test_promtool_accepts_the_compose_prometheus_config(tmp_path):
    # The container's layout: prometheus.yml with deploy/prometheus/ mounted as gridwatch/.
    shutil.copy(COMPOSE_DIR / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copytree(ROOT / "deploy/prometheus", tmp_path / "gridwatch")
    result = subprocess.run(
        [str(bin_dir() / "promtool"), "check", "config", "prometheus.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


def test_grafana_mounts_provisioning_and_the_dashboards_where_the_provider_looks():
    service_mounts = mounts(SERVICES["grafana"])
    assert Path(service_mounts["/etc/grafana/provisioning"]) == ROOT / "deploy/grafana/provisioning"
    provider = yaml.safe_load(GRAFANA_PROVIDER.read_text())["providers"][0]
    dashboards = provider["options"]["path"]
    assert Path(service_mounts[dashboards]) == ROOT / "deploy/grafana/dashboards"
    assert any(Path(service_mounts[dashboards]).glob("*.json"))


def test_grafana_reaches_prometheus_by_its_service_name():
    datasource = yaml.safe_load(GRAFANA_DATASOURCE.read_text())["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    assert "prometheus" in SERVICES
    assert depends_on(SERVICES["grafana"]) == {"prometheus": "service_healthy"}


# ---- the worker image -----------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_runs_gridwatch_worker_as_a_non_root_user_with_a_healthcheck():
    steps = dockerfile_instructions()
    args = dict(value.split("=", 1) for op, value in steps if op == "ARG" and "=" in value)
    froms = [value.split()[0] for op, value in steps if op == "FROM"]
    assert {f.replace("${PYTHON_IMAGE}", args["PYTHON_IMAGE"]) for f in froms} == {
        "python:3.11-slim"
    }
    last = {op: value for op, value in steps}  # the runtime stage's value of each instruction
    assert last["USER"].split(":")[0] not in ("0", "root")
    assert last["EXPOSE"] == "6066"
    assert last["ENTRYPOINT"] == '["gridwatch"]' and last["CMD"] == '["worker"]'
    assert "/metrics" in last["HEALTHCHECK"] and '"python"' in last["HEALTHCHECK"]
    assert any(op == "RUN" and "pip install ." in value for op, value in steps)
    env_names = {w.split("=")[0] for op, v in steps if op == "ENV" for w in v.split() if "=" in w}
    assert all(is_setting(n) for n in env_names if n.startswith("GRID_")), env_names
