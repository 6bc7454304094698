"""Gateway API routes: parents that exist, backends (Services and ports) that exist."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.validate.model import Doc
from tasks.validate.policies.base import (
    Context,
    Rule,
    dig,
)

ROUTE_PARENT = Rule(
    "policy/route-parent",
    "routes attach to a Gateway that exists",
)
ROUTE_BACKEND = Rule(
    "policy/route-backend",
    "routes send traffic to Services and ports that exist",
)


@dataclass(frozen=True)
class ChartService:
    """A Service a wrapped chart creates in its release namespace when a value enables it."""

    name: str
    ports: frozenset[int]
    #: Dotted path in the chart's values (under the dependency's key) that must be true;
    #: None when the chart always creates the Service.
    enabled_by: str | None


#: Services created by wrapped charts (invisible offline, since helm cannot render here).
CHART_SERVICES: dict[str, list[ChartService]] = {
    "cilium": [
        ChartService("hubble-ui", frozenset({80}), "hubble.ui.enabled"),
        # 443 when hubble.relay.tls.server.enabled, else 80.
        ChartService("hubble-relay", frozenset({80, 443}), "hubble.relay.enabled"),
    ],
    # The argo-cd chart's nameOverride `argocd` makes release `argocd` name it argocd-server.
    "argo-cd": [ChartService("argocd-server", frozenset({80, 443}), None)],
}


def chart_values(ctx: Context, directory: str) -> list[Any]:
    """The plain values files a Helm component lists, parsed (secrets never enable Services)."""
    files = dig(ctx.components.get(directory), "valueFiles") or []
    out = []
    for name in files:
        if isinstance(name, str) and not name.startswith("secrets://"):
            source = ctx.tree.files.get(f"{directory}/{name}")
            if source is not None and source.docs:
                out.append(source.docs[0].data)
    return out


def chart_services(ctx: Context) -> dict[tuple[str | None, str], set[int]]:
    found: dict[tuple[str | None, str], set[int]] = {}
    for chart in ctx.tree.by_role("chart"):
        directory = str(Path(chart.path).parent)
        namespace = dig(ctx.components.get(directory), "namespace")
        deps = dig(chart.docs[0].data, "dependencies") if chart.docs else None
        for dep in deps if isinstance(deps, list) else []:
            name = str(dig(dep, "name"))
            values = chart_values(ctx, directory)
            for service in CHART_SERVICES.get(name, []):
                if service.enabled_by is not None:
                    path = [name, *service.enabled_by.split(".")]
                    enabled = [v for v in (dig(d, *path) for d in values) if v is not None]
                    if not enabled or enabled[-1] is not True:
                        continue
                found[(namespace, service.name)] = set(service.ports)
    return found


def routes(ctx: Context, objects: list[Doc]) -> None:
    gateways = {(ctx.namespace_of(d), d.name) for d in objects if d.kind == "Gateway"}
    services: dict[tuple[str | None, str], set[int]] = chart_services(ctx)
    for d in objects:
        if d.kind == "Service" and d.api_version == "v1":
            ports = dig(d.data, "spec", "ports") or []
            services[(ctx.namespace_of(d), d.name)] = {
                int(p["port"])
                for p in ports
                if isinstance(p, dict) and isinstance(p.get("port"), int)
            }
    for doc in objects:
        if doc.group != "gateway.networking.k8s.io" or not doc.kind.endswith("Route"):
            continue
        ns = ctx.namespace_of(doc)
        for i, ref in enumerate(dig(doc.data, "spec", "parentRefs") or []):
            if not isinstance(ref, dict) or ref.get("kind", "Gateway") != "Gateway":
                continue
            key = (ref.get("namespace", ns), ref.get("name"))
            if key not in gateways:
                ctx.report(
                    doc,
                    ROUTE_PARENT,
                    f"parentRef Gateway {key[0]}/{key[1]} does not exist",
                    ["spec", "parentRefs", i],
                )
        for r, rule in enumerate(dig(doc.data, "spec", "rules") or []):
            for b, ref in enumerate(dig(rule, "backendRefs") or []):
                if (
                    not isinstance(ref, dict)
                    or ref.get("kind", "Service") != "Service"
                    or ref.get("group", "") != ""
                ):
                    continue
                key = (ref.get("namespace", ns), ref.get("name"))
                path = ["spec", "rules", r, "backendRefs", b]
                if key not in services:
                    ctx.report(
                        doc,
                        ROUTE_BACKEND,
                        f"backendRef Service {key[0]}/{key[1]} does not exist",
                        path,
                    )
                elif ref.get("port") is not None and ref.get("port") not in services[key]:
                    ports = ", ".join(map(str, sorted(services[key]))) or "none"
                    ctx.report(
                        doc,
                        ROUTE_BACKEND,
                        f"Service {key[0]}/{key[1]} has no port {ref.get('port')} (ports: {ports})",
                        [*path, "port"],
                    )
