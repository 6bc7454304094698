"""``policies``: rules about how the pieces fit together, each with an id and a reason.

An object is exempted from a rule by the annotation ``validate.propertea.io/skip: "<id>[,<id>]"``
together with ``validate.propertea.io/skip-reason``; anything else (a values file, a path) through
config ``validate.skip``. Rules (id: why):
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.validate.model import SKIP_ANNOTATION, SKIP_REASON_ANNOTATION, Doc
from tasks.validate.registry import register_family

if TYPE_CHECKING:
    from tasks.core.config import ClusterSpec
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result
    from tasks.validate.tree import Tree

RULES: dict[str, str] = {
    "policy/resources": "containers request CPU and memory and cap memory, so the two 8 GB "
    "workers can be planned",
    "policy/probes": "long-running containers have liveness and readiness probes, so rollouts "
    "and restarts are safe",
    "policy/non-root": "pods run as non-root (runAsNonRoot or a non-zero runAsUser)",
    "policy/image-pinned": "images are pinned by tag or digest, never latest or untagged, so a "
    "sync is reproducible",
    "policy/spread": "stateful workloads with several replicas spread across workers, so one "
    "node loss keeps them up",
    "policy/namespace": "every namespace used is created by something (a Namespace, a component, "
    "CreateNamespace)",
    "policy/route-parent": "routes attach to a Gateway that exists",
    "policy/route-backend": "routes send traffic to Services and ports that exist",
    "policy/gateway-address": "Gateway and LoadBalancer addresses come from the spec's pool",
    "policy/lb-pool": "the CiliumLoadBalancerIPPool is exactly the spec's pool, clear of DHCP",
    "policy/repo-url": "Argo CD pulls from the spec's repository and branch",
    "policy/app-path": "Argo CD sources point at paths and values files that exist",
    "policy/app-unique": "Application names are unique",
    "policy/crd-installed": "every custom resource's CRD is installed by some component",
    "policy/sync-wave": "CRD providers sync in an earlier wave than their consumers",
    "policy/node-name": "node names in selectors are nodes of the spec",
    "policy/skip-reason": "every exemption says why",
}
__doc__ = (__doc__ or "") + "".join(f"\n- ``{k}``: {v}" for k, v in RULES.items())

BUILTIN_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
WORKLOAD_TEMPLATE = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Rollout": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
RUN_TO_COMPLETION = {"Job", "CronJob"}
HOSTNAME_KEY = "kubernetes.io/hostname"
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


def _get(data: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _templated(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "$" in value)


@dataclass
class Context:
    ws: Workspace
    tree: Tree
    result: Result
    spec: ClusterSpec | None
    components: dict[str, dict[str, Any]]
    #: Families and id prefixes a skip annotation may name besides the policy rules.
    families: set[str]

    def report(self, doc: Doc, check: str, message: str, path: list[Any] | None = None) -> None:
        if self.ws.skipped(check, doc):
            return
        line = doc.line_of(path) if path else doc.line
        self.result.add(doc.path, line, check, message, doc.ref)

    def namespace_of(self, doc: Doc) -> str | None:
        if doc.namespace:
            return doc.namespace
        component = self.components.get(doc.component or "")
        ns = component.get("namespace") if component else None
        return ns if isinstance(ns, str) else None

    def wave_of(self, doc: Doc) -> int | None:
        component = self.components.get(doc.component or "")
        wave = component.get("wave") if component else None
        return wave if isinstance(wave, int) else None


def check_policies(ws: Workspace, result: Result) -> None:
    tree = ws.tree
    components: dict[str, dict[str, Any]] = {}
    for source in tree.by_role("component"):
        if source.docs and source.docs[0].is_object:
            components[str(Path(source.path).parent)] = source.docs[0].data
    from tasks.validate.registry import families

    known = {*families(), "secrets", "manifests", "component", "yaml"}
    ctx = Context(ws, tree, result, ws.spec.spec if ws.spec else None, components, known)
    objects = [d for d in tree.objects if d.is_object and d.kind]
    for doc in objects:
        _skip_reason(ctx, doc)
        _workload(ctx, doc)
        _node_names(ctx, doc)
    _namespaces(ctx, objects)
    _routes(ctx, objects)
    _addresses(ctx, objects)
    _argocd(ctx, objects)
    _crds(ctx, objects)


# -- per object -----------------------------------------------------------------------------


def _skip_reason(ctx: Context, doc: Doc) -> None:
    listed = doc.annotations.get(SKIP_ANNOTATION)
    if listed is None:
        return
    path = ["metadata", "annotations", SKIP_ANNOTATION]
    if not str(doc.annotations.get(SKIP_REASON_ANNOTATION) or "").strip():
        ctx.result.add(
            doc.path,
            doc.line_of(path),
            "policy/skip-reason",
            f"{SKIP_ANNOTATION} needs a {SKIP_REASON_ANNOTATION} annotation saying why",
            doc.ref,
        )
    for check in (s.strip() for s in str(listed).split(",")):
        family = check.split("/", 1)[0]
        if check not in RULES and family not in ctx.families:
            ctx.result.add(
                doc.path,
                doc.line_of(path),
                "policy/skip-reason",
                f"unknown check id {check!r}",
                doc.ref,
            )


def _pod_spec(doc: Doc) -> tuple[list[str], dict[str, Any]] | None:
    path = WORKLOAD_TEMPLATE.get(doc.kind)
    if path is None:
        return None
    spec = _get(doc.data, *path)
    return (list(path), spec) if isinstance(spec, dict) else None


def _workload(ctx: Context, doc: Doc) -> None:
    found = _pod_spec(doc)
    if found is None:
        _spread_custom(ctx, doc)
        return
    base, pod = found
    containers = _list(pod.get("containers"))
    inits = _list(pod.get("initContainers"))
    pod_sc = _dict(pod.get("securityContext"))
    for field, items in (("containers", containers), ("initContainers", inits)):
        for i, container in enumerate(items):
            if not isinstance(container, dict):
                continue
            where = [*base, field, i]
            name = container.get("name", i)
            image = container.get("image")
            problem = image_problem(image)
            if problem:
                ctx.report(
                    doc, "policy/image-pinned", f"container {name}: {problem}", [*where, "image"]
                )
            if field != "containers":
                continue
            resources = (
                container.get("resources") if isinstance(container.get("resources"), dict) else {}
            )
            missing = [
                f"{section}.{res}"
                for section, res in (
                    ("requests", "cpu"),
                    ("requests", "memory"),
                    ("limits", "memory"),
                )
                if not _get(resources, section, res)
            ]
            if missing:
                ctx.report(
                    doc,
                    "policy/resources",
                    f"container {name}: no resources.{', resources.'.join(missing)}",
                    [*where, "resources"],
                )
            if doc.kind not in RUN_TO_COMPLETION:
                absent = [p for p in ("livenessProbe", "readinessProbe") if not container.get(p)]
                if absent:
                    ctx.report(
                        doc, "policy/probes", f"container {name}: no {' or '.join(absent)}", where
                    )
            sc = _dict(container.get("securityContext"))
            if not _non_root(pod_sc, sc):
                ctx.report(
                    doc,
                    "policy/non-root",
                    f"container {name}: set securityContext.runAsNonRoot: true (pod or container)",
                    where,
                )
    if doc.kind == "StatefulSet":
        replicas = _get(doc.data, "spec", "replicas")
        if (replicas if isinstance(replicas, int) else 1) > 1 and not _spreads(pod):
            ctx.report(
                doc,
                "policy/spread",
                f"{replicas} replicas without podAntiAffinity or topologySpreadConstraints on "
                f"{HOSTNAME_KEY}",
                ["spec", "replicas"],
            )


def image_problem(image: Any) -> str | None:
    if not isinstance(image, str) or not image:
        return "no image"
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image} has no tag (pin a version or a digest)"
    tag = last.rsplit(":", 1)[-1]
    if tag == "latest":
        return f"image {image} uses the latest tag (pin a version or a digest)"
    return None


def _non_root(pod_sc: dict[str, Any], sc: dict[str, Any]) -> bool:
    merged = {**pod_sc, **sc}
    if merged.get("runAsNonRoot") is False:
        return False
    user = merged.get("runAsUser")
    return merged.get("runAsNonRoot") is True or (isinstance(user, int) and user > 0)


def _spreads(pod: dict[str, Any]) -> bool:
    anti = _get(pod, "affinity", "podAntiAffinity")
    if isinstance(anti, dict):
        terms = list(anti.get("requiredDuringSchedulingIgnoredDuringExecution") or [])
        terms += [
            t.get("podAffinityTerm", {})
            for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []
            if isinstance(t, dict)
        ]
        if any(isinstance(t, dict) and t.get("topologyKey") == HOSTNAME_KEY for t in terms):
            return True
    spread = pod.get("topologySpreadConstraints")
    return isinstance(spread, list) and any(
        isinstance(t, dict) and t.get("topologyKey") == HOSTNAME_KEY for t in spread
    )


def _spread_custom(ctx: Context, doc: Doc) -> None:
    """CloudNativePG clusters: required anti-affinity (the operator's default is preferred)."""
    if doc.group != "postgresql.cnpg.io" or doc.kind != "Cluster":
        return
    instances = _get(doc.data, "spec", "instances")
    if not isinstance(instances, int) or instances < 2:
        return
    affinity = _get(doc.data, "spec", "affinity") or {}
    if (
        affinity.get("enablePodAntiAffinity") is False
        or affinity.get("podAntiAffinityType") != "required"
        or affinity.get("topologyKey", HOSTNAME_KEY) != HOSTNAME_KEY
    ):
        ctx.report(
            doc,
            "policy/spread",
            f"{instances} instances: set spec.affinity.podAntiAffinityType: required (topologyKey "
            f"{HOSTNAME_KEY}) so each instance lands on its own worker",
            ["spec", "affinity"] if affinity else ["spec", "instances"],
        )


def _node_names(ctx: Context, doc: Doc) -> None:
    if ctx.spec is None:
        return
    nodes = {n.name for n in ctx.spec.nodes}
    found = _pod_spec(doc)
    if found is None:
        return
    base, pod = found
    named: list[tuple[list[Any], Any]] = []
    selector = pod.get("nodeSelector")
    if isinstance(selector, dict) and HOSTNAME_KEY in selector:
        named.append(([*base, "nodeSelector", HOSTNAME_KEY], selector[HOSTNAME_KEY]))
    if "nodeName" in pod:
        named.append(([*base, "nodeName"], pod["nodeName"]))
    terms = _get(
        pod,
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    )
    for t, term in enumerate(terms if isinstance(terms, list) else []):
        for e, expr in enumerate(_get(term, "matchExpressions") or []):
            if isinstance(expr, dict) and expr.get("key") == HOSTNAME_KEY:
                for value in expr.get("values") or []:
                    named.append(
                        (
                            [
                                *base,
                                "affinity",
                                "nodeAffinity",
                                "requiredDuringSchedulingIgnoredDuringExecution",
                                "nodeSelectorTerms",
                                t,
                                "matchExpressions",
                                e,
                            ],
                            value,
                        )
                    )
    for path, value in named:
        if value not in nodes:
            ctx.report(
                doc,
                "policy/node-name",
                f"node {value!r} is not in the cluster spec ({', '.join(sorted(nodes))})",
                path,
            )


# -- across objects --------------------------------------------------------------------------


def _created_namespaces(ctx: Context, objects: list[Doc]) -> set[str]:
    created = set(BUILTIN_NAMESPACES)
    for data in ctx.components.values():
        if isinstance(data.get("namespace"), str):
            created.add(data["namespace"])
    for doc in objects:
        if doc.kind == "Namespace" and doc.name:
            created.add(doc.name)
        for spec in _app_specs(doc):
            options = _get(spec, "syncPolicy", "syncOptions") or []
            ns = _get(spec, "destination", "namespace")
            if "CreateNamespace=true" in options and isinstance(ns, str) and not _templated(ns):
                created.add(ns)
    return created


def _namespaces(ctx: Context, objects: list[Doc]) -> None:
    created = _created_namespaces(ctx, objects)
    for doc in objects:
        ns = doc.namespace
        if ns and ns not in created and not _templated(ns):
            ctx.report(
                doc,
                "policy/namespace",
                f"namespace {ns!r} is not created by anything",
                ["metadata", "namespace"],
            )
        for spec in _app_specs(doc):
            dest = _get(spec, "destination", "namespace")
            if isinstance(dest, str) and dest and not _templated(dest) and dest not in created:
                ctx.report(
                    doc,
                    "policy/namespace",
                    f"destination namespace {dest!r} is not created by anything (add "
                    "CreateNamespace=true or a Namespace)",
                    ["spec", "destination", "namespace"],
                )


def _chart_values(ctx: Context, directory: str) -> list[Any]:
    """The plain values files a Helm component lists, parsed (secrets never enable Services)."""
    files = _get(ctx.components.get(directory), "valueFiles") or []
    out = []
    for name in files:
        if isinstance(name, str) and not name.startswith("secrets://"):
            source = ctx.tree.files.get(f"{directory}/{name}")
            if source is not None and source.docs:
                out.append(source.docs[0].data)
    return out


def _chart_services(ctx: Context) -> dict[tuple[str | None, str], set[int]]:
    found: dict[tuple[str | None, str], set[int]] = {}
    for chart in ctx.tree.by_role("chart"):
        directory = str(Path(chart.path).parent)
        namespace = _get(ctx.components.get(directory), "namespace")
        deps = _get(chart.docs[0].data, "dependencies") if chart.docs else None
        for dep in deps if isinstance(deps, list) else []:
            name = str(_get(dep, "name"))
            values = _chart_values(ctx, directory)
            for service in CHART_SERVICES.get(name, []):
                if service.enabled_by is not None:
                    path = [name, *service.enabled_by.split(".")]
                    enabled = [v for v in (_get(d, *path) for d in values) if v is not None]
                    if not enabled or enabled[-1] is not True:
                        continue
                found[(namespace, service.name)] = set(service.ports)
    return found


def _routes(ctx: Context, objects: list[Doc]) -> None:
    gateways = {(ctx.namespace_of(d), d.name) for d in objects if d.kind == "Gateway"}
    services: dict[tuple[str | None, str], set[int]] = _chart_services(ctx)
    for d in objects:
        if d.kind == "Service" and d.api_version == "v1":
            ports = _get(d.data, "spec", "ports") or []
            services[(ctx.namespace_of(d), d.name)] = {
                int(p["port"])
                for p in ports
                if isinstance(p, dict) and isinstance(p.get("port"), int)
            }
    for doc in objects:
        if doc.group != "gateway.networking.k8s.io" or not doc.kind.endswith("Route"):
            continue
        ns = ctx.namespace_of(doc)
        for i, ref in enumerate(_get(doc.data, "spec", "parentRefs") or []):
            if not isinstance(ref, dict) or ref.get("kind", "Gateway") != "Gateway":
                continue
            key = (ref.get("namespace", ns), ref.get("name"))
            if key not in gateways:
                ctx.report(
                    doc,
                    "policy/route-parent",
                    f"parentRef Gateway {key[0]}/{key[1]} does not exist",
                    ["spec", "parentRefs", i],
                )
        for r, rule in enumerate(_get(doc.data, "spec", "rules") or []):
            for b, ref in enumerate(_get(rule, "backendRefs") or []):
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
                        "policy/route-backend",
                        f"backendRef Service {key[0]}/{key[1]} does not exist",
                        path,
                    )
                elif ref.get("port") is not None and ref.get("port") not in services[key]:
                    ports = ", ".join(map(str, sorted(services[key]))) or "none"
                    ctx.report(
                        doc,
                        "policy/route-backend",
                        f"Service {key[0]}/{key[1]} has no port {ref.get('port')} (ports: {ports})",
                        [*path, "port"],
                    )


