"""The platform and observability layers: Kustomize components render and validate, wrapper
charts follow the conventions, and what the services expect from the platform exists there."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
MINE = ("platform", "observability", "services")
WAVES = {"platform": range(10, 30), "observability": range(30, 40), "services": range(40, 50)}
CONSUMERS = ["zitadel", "openfga", "organization", "company", "property", "user"]

Render = Callable[[Path], list[dict[str, Any]]]
Check = Callable[[list[dict[str, Any]]], list[str]]


def components() -> list[Path]:
    return sorted(p.parent for layer in MINE for p in (DEPLOY / layer).glob("*/component.yaml"))


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def test_component_names_are_unique():
    names = [load(c / "component.yaml")["name"] for c in components()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("component", components(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_component_follows_the_conventions(component: Path):
    meta = load(component / "component.yaml")
    assert set(meta) <= {"name", "namespace", "wave", "serverSideApply", "valueFiles"}
    assert re.fullmatch(r"[a-z0-9-]+", meta["name"])
    assert meta["wave"] in WAVES[component.parent.name]
    chart, kustomization = component / "Chart.yaml", component / "kustomization.yaml"
    assert chart.exists() != kustomization.exists()
    if kustomization.exists():
        assert "valueFiles" not in meta
        return
    assert not (component / "templates").exists()
    deps = load(chart)["dependencies"]
    assert len(deps) == 1
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(deps[0]["version"])), deps[0]
    assert deps[0]["repository"].startswith(("https://", "oci://"))
    for ref in meta["valueFiles"]:
        name = ref.removeprefix("secrets://")
        if ref.startswith("secrets://"):
            # Committed as a template until `inv secrets.init` encrypts it.
            template = component / name.replace(".yaml", ".template.yaml")
            assert template.exists() or (component / name).exists()
            values = load(template if template.exists() else component / name)
        else:
            values = load(component / name)
        # Wrapper chart: everything is for the one dependency.
        assert list(values) == [deps[0]["name"]], ref


@pytest.mark.parametrize(
    "path",
    [
        "platform/postgres",
        "observability/namespace",
        "observability/scrape-targets",
        "observability/hubble-ui",
    ],
)
def test_kustomize_component_renders_and_validates(path: str, render: Render, problems: Check):
    docs = render(DEPLOY / path)
    assert docs
    assert problems(docs) == []


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_observability_namespace_is_privileged_before_anything_runs_in_it(render: Render):
    (namespace,) = render(DEPLOY / "observability/namespace")
    assert namespace["metadata"]["name"] == "observability"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    waves = {
        c.name: load(c / "component.yaml")["wave"]
        for c in (DEPLOY / "observability").iterdir()
        if (c / "component.yaml").exists()
    }
    assert min(waves, key=lambda name: waves[name]) == "namespace"
    assert list(waves.values()).count(waves["namespace"]) == 1


def test_postgres_cluster_spreads_two_instances_over_the_workers(render: Render):
    (cluster,) = by_kind(render(DEPLOY / "platform/postgres"), "Cluster").values()
    spec = cluster["spec"]
    assert spec["instances"] == 2
    assert spec["storage"]["storageClass"] == "local-path"
    assert spec["affinity"]["enablePodAntiAffinity"] is True
    assert spec["affinity"]["podAntiAffinityType"] == "required"
    assert spec["affinity"]["topologyKey"] == "kubernetes.io/hostname"
    assert "plugins" not in spec


def test_every_consumer_has_a_certificate_role_a_database_and_a_hba_rule(render: Render):
    docs = render(DEPLOY / "platform/postgres")
    roles, databases = by_kind(docs, "DatabaseRole"), by_kind(docs, "Database")
    assert sorted(roles) == sorted(CONSUMERS)
    assert sorted(databases) == sorted(CONSUMERS)
    (cluster,) = by_kind(docs, "Cluster").values()
    for name in CONSUMERS:
        assert roles[name]["spec"]["name"] == name
        assert roles[name]["spec"]["login"] is True
        assert roles[name]["spec"]["clientCertificate"]["enabled"] is True
        assert databases[name]["spec"]["owner"] == name
        assert databases[name]["spec"]["databaseReclaimPolicy"] == "retain"
        assert f"hostssl {name} {name} all cert" in cluster["spec"]["postgresql"]["pg_hba"]


def with_env_component(tmp_path: Path, component: str, env: str) -> Path:
    """The component as the ApplicationSet deploys it on ``env``: plus the Kustomize component
    ``env/<env>`` (its ``kustomize.components``)."""
    copy = tmp_path / Path(component).name
    shutil.copytree(DEPLOY / component, copy)
    kustomization = copy / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + f"components:\n  - env/{env}\n")
    return copy


def test_aks_variant_only_adds_backups(tmp_path: Path, render: Render, problems: Check):
    local = render(DEPLOY / "platform/postgres")
    aks = render(with_env_component(tmp_path, "platform/postgres", "aks"))
    assert problems(aks) == []
    added = [d for d in aks if d not in local]
    kinds = sorted(d["kind"] for d in added)
    assert kinds == ["Cluster", "ObjectStore", "ScheduledBackup"]
    (cluster,) = by_kind(aks, "Cluster").values()
    (store,) = by_kind(aks, "ObjectStore").values()
    assert {d["metadata"]["namespace"] for d in aks} == {"propertea"}
    plugin = cluster["spec"]["plugins"][0]
    assert plugin["parameters"]["barmanObjectName"] == store["metadata"]["name"]
    assert store["spec"]["configuration"]["destinationPath"].startswith("https://")
    # The account and key come from the Secret the AKS bootstrap's ExternalSecret writes.
    credentials = store["spec"]["configuration"]["azureCredentials"]
    assert credentials == {
        "storageAccount": {"name": "pg-backup-azure", "key": "AZURE_STORAGE_ACCOUNT"},
        "storageKey": {"name": "pg-backup-azure", "key": "AZURE_STORAGE_KEY"},
    }
    external = yaml.safe_load(
        (REPO / "deploy/aks/bootstrap/pg-backup-credentials.yaml").read_text()
    )
    assert external["spec"]["target"]["name"] == "pg-backup-azure"
    assert external["metadata"]["namespace"] == cluster["metadata"].get("namespace", "propertea")
    assert {d["secretKey"] for d in external["spec"]["data"]} == {
        "AZURE_STORAGE_ACCOUNT",
        "AZURE_STORAGE_KEY",
    }
    (backup,) = by_kind(aks, "ScheduledBackup").values()
    assert backup["spec"]["pluginConfiguration"]["name"] == plugin["name"]
    (local_cluster,) = by_kind(local, "Cluster").values()
    without_plugins = {k: v for k, v in cluster["spec"].items() if k != "plugins"}
    assert without_plugins == local_cluster["spec"]


def test_services_read_only_certificates_the_platform_issues(render: Render):
    roles = by_kind(render(DEPLOY / "platform/postgres"), "DatabaseRole")
    issued = {f"{name}-client-cert" for name in roles}
    for service in ("organization", "company", "property", "user"):
        (rollout,) = by_kind(render(DEPLOY / "services" / service), "Rollout").values()
        secrets = {
            s["secret"]["name"]
            for v in rollout["spec"]["template"]["spec"]["volumes"]
            for s in v.get("projected", {}).get("sources", [])
            if "secret" in s
        }
        assert secrets - {"pg-ca"} <= issued, service


def test_charts_use_the_roles_certificates():
    zitadel = load(DEPLOY / "platform/zitadel/values.yaml")["zitadel"]
    assert zitadel["zitadel"]["dbSslUserCrtSecret"] == "zitadel-client-cert"
    postgres = zitadel["zitadel"]["configmapConfig"]["Database"]["Postgres"]
    assert (postgres["Database"], postgres["User"]["Username"]) == ("zitadel", "zitadel")
    openfga = load(DEPLOY / "platform/openfga/values.yaml")["openfga"]
    assert openfga["datastore"]["uri"].startswith(
        "postgres://openfga@pg-rw.propertea.svc:5432/openfga?"
    )
    sources = openfga["extraVolumes"][0]["projected"]["sources"]
    assert [s["secret"]["name"] for s in sources] == ["pg-ca", "openfga-client-cert"]
    assert openfga["migrate"]["extraVolumes"] == openfga["extraVolumes"]


def test_secret_templates_hold_only_placeholders():
    placeholder = re.compile(r"^<(generate:(alnum|hex|base64):\d+|prompt:[^>]+)>$")

    def leaves(node: Any) -> list[Any]:
        if isinstance(node, dict):
            return [x for v in node.values() for x in leaves(v)]
        if isinstance(node, list):
            return [x for v in node for x in leaves(v)]
        return [node]

    templates = sorted(p for layer in MINE for p in (DEPLOY / layer).rglob("secrets.template.yaml"))
    assert templates
    for path in templates:
        for value in leaves(load(path)):
            assert isinstance(value, str) and placeholder.match(value), (path, value)
    # Once `inv secrets.init` ran, secrets.yaml exists beside its template, and only encrypted.
    for path in (p for layer in MINE for p in (DEPLOY / layer).rglob("secrets.yaml")):
        assert "sops" in load(path), f"{path} is not sops-encrypted"
