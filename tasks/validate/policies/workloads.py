"""Pods: resources, probes, non-root, pinned images, spreading across workers, real node names."""

from __future__ import annotations

from typing import Any

from tasks.validate.model import Doc
from tasks.validate.policies.base import (
    HOSTNAME_KEY,
    RUN_TO_COMPLETION,
    Context,
    Rule,
    as_dict,
    as_list,
    dig,
    pod_spec,
)

RESOURCES = Rule(
    "policy/resources",
    "containers request CPU and memory and cap memory, so the two 8 GB workers can be planned",
)
PROBES = Rule(
    "policy/probes",
    "long-running containers have liveness and readiness probes, so rollouts and restarts are safe",
)
NON_ROOT = Rule(
    "policy/non-root",
    "pods run as non-root (runAsNonRoot or a non-zero runAsUser)",
)
IMAGE_PINNED = Rule(
    "policy/image-pinned",
    "images are pinned by tag or digest, never latest or untagged, so a sync is reproducible",
)
SPREAD = Rule(
    "policy/spread",
    "stateful workloads with several replicas spread across workers, so one node loss keeps "
    "them up",
)
NODE_NAME = Rule(
    "policy/node-name",
    "node names in selectors are nodes of the spec",
)


def workload(ctx: Context, doc: Doc) -> None:
    found = pod_spec(doc)
    if found is None:
        _spread_custom(ctx, doc)
        return
    base, pod = found
    containers = as_list(pod.get("containers"))
    inits = as_list(pod.get("initContainers"))
    pod_sc = as_dict(pod.get("securityContext"))
    for field, items in (("containers", containers), ("initContainers", inits)):
        for i, container in enumerate(items):
            if not isinstance(container, dict):
                continue
            where = [*base, field, i]
            name = container.get("name", i)
            image = container.get("image")
            problem = image_problem(image)
            if problem:
                ctx.report(doc, IMAGE_PINNED, f"container {name}: {problem}", [*where, "image"])
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
                if not dig(resources, section, res)
            ]
            if missing:
                ctx.report(
                    doc,
                    RESOURCES,
                    f"container {name}: no resources.{', resources.'.join(missing)}",
                    [*where, "resources"],
                )
            if doc.kind not in RUN_TO_COMPLETION:
                absent = [p for p in ("livenessProbe", "readinessProbe") if not container.get(p)]
                if absent:
                    ctx.report(doc, PROBES, f"container {name}: no {' or '.join(absent)}", where)
            sc = as_dict(container.get("securityContext"))
            if not _non_root(pod_sc, sc):
                ctx.report(
                    doc,
                    NON_ROOT,
                    f"container {name}: set securityContext.runAsNonRoot: true (pod or container)",
                    where,
                )
    if doc.kind == "StatefulSet":
        replicas = dig(doc.data, "spec", "replicas")
        if (replicas if isinstance(replicas, int) else 1) > 1 and not _spreads(pod):
            ctx.report(
                doc,
                SPREAD,
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
    anti = dig(pod, "affinity", "podAntiAffinity")
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
    instances = dig(doc.data, "spec", "instances")
    if not isinstance(instances, int) or instances < 2:
        return
    affinity = dig(doc.data, "spec", "affinity") or {}
    if (
        affinity.get("enablePodAntiAffinity") is False
        or affinity.get("podAntiAffinityType") != "required"
        or affinity.get("topologyKey", HOSTNAME_KEY) != HOSTNAME_KEY
    ):
        ctx.report(
            doc,
            SPREAD,
            f"{instances} instances: set spec.affinity.podAntiAffinityType: required (topologyKey "
            f"{HOSTNAME_KEY}) so each instance lands on its own worker",
            ["spec", "affinity"] if affinity else ["spec", "instances"],
        )


def node_names(ctx: Context, doc: Doc) -> None:
    if ctx.spec is None:
        return
    nodes = {n.name for n in ctx.spec.nodes}
    found = pod_spec(doc)
    if found is None:
        return
    base, pod = found
    named: list[tuple[list[Any], Any]] = []
    selector = pod.get("nodeSelector")
    if isinstance(selector, dict) and HOSTNAME_KEY in selector:
        named.append(([*base, "nodeSelector", HOSTNAME_KEY], selector[HOSTNAME_KEY]))
    if "nodeName" in pod:
        named.append(([*base, "nodeName"], pod["nodeName"]))
    terms = dig(
        pod,
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    )
    for t, term in enumerate(terms if isinstance(terms, list) else []):
        for e, expr in enumerate(dig(term, "matchExpressions") or []):
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
                NODE_NAME,
                f"node {value!r} is not in the cluster spec ({', '.join(sorted(nodes))})",
                path,
            )