def _ranges(blocks: Any) -> Iterator[tuple[int, int, int]]:
    for i, block in enumerate(blocks if isinstance(blocks, list) else []):
        if not isinstance(block, dict):
            continue
        try:
            if "cidr" in block:
                net = ipaddress.ip_network(str(block["cidr"]), strict=False)
                yield i, int(net.network_address), int(net.broadcast_address)
            elif "start" in block:
                start = int(ipaddress.ip_address(str(block["start"])))
                stop = int(ipaddress.ip_address(str(block.get("stop", block["start"]))))
                yield i, start, stop
        except ValueError:
            continue


def _addresses(ctx: Context, objects: list[Doc]) -> None:
    if ctx.spec is None:
        return
    lb = ctx.spec.load_balancer
    lo, hi = int(ipaddress.IPv4Address(lb.pool.start)), int(ipaddress.IPv4Address(lb.pool.end))
    dhcp = ctx.spec.network.dhcp
    dlo, dhi = int(ipaddress.IPv4Address(dhcp.start)), int(ipaddress.IPv4Address(dhcp.end))
    nodes = {int(ipaddress.IPv4Address(n.ip)): n.name for n in ctx.spec.nodes}

    def in_pool(value: Any) -> bool:
        try:
            return lo <= int(ipaddress.ip_address(str(value))) <= hi
        except ValueError:
            return False

    for doc in objects:
        if doc.kind == "CiliumLoadBalancerIPPool":
            ranges = list(_ranges(_get(doc.data, "spec", "blocks")))
            covered = sorted((a, b) for _, a, b in ranges)
            merged: list[list[int]] = []
            for a, b in covered:
                if merged and a <= merged[-1][1] + 1:
                    merged[-1][1] = max(merged[-1][1], b)
                else:
                    merged.append([a, b])
            for i, a, b in ranges:
                if a <= dhi and dlo <= b:
                    ctx.report(
                        doc,
                        "policy/lb-pool",
                        f"block overlaps the DHCP range {dhcp.start}-{dhcp.end}",
                        ["spec", "blocks", i],
                    )
                for ip, name in nodes.items():
                    if a <= ip <= b:
                        ctx.report(
                            doc,
                            "policy/lb-pool",
                            f"block contains {name}'s IP",
                            ["spec", "blocks", i],
                        )
            if merged != [[lo, hi]]:
                have = (
                    ", ".join(
                        f"{ipaddress.IPv4Address(a)}-{ipaddress.IPv4Address(b)}" for a, b in merged
                    )
                    or "nothing"
                )
                ctx.report(
                    doc,
                    "policy/lb-pool",
                    f"blocks cover {have}; the cluster spec's pool is "
                    f"{lb.pool.start}-{lb.pool.end}",
                    ["spec", "blocks"],
                )
        elif doc.kind == "Gateway":
            for i, addr in enumerate(_get(doc.data, "spec", "addresses") or []):
                value = addr.get("value") if isinstance(addr, dict) else None
                if value is not None and not in_pool(value):
                    ctx.report(
                        doc,
                        "policy/gateway-address",
                        f"address {value} is outside the LB pool {lb.pool.start}-{lb.pool.end}",
                        ["spec", "addresses", i],
                    )
        elif doc.kind == "Service" and _get(doc.data, "spec", "type") == "LoadBalancer":
            wanted: list[tuple[list[Any], str]] = []
            ip = _get(doc.data, "spec", "loadBalancerIP")
            if ip:
                wanted.append((["spec", "loadBalancerIP"], str(ip)))
            for key in ("lbipam.cilium.io/ips", "io.cilium/lb-ipam-ips"):
                if key in doc.annotations:
                    for value in str(doc.annotations[key]).split(","):
                        wanted.append((["metadata", "annotations", key], value.strip()))
            for path, value in wanted:
                if not in_pool(value):
                    ctx.report(
                        doc,
                        "policy/gateway-address",
                        f"address {value} is outside the LB pool {lb.pool.start}-{lb.pool.end}",
                        path,
                    )


