"""The committed infrastructure files against the real schemas, and the Kustomize env switch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from tests.unit.deploytree.conftest import REPO

DEPLOY = REPO / "deploy"


def _docs(path: Path) -> list[Any]:
    return [d for d in YAML(typ="safe").load_all(path.read_text()) if d is not None]


def _without_required(node: Any) -> Any:
    """A Talos patch is partial: keep types, enums and unknown-key checks, drop `required`."""
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


def _talos_errors(schema: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    defs = schema["$defs"]
    if "kind" in doc:
        name = next(k for k in defs if k.endswith(f".{doc['kind']}V1Alpha1"))
        target = {"$ref": f"#/$defs/{name}", "$defs": defs}
    else:
        target = {"$ref": "#/$defs/v1alpha1.Config", "$defs": _without_required(defs)}
    validator = jsonschema.Draft202012Validator(target)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]


def _talos_schema(shared_schemas: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (shared_schemas / "talos/v1.13.9.config.schema.json").read_text()
    )
    return schema


def test_talos_patches_match_the_v1_13_9_schema(shared_schemas: Path) -> None:
    schema = _talos_schema(shared_schemas)
    patches = sorted((DEPLOY / "local-cluster/patches").rglob("*.yaml"))
    assert len(patches) >= 6
    problems = {
        str(p.relative_to(DEPLOY)): errors
        for p in patches
        for doc in _docs(p)
        if (errors := _talos_errors(schema, doc))
    }
    assert problems == {}


def test_the_talos_check_catches_an_unknown_field_and_a_wrong_enum(shared_schemas: Path) -> None:
    schema = _talos_schema(shared_schemas)
    assert _talos_errors(schema, {"machine": {"install": {"disks": "/dev/vda"}}}) == [
        "['machine', 'install']: Additional properties are not allowed ('disks' was unexpected)"
    ]
    hostname = {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": False}
    assert _talos_errors(schema, hostname) == ["['auto']: False is not one of ['stable', 'off']"]


def _unknown_keys(values: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Keys the chart does not declare (the schema leaves the top level open)."""
    if not isinstance(values, dict) or "properties" not in schema:
        return []
    out = []
    for key, value in values.items():
        if key not in schema["properties"]:
            out.append(f"{path}{key}")
        else:
            out += _unknown_keys(value, schema["properties"][key], f"{path}{key}.")
    return out


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        both = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = _merged(base[key], value) if both else value
    return out


@pytest.mark.parametrize("env", ["local", "aks"])
def test_cilium_values_match_the_chart_schema(shared_schemas: Path, env: str) -> None:
    schema = json.loads((shared_schemas / "cilium/values.schema.1.20.0-dev.json").read_text())
    values = _docs(DEPLOY / "infrastructure/cilium/values.yaml")[0]["cilium"]
    if env == "aks":
        values = _merged(
            values, _docs(DEPLOY / "infrastructure/cilium/values-aks.yaml")[0]["cilium"]
        )
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(values)]
    assert errors == []
    assert _unknown_keys(values, schema) == []


def test_the_unknown_key_check_sees_a_typo(shared_schemas: Path) -> None:
    schema = json.loads((shared_schemas / "cilium/values.schema.1.20.0-dev.json").read_text())
    assert _unknown_keys({"hubble": {"relay": {"enabeld": True}}}, schema) == [
        "hubble.relay.enabeld"
    ]


def _crd_errors(shared_schemas: Path, doc: dict[str, Any]) -> list[str]:
    group, _, version = doc["apiVersion"].rpartition("/")
    schema_file = shared_schemas / "crds" / group / f"{doc['kind'].lower()}_{version}.json"
    schema = json.loads(schema_file.read_text())
    return [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]


CUSTOM_RESOURCES = [
    "bootstrap/root-application.yaml",
    "bootstrap/apps/project.yaml",
    "bootstrap/apps/infrastructure.yaml",
    "bootstrap/apps/platform.yaml",
    "bootstrap/apps/observability.yaml",
    "bootstrap/apps/services.yaml",
    "infrastructure/cilium-lb/ip-pool.yaml",
    "infrastructure/cilium-lb/l2-announcement-policy.yaml",
    "infrastructure/gateway/gateway.yaml",
    "infrastructure/gateway/https-redirect.yaml",
    "infrastructure/gateway/certificate.yaml",
    "infrastructure/cluster-issuers/letsencrypt-staging.yaml",
    "infrastructure/cluster-issuers/letsencrypt-production.yaml",
]


