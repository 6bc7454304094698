"""The tree's objects can each turn Healthy during a bring-up (issue 13's defects, one test each).

Each test reads or renders the real tree and names the object that would hold a RollingSync step
or misbehave once synced; `tests/unit/gitops/test_simulate.py` covers the ordering as a whole.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.integration.services_render.conftest import REPO, Doc, kustomize, of_kind

DEPLOY = REPO / "deploy"
IGNORE_HEALTH = "argocd.argoproj.io/ignore-healthcheck"
WOLVERINE_SERVICES = ("company", "organization", "property", "user")


def _doc(rel: str) -> Any:
    return yaml.safe_load((DEPLOY / rel).read_text())


def _wave(component: str) -> int:
    return int(_doc(f"{component}/component.yaml")["wave"])


def test_argocd_ui_route_is_its_own_component_after_the_gateway() -> None:
    server = _doc("infrastructure/argocd/values.yaml")["argo-cd"].get("server") or {}
    assert not (server.get("httproute") or {}).get("enabled"), (
        "argo-cd's chart route would be synced with Argo CD (wave -4), before its Gateway"
    )
    route = _doc("infrastructure/argocd-route/httproute.yaml")
    assert route["spec"]["parentRefs"][0]["name"] == "shared"
    assert _wave("infrastructure/argocd-route") > _wave("infrastructure/gateway")


def test_gateway_health_does_not_wait_for_lets_encrypt() -> None:
    certificate = _doc("infrastructure/gateway/certificate.yaml")
    annotations = certificate["metadata"]["annotations"]
    # The Secret the https listener references exists before any ACME order completes.
    assert annotations["cert-manager.io/issue-temporary-certificate"] == "true"
    assert annotations[IGNORE_HEALTH] == "true"
    for issuer in ("letsencrypt-staging", "letsencrypt-production"):
        doc = _doc(f"infrastructure/cluster-issuers/{issuer}.yaml")
        assert doc["metadata"]["annotations"][IGNORE_HEALTH] == "true", issuer


def test_every_scaled_queue_is_declared_by_rabbitmq() -> None:
    values = _doc("platform/rabbitmq/values.yaml")["rabbitmq"]
    assert values["definitions"]["enabled"] is True
    declared = {(q["vhost"], q["name"]) for q in values["definitions"]["queues"]}
    for name in WOLVERINE_SERVICES:
        scaled = next(of_kind(kustomize(DEPLOY / "services" / name), "ScaledObject"))
        queue = scaled["spec"]["triggers"][0]["metadata"]["queueName"]
        assert ("/", queue) in declared, f"{name}: queue {queue!r} is not declared"
    # Importing definitions at boot skips the default vhost's setup: the user needs permissions.
    assert {"user": "propertea", "vhost": "/"}.items() <= values["definitions"]["permissions"][
        0
    ].items()


def test_canary_analysis_can_fail_and_treats_no_data_as_inconclusive() -> None:
    template = _doc("services/base/analysis-template.yaml")
    metric = template["spec"]["metrics"][0]
    assert metric["initialDelay"], "the first measurement would come before the first export"
    query = " ".join(metric["provider"]["prometheus"]["query"].split())
    assert not query.rstrip().endswith("or vector(0)"), "no data would read as a 0% error rate"
    assert "> 0" in query, "a canary without requests must give no result, not NaN or 0"
    # An empty result satisfies neither condition: Inconclusive, which pauses the Rollout.
    assert "len(result) > 0" in metric["successCondition"]
    assert "len(result) > 0" in metric["failureCondition"]
    assert metric["inconclusiveLimit"] >= 1


def test_landlord_web_canary_waits_for_no_analysis() -> None:
    rollout = next(of_kind(kustomize(DEPLOY / "services/landlord-web"), "Rollout"))
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    assert not any("analysis" in step for step in steps)
    assert any("pause" in step for step in steps)


def test_reloader_restarts_rollouts_without_editing_the_template() -> None:
    rollout = _doc("services/base/rollout.yaml")
    annotations = rollout["metadata"]["annotations"]
    assert annotations["reloader.stakater.com/auto"] == "true"
    assert annotations["reloader.stakater.com/rollout-strategy"] == "restart"


def test_rabbitmq_flow_control_follows_its_memory_limit() -> None:
    values = _doc("platform/rabbitmq/values.yaml")["rabbitmq"]
    watermark = values["config"]["memoryHighWatermark"]
    assert watermark["enabled"] is True
    assert watermark["type"] == "relative"
    assert values["resources"]["limits"]["memory"]


def _nulls(node: Any, path: str = "") -> list[str]:
    if node is None:
        return [path]
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _nulls(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _nulls(v, f"{path}[{i}]")]
    return []


def test_otel_collector_config_removes_nothing_with_null() -> None:
    values = _doc("observability/otel-collector/values.yaml")["opentelemetry-collector"]
    assert "config" not in values, "subchart defaults cannot be removed with null: alternateConfig"
    config = values["alternateConfig"]
    assert _nulls(values) == []
    assert set(config["receivers"]) == {"otlp", "filelog"}
    assert "health_check" in config["service"]["extensions"]
    for pipeline in config["service"]["pipelines"].values():
        for receiver in pipeline["receivers"]:
            assert receiver in config["receivers"]
        for exporter in pipeline["exporters"]:
            assert exporter in config["exporters"]


def test_zitadel_verifies_postgres_with_the_ca_certificate_only() -> None:
    chart = _doc("platform/zitadel/values.yaml")["zitadel"]
    ssl = chart["zitadel"]["configmapConfig"]["Database"]["Postgres"]["User"]["SSL"]
    assert ssl["Mode"] == "verify-full"
    assert not chart["zitadel"].get("dbSslCaCrtSecret"), "would mount pg-ca whole, ca.key too"
    volume = next(v for v in chart["extraVolumes"] if v["name"] == "pg-ca")
    items = [i for s in volume["projected"]["sources"] for i in s["secret"]["items"]]
    assert items == [{"key": "ca.crt", "path": "ca.crt"}]
    mount = next(m for m in chart["extraVolumeMounts"] if m["name"] == "pg-ca")
    assert ssl["RootCert"] == f"{mount['mountPath']}/ca.crt"


def test_pins_named_by_the_bring_up_review() -> None:
    spec = _doc("local-cluster/cluster.yaml")
    tools = spec["versions"]["tools"]
    assert tools["cilium-cli"].startswith("0.20."), "cilium-cli for Cilium 1.20"
    guide = (DEPLOY / "local-cluster/README.md").read_text()
    assert f"sops {tools['sops']}" in guide
    chart = _doc("infrastructure/cert-manager/Chart.yaml")
    assert chart["dependencies"][0]["version"] == "v1.21.2"


def test_aks_runs_cilium_kube_proxy_replacement_without_a_managed_kube_proxy() -> None:
    """Cilium's values keep KPR on AKS (the Gateway API needs it), so AKS must drop kube-proxy."""
    base = _doc("infrastructure/cilium/values.yaml")["cilium"]
    aks = _doc("infrastructure/cilium/values-aks.yaml").get("cilium", {})
    assert aks.get("kubeProxyReplacement", base["kubeProxyReplacement"]) is True
    guide = (DEPLOY / "aks/README.md").read_text()
    create = guide[guide.index("az aks create") :].split("\n\n")[0]
    assert "--network-plugin none" in create
    assert "--kube-proxy-config kube-proxy.json" in create
    assert """echo '{"enabled": false}' > kube-proxy.json""" in guide
    assert "KubeProxyConfigurationPreview" in guide


def _with_env(tmp_path: Path, service: str, env: str) -> list[Doc]:
    """Render a service the way the ApplicationSet does for a cluster labelled ``env``."""
    copy = tmp_path / "services"
    shutil.copytree(DEPLOY / "services", copy)
    kustomization = copy / service / "kustomization.yaml"
    data = yaml.safe_load(kustomization.read_text())
    data["components"] = [*data.get("components", []), f"env/{env}"]
    kustomization.write_text(yaml.safe_dump(data))
    return kustomize(copy / service)


def _environment(docs: list[Doc]) -> str:
    rollout = next(of_kind(docs, "Rollout"))
    container = rollout["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    attributes = env["OTEL_RESOURCE_ATTRIBUTES"]
    assert "deployment.environment.name=$(DEPLOYMENT_ENVIRONMENT)" in attributes
    return str(env["DEPLOYMENT_ENVIRONMENT"])


def test_telemetry_names_the_environment_it_runs_in(tmp_path: Path) -> None:
    for name in (*WOLVERINE_SERVICES, "landlord-bff", "landlord-web"):
        assert _environment(kustomize(DEPLOY / "services" / name)) == "local", name
        assert _environment(_with_env(tmp_path / name, name, "aks")) == "aks", name