def _app_specs(doc: Doc) -> Iterator[dict[str, Any]]:
    if doc.group != "argoproj.io":
        return
    if doc.kind == "Application" and isinstance(doc.data.get("spec"), dict):
        yield doc.data["spec"]
    elif doc.kind == "ApplicationSet":
        spec = _get(doc.data, "spec", "template", "spec")
        if isinstance(spec, dict):
            yield spec


def _sources(spec: dict[str, Any]) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    if isinstance(spec.get("source"), dict):
        yield ["source"], spec["source"]
    for i, src in enumerate(spec.get("sources") or []):
        if isinstance(src, dict):
            yield ["sources", i], src


def _argocd(ctx: Context, objects: list[Doc]) -> None:
    root = ctx.ws.root
    names: dict[str, str] = {}
    for directory, data in ctx.components.items():
        if isinstance(data.get("name"), str):
            names[data["name"]] = f"{directory}/component.yaml"
    for doc in objects:
        if doc.group != "argoproj.io" or doc.kind not in ("Application", "ApplicationSet"):
            continue
        base = ["spec"] if doc.kind == "Application" else ["spec", "template", "spec"]
        if doc.kind == "Application":
            where = f"{doc.path}:{doc.line}"
            if doc.name in names and names[doc.name] != where:
                ctx.report(
                    doc,
                    "policy/app-unique",
                    f"Application name {doc.name!r} is also used by {names[doc.name]}",
                    ["metadata", "name"],
                )
            names.setdefault(doc.name, where)
        for spec in _app_specs(doc):
            for sub, src in _sources(spec):
                _check_source(ctx, doc, [*base, *sub], src, root)
        if doc.kind == "ApplicationSet":
            for g, gen in enumerate(_get(doc.data, "spec", "generators") or []):
                for path, git in _git_generators(gen, ["spec", "generators", g]):
                    _check_git_generator(ctx, doc, path, git, root)