@pytest.mark.parametrize("rel", CUSTOM_RESOURCES)
def test_custom_resources_match_their_crd_schema(shared_schemas: Path, rel: str) -> None:
    for doc in _docs(DEPLOY / rel):
        assert _crd_errors(shared_schemas, doc) == []


def test_every_component_names_a_unique_application() -> None:
    names = [
        _docs(p)[0]["name"] for p in sorted((DEPLOY / "infrastructure").glob("*/component.yaml"))
    ]
    assert len(names) == len(set(names)) >= 13


def test_secrets_are_templates_only() -> None:
    infra = DEPLOY / "infrastructure"
    assert not list(infra.rglob("secrets.yaml"))
    templates = sorted(p.parent.name for p in infra.rglob("secrets.template.yaml"))
    assert templates == ["cert-manager", "velero"]


def _expand_infrastructure(env: str) -> dict[str, dict[str, Any]]:
    """The Applications the infrastructure ApplicationSet generates for one environment."""
    from tasks.deploytree.appset import Cluster, expand

    appset = _docs(DEPLOY / "bootstrap/apps/infrastructure.yaml")[0]
    cluster = Cluster("in-cluster", "https://kubernetes.default.svc", {"propertea.io/env": env})
    apps = expand(appset, REPO, "deploy/bootstrap/apps/infrastructure.yaml", [cluster])
    return {app["metadata"]["name"]: app for app in apps}


@pytest.mark.parametrize("env", ["local", "aks"])
def test_generated_applications_pick_the_environment_backend(env: str) -> None:
    apps = _expand_infrastructure(env)

    argocd = apps["argocd"]["spec"]
    assert argocd["source"]["helm"] == {
        "ignoreMissingValueFiles": True,
        "valueFiles": ["values.yaml", f"values-{env}.yaml"],
    }
    assert "ServerSideApply=true" in argocd["syncPolicy"]["syncOptions"]
    assert "automated" not in argocd["syncPolicy"]
    cert_manager = apps["cert-manager"]["spec"]["source"]["helm"]["valueFiles"]
    assert cert_manager == ["values.yaml", "secrets://secrets.yaml", f"values-{env}.yaml"]
    gateway = apps["gateway"]
    assert gateway["spec"]["source"]["kustomize"] == {
        "ignoreMissingComponents": True,
        "components": [f"env/{env}"],
    }
    assert gateway["spec"]["syncPolicy"]["syncOptions"] == [
        "CreateNamespace=true",
        "SkipDryRunOnMissingResource=true",
    ]
    assert gateway["metadata"]["labels"] == {
        "propertea.io/layer": "infrastructure",
        "propertea.io/wave": "w-1",
    }


def test_generated_applications_match_the_application_schema(shared_schemas: Path) -> None:
    for name, app in _expand_infrastructure("local").items():
        assert (name, _crd_errors(shared_schemas, app)) == (name, [])


def test_service_routes_leave_canary_weights_to_argo_rollouts(tmp_path: Path) -> None:
    """The Gateway API plugin of Argo Rollouts moves backendRef weights during a canary: every
    services Application (ServerSideApply or not) ignores them and does not revert them on sync."""
    from tasks.deploytree.appset import Cluster, expand

    root = tmp_path / "repo"
    shutil.copytree(DEPLOY, root / "deploy")
    user = root / "deploy/services/user/component.yaml"
    user.write_text(user.read_text() + "serverSideApply: true\n")
    (appset,) = _docs(DEPLOY / "bootstrap/apps/services.yaml")
    cluster = Cluster("in-cluster", "https://kubernetes.default.svc", {"propertea.io/env": "local"})
    apps = {
        a["metadata"]["name"]: a["spec"] for a in expand(appset, root, "services.yaml", [cluster])
    }
    assert "user" in apps and len(apps) >= 6
    for name, spec in apps.items():
        assert spec["ignoreDifferences"] == [
            {
                "group": "gateway.networking.k8s.io",
                "kind": "HTTPRoute",
                "jqPathExpressions": [".spec.rules[].backendRefs[].weight"],
            }
        ], name
        assert "RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"], name
    assert "ServerSideApply=true" in apps["user"]["syncPolicy"]["syncOptions"]
