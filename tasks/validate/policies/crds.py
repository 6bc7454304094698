"""Custom resources: their CRD is installed by some component, in an earlier wave."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.validate.model import Doc
from tasks.validate.policies.base import (
    Context,
    Rule,
    dig,
)

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace

CRD_INSTALLED = Rule(
    "policy/crd-installed",
    "every custom resource's CRD is installed by some component",
)
SYNC_WAVE = Rule(
    "policy/sync-wave",
    "CRD providers sync in an earlier wave than their consumers",
)


#: CRDs each wrapped chart installs: group, or group/Kind when a group is shared.
CHART_CRDS: dict[str, list[str]] = {
    "cert-manager": ["cert-manager.io", "acme.cert-manager.io"],
    "cilium": ["cilium.io"],
    "argo-cd": ["argoproj.io/Application", "argoproj.io/ApplicationSet", "argoproj.io/AppProject"],
    "argo-rollouts": [
        "argoproj.io/Rollout",
        "argoproj.io/AnalysisTemplate",
        "argoproj.io/ClusterAnalysisTemplate",
        "argoproj.io/AnalysisRun",
        "argoproj.io/Experiment",
    ],
    "keda": ["keda.sh"],
    "velero": ["velero.io"],
    "cloudnative-pg": ["postgresql.cnpg.io"],
    "plugin-barman-cloud": ["barmancloud.cnpg.io"],
    "victoria-metrics-operator": ["operator.victoriametrics.com"],
    "victoria-metrics-k8s-stack": ["operator.victoriametrics.com"],
    "opentelemetry-operator": ["opentelemetry.io"],
    "vpa": [
        "autoscaling.k8s.io/VerticalPodAutoscaler",
        "autoscaling.k8s.io/VerticalPodAutoscalerCheckpoint",
    ],
    "vertical-pod-autoscaler": [
        "autoscaling.k8s.io/VerticalPodAutoscaler",
        "autoscaling.k8s.io/VerticalPodAutoscalerCheckpoint",
    ],
    "rabbitmq-cluster-operator": ["rabbitmq.com"],
    "grafana-operator": ["grafana.integreatly.org"],
    "external-secrets": ["external-secrets.io"],
    "kube-prometheus-stack": ["monitoring.coreos.com"],
    "prometheus-operator-crds": ["monitoring.coreos.com"],
}


#: CRDs a pinned remote Kustomize resource installs (fnmatch pattern of the URL -> group or
#: group/Kind), for builds that cannot be rendered offline.
_GATEWAY_API_RELEASE = "https://github.com/kubernetes-sigs/gateway-api/releases/download/*"


REMOTE_CRDS: dict[str, list[str]] = {
    f"{_GATEWAY_API_RELEASE}/standard-install.yaml": ["gateway.networking.k8s.io"],
    f"{_GATEWAY_API_RELEASE}/experimental-install.yaml": [
        "gateway.networking.k8s.io",
        "gateway.networking.x-k8s.io",
    ],
}


def crd_providers(
    ws: Workspace, components: dict[str, dict[str, Any]]
) -> dict[str, list[str | None]]:
    """``group/Kind`` or ``group`` -> the component directories that install that CRD.

    From CRD objects in the tree, pinned remote bundles (REMOTE_CRDS) and wrapped charts
    (CHART_CRDS), with the operator's additions from ``validate.*crds``.
    """
    providers: dict[str, list[str | None]] = {}
    tree = ws.tree
    for doc in tree.objects:
        if doc.is_object and doc.kind == "CustomResourceDefinition":
            group = dig(doc.data, "spec", "group")
            kind = dig(doc.data, "spec", "names", "kind")
            if isinstance(group, str) and isinstance(kind, str):
                providers.setdefault(f"{group}/{kind}", []).append(doc.component)
    from tasks.validate.tree import pin_of

    remote_table = {**REMOTE_CRDS, **ws.settings.remote_crds}
    for directory, entries in tree.unrendered.items():
        component = next(
            (c for c in (directory, *map(str, Path(directory).parents)) if c in components),
            None,
        )
        for entry in entries:
            if pin_of(entry) is None:
                continue  # manifests/remote-resource reports it; a floating bundle proves nothing
            for pattern, keys in remote_table.items():
                if fnmatch.fnmatchcase(entry, pattern):
                    for key in keys:
                        providers.setdefault(key, []).append(component)
    table = {**CHART_CRDS, **ws.settings.chart_crds}
    for chart in tree.by_role("chart"):
        directory = str(Path(chart.path).parent)
        deps = dig(chart.docs[0].data, "dependencies") if chart.docs else None
        for dep in deps if isinstance(deps, list) else []:
            for key in table.get(str(dig(dep, "name")), []):
                providers.setdefault(key, []).append(directory if directory in components else None)
    return providers


def crds(ctx: Context, objects: list[Doc]) -> None:
    providers: dict[str, list[tuple[str | None, int | None]]] = {}
    for key, dirs in crd_providers(ctx.ws, ctx.components).items():
        for component in dirs:
            wave = ctx.components.get(component or "", {}).get("wave")
            providers.setdefault(key, []).append(
                (component, wave if isinstance(wave, int) else None)
            )
    store = ctx.ws.schemas
    for doc in objects:
        if not doc.group or doc.kind == "CustomResourceDefinition":
            continue
        if store.core_file(doc.api_version, doc.kind).exists():
            continue
        found = providers.get(f"{doc.group}/{doc.kind}", []) + providers.get(doc.group, [])
        if not found:
            ctx.report(
                doc,
                CRD_INSTALLED,
                f"no component installs the CRD for {doc.group} {doc.kind} (wrap the chart that "
                "ships it, or reference its pinned release bundle; see validate.chart_crds and "
                "validate.remote_crds)",
            )
            continue
        wave = ctx.wave_of(doc)
        if wave is None or any(c == doc.component for c, _ in found):
            continue
        waves = [w for _, w in found if w is not None]
        if waves and min(waves) >= wave:
            provider = next(c for c, w in found if w == min(waves))
            ctx.report(
                doc,
                SYNC_WAVE,
                f"{doc.kind} is in wave {wave} but its CRD comes from {provider} in wave "
                f"{min(waves)}: the provider must sync in an earlier wave",
            )