def _git_generators(gen: Any, path: list[Any]) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    if not isinstance(gen, dict):
        return
    if isinstance(gen.get("git"), dict):
        yield [*path, "git"], gen["git"]
    for kind in ("matrix", "merge"):
        for i, inner in enumerate(_get(gen, kind, "generators") or []):
            yield from _git_generators(inner, [*path, kind, "generators", i])


def _check_repo(
    ctx: Context, doc: Doc, path: list[Any], repo: Any, *, revision: Any, revision_key: str
) -> None:
    if ctx.spec is None or _templated(repo):
        return
    gitops = ctx.spec.gitops
    if repo != gitops.repo_url:
        ctx.report(
            doc,
            "policy/repo-url",
            f"repoURL {repo!r} is not the spec's gitops.repo_url {gitops.repo_url!r}",
            [*path, "repoURL"],
        )
    elif (
        revision is not None
        and not _templated(revision)
        and revision not in (gitops.branch, "HEAD")
    ):
        ctx.report(
            doc,
            "policy/repo-url",
            f"targetRevision {revision!r} is not the spec's branch {gitops.branch!r}",
            [*path, revision_key],
        )


def _check_source(ctx: Context, doc: Doc, path: list[Any], src: dict[str, Any], root: Path) -> None:
    if "chart" in src:
        return  # a Helm repository source: the chart is pinned by version, not a git path
    _check_repo(
        ctx,
        doc,
        path,
        src.get("repoURL"),
        revision=src.get("targetRevision"),
        revision_key="targetRevision",
    )
    source_path = src.get("path")
    if isinstance(source_path, str) and not _templated(source_path):
        if not (root / source_path).is_dir():
            ctx.report(
                doc,
                "policy/app-path",
                f"path {source_path!r} does not exist in the repository",
                [*path, "path"],
            )
            return
        for i, vf in enumerate(_get(src, "helm", "valueFiles") or []):
            if not isinstance(vf, str) or _templated(vf):
                continue
            target = root / source_path / vf.removeprefix("secrets://")
            template = target.with_name(target.name.replace(".yaml", ".template.yaml"))
            if not target.exists() and not (vf.startswith("secrets://") and template.exists()):
                ctx.report(
                    doc,
                    "policy/app-path",
                    f"values file {vf!r} does not exist",
                    [*path, "helm", "valueFiles", i],
                )


