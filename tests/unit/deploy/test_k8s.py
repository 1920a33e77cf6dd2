"""deploy/k8s/: every manifest is valid Kubernetes and the pieces select each other.

Each core resource is validated offline against the Kubernetes 1.30 OpenAPI schemas bundled
with ``kubernetes-validate`` (strict: an unknown or misspelt field fails). The
ServiceMonitor is a Prometheus Operator CRD the validator has no schema for, so it is checked
structurally. Then the cross-references: the StatefulSet's volumes, probes, resources and
identity, the Services and the PodDisruptionBudget selecting its pods, and every GRID_*
variable (ConfigMap, Secret example, container env) being a real setting with an accepted
value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from .prometheus_tools import in_ci
from .test_compose import faust_names_in, settings_from

try:  # bundles the Kubernetes OpenAPI schemas: no network at run time
    import kubernetes_validate  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - the dev extra installs it
    _MISSING = "kubernetes-validate is not installed: pip install -e '.[dev]'"
    if in_ci():
        pytest.fail(f"CI=true and {_MISSING}", pytrace=False)
    pytest.skip(_MISSING, allow_module_level=True)

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy/k8s"
KUBERNETES_VERSION = "1.30"
# Not applied by `kubectl apply -k`: placeholders, and a CRD that may be absent.
NOT_IN_KUSTOMIZATION = {"secret.example.yaml", "servicemonitor.yaml"}
# What the downward API gives a pod, for the variables built from it.
POD_FIELDS = {"metadata.name": "gridwatch-worker-0", "metadata.namespace": "gridwatch"}
# The schema types quantities as int-or-string; this is the API server's own syntax.
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")


def load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


MANIFESTS = sorted(K8S.glob("*.yaml"))
RESOURCES = [
    (path.name, doc)
    for path in MANIFESTS
    if path.name != "kustomization.yaml"
    for doc in load(path)
]


def one(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for _, d in RESOURCES if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''}"
    return found[0]


STATEFULSET = one("StatefulSet", "gridwatch-worker")
POD = STATEFULSET["spec"]["template"]
CONTAINER = POD["spec"]["containers"][0]
POD_LABELS: dict[str, str] = POD["metadata"]["labels"]


def container_env() -> dict[str, Any]:
    return {e["name"]: e for e in CONTAINER.get("env", [])}


def web_port() -> int:
    ports = {p["name"]: p["containerPort"] for p in CONTAINER["ports"]}
    return int(ports["web"])


# ---- schemas --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [doc for name, doc in RESOURCES if doc["kind"] != "ServiceMonitor"],
    ids=lambda doc: f"{doc['kind']}/{doc['metadata']['name']}",
)
def test_manifest_is_valid_against_the_kubernetes_schema(resource):
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(p) for p in error.path)
        pytest.fail(f"{resource['kind']}: {path}: {error.message}", pytrace=False)


def test_the_validator_has_no_schema_for_the_servicemonitor_crd():
    # Why servicemonitor.yaml is checked structurally below, not by the validator.
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(one("ServiceMonitor"), KUBERNETES_VERSION, strict=True)


def test_every_resource_is_namespaced_in_gridwatch():
    for name, doc in RESOURCES:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "gridwatch", f"{name}: {doc['kind']}"


def test_kustomization_lists_every_manifest_but_the_secret_example_and_the_servicemonitor():
    kustomization = load(K8S / "kustomization.yaml")[0]
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["namespace"] == "gridwatch"
    expected = {p.name for p in MANIFESTS} - {"kustomization.yaml"} - NOT_IN_KUSTOMIZATION
    assert set(kustomization["resources"]) == expected
    assert len(kustomization["resources"]) == len(expected)
    image = CONTAINER["image"].split(":")[0]
    assert [i["name"] for i in kustomization["images"]] == [image]


# ---- the StatefulSet ------------------------------------------------------------------------


def test_statefulset_runs_three_workers_started_in_parallel():
    spec = STATEFULSET["spec"]
    assert spec["replicas"] == 3
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["selector"]["matchLabels"].items() <= POD_LABELS.items()
    assert CONTAINER["args"] == ["worker"]


def test_statefulset_keeps_the_tables_on_a_volume_claim_at_the_data_dir():
    config = one("ConfigMap")["data"]
    assert config["GRID_STORE"] == "rocksdb://"
    claims = {c["metadata"]["name"]: c for c in STATEFULSET["spec"]["volumeClaimTemplates"]}
    mounts = {m["mountPath"]: m["name"] for m in CONTAINER["volumeMounts"]}
    claim = claims[mounts[config["GRID_DATA_DIR"]]]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert QUANTITY.match(claim["spec"]["resources"]["requests"]["storage"])


def test_statefulset_names_each_worker_after_its_pod():
    env = container_env()
    assert env["GRID_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    # The web host is the pod's stable DNS name under the governing (headless) Service.
    headless = one("Service", STATEFULSET["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert f".{headless['metadata']['name']}." in env["GRID_WEB_HOST"]["value"]


@pytest.mark.parametrize("probe", ["startupProbe", "readinessProbe", "livenessProbe"])
def test_probes_ask_metrics_on_the_web_port(probe):
    get = CONTAINER[probe]["httpGet"]
    assert get["path"] == "/metrics"
    assert get["port"] == "web"
    assert web_port() == int(one("ConfigMap")["data"]["GRID_WEB_PORT"])


def test_container_has_cpu_and_memory_requests_and_limits():
    resources = CONTAINER["resources"]
    for kind in ("requests", "limits"):
        assert set(resources[kind]) >= {"cpu", "memory"}, kind
        for name, quantity in resources[kind].items():
            assert QUANTITY.match(str(quantity)), f"{kind}.{name}: {quantity!r}"


def test_pod_runs_as_non_root_on_a_read_only_root_filesystem():
    pod, container = POD["spec"]["securityContext"], CONTAINER["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"]["drop"] == ["ALL"]
    volumes = {v["name"]: v for v in POD["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in CONTAINER["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]  # noqa: S108 - the pod's scratch dir


def test_pod_stops_cleanly_and_gets_no_service_link_variables():
    assert POD["spec"]["terminationGracePeriodSeconds"] >= 30
    # Service links would inject e.g. WEB_PORT for a Service named "web": a Faust variable.
    assert POD["spec"]["enableServiceLinks"] is False


def test_pod_is_annotated_for_prometheus_on_the_web_port():
    annotations = POD["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(web_port())
    assert annotations["prometheus.io/path"] == "/metrics"


def test_pod_takes_its_settings_from_the_configmap_and_the_secret():
    refs = {k: v["name"] for source in CONTAINER["envFrom"] for k, v in source.items()}
    assert refs == {
        "configMapRef": one("ConfigMap")["metadata"]["name"],
        "secretRef": one("Secret")["metadata"]["name"],
    }


def test_partitions_leave_no_worker_idle():
    partitions = int(one("ConfigMap")["data"]["GRID_KAFKA__PARTITIONS"])
    assert partitions >= STATEFULSET["spec"]["replicas"]
    assert one("ConfigMap")["data"]["GRID_KAFKA__REPLICATION_FACTOR"] == "3"


# ---- what selects the pods ------------------------------------------------------------------


def test_disruption_budget_selects_the_statefulset_pods_one_at_a_time():
    pdb = one("PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == STATEFULSET["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("name", ["gridwatch-worker", "gridwatch-worker-headless"])
def test_services_select_the_pods_on_the_web_port(name):
    service = one("Service", name)
    assert service["spec"]["selector"].items() <= POD_LABELS.items()
    assert service["spec"]["selector"] == STATEFULSET["spec"]["selector"]["matchLabels"]
    [port] = service["spec"]["ports"]
    assert port["port"] == web_port() and port["targetPort"] == "web"


def test_servicemonitor_scrapes_the_clusterip_service_as_job_gridwatch():
    monitor = one("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    spec = monitor["spec"]
    selected = [
        doc
        for _, doc in RESOURCES
        if doc["kind"] == "Service"
        and spec["selector"]["matchLabels"].items() <= doc["metadata"]["labels"].items()
    ]
    assert [s["metadata"]["name"] for s in selected] == ["gridwatch-worker"]  # once per pod
    assert spec["namespaceSelector"]["matchNames"] == ["gridwatch"]
    # job = the value of this label on the Service: alerts.yml selects job="gridwatch".
    assert selected[0]["metadata"]["labels"][spec["jobLabel"]] == "gridwatch"
    [endpoint] = spec["endpoints"]
    assert endpoint["port"] in {p["name"] for p in selected[0]["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"


# ---- settings -------------------------------------------------------------------------------


def test_no_faust_variable_anywhere():
    for name, doc in RESOURCES:
        assert not faust_names_in(doc), name


_DEPENDENT = re.compile(r"\$\((\w+)\)")


def pod_environment() -> dict[str, str]:
    """Every variable the worker container sees (placeholders for downward-API values)."""
    env = dict(one("ConfigMap")["data"]) | dict(one("Secret")["stringData"])
    for name, var in container_env().items():
        if "valueFrom" in var:
            env[name] = POD_FIELDS[var["valueFrom"]["fieldRef"]["fieldPath"]]
        else:
            env[name] = _DEPENDENT.sub(lambda m: env[m[1]], var["value"])
    return env


def grid_only(env: Mapping[str, str]) -> dict[str, str]:
    other = {k for k in env if not k.startswith("GRID_")}
    assert other <= {"POD_NAME", "POD_NAMESPACE"}, other
    return {k: v for k, v in env.items() if k.startswith("GRID_")}


def test_grid_variables_are_real_settings_with_accepted_values(monkeypatch):
    settings = settings_from(grid_only(pod_environment()), monkeypatch)
    assert settings.store == "rocksdb://"
    assert settings.kafka.replication_factor == 3
    assert settings.group_instance_id == "gridwatch-worker-0"
    assert settings.web_host == (
        "gridwatch-worker-0.gridwatch-worker-headless.gridwatch.svc.cluster.local"
    )
    assert set(settings.escalation.webhooks)
    assert not settings.escalation.uses_dev_token


def test_secret_example_holds_placeholders_only():
    secret = one("Secret")
    assert "data" not in secret  # stringData: readable placeholders, not base64
    for key, value in secret["stringData"].items():
        assert "change-me" in value, f"{key} looks like a real secret"