def _check_git_generator(
    ctx: Context, doc: Doc, path: list[Any], git: dict[str, Any], root: Path
) -> None:
    _check_repo(
        ctx, doc, path, git.get("repoURL"), revision=git.get("revision"), revision_key="revision"
    )
    for kind, want_dir in (("directories", True), ("files", False)):
        for i, entry in enumerate(git.get(kind) or []):
            pattern = entry.get("path") if isinstance(entry, dict) else None
            if not isinstance(pattern, str) or entry.get("exclude") or _templated(pattern):
                continue
            matches = [p for p in root.glob(pattern) if p.is_dir() == want_dir]
            if not matches:
                ctx.report(
                    doc,
                    "policy/app-path",
                    f"git generator {kind} path {pattern!r} matches nothing in the repository",
                    [*path, kind, i, "path"],
                )


def crd_providers(
    ws: Workspace, components: dict[str, dict[str, Any]]
) -> dict[str, list[str | None]]:
    """``group/Kind`` or ``group`` -> the component directories that install that CRD.

    From CRD objects in the tree, pinned remote bundles (REMOTE_CRDS) and wrapped charts
    (CHART_CRDS), with the operator's additions from ``validate.*_crds``.
    """
    providers: dict[str, list[str | None]] = {}
    tree = ws.tree
    for doc in tree.objects:
        if doc.is_object and doc.kind == "CustomResourceDefinition":
            group = _get(doc.data, "spec", "group")
            kind = _get(doc.data, "spec", "names", "kind")
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
        deps = _get(chart.docs[0].data, "dependencies") if chart.docs else None
        for dep in deps if isinstance(deps, list) else []:
            for key in table.get(str(_get(dep, "name")), []):
                providers.setdefault(key, []).append(directory if directory in components else None)
    return providers


def _crds(ctx: Context, objects: list[Doc]) -> None:
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
                "policy/crd-installed",
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
                "policy/sync-wave",
                f"{doc.kind} is in wave {wave} but its CRD comes from {provider} in wave "
                f"{min(waves)}: the provider must sync in an earlier wave",
            )


register_family(
    "policies", check_policies, "cross-object rules and cross-checks with the cluster spec"
)
