"""A healthy platform as `kubectl get -o json` lists (talos.verify's facts), to break one piece at
a time. Shapes follow the real objects: conditions, status fields, EndpointSlice labels."""

from __future__ import annotations

import copy
from typing import Any


def _meta(name: str, ns: str | None = None, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    if labels:
        meta["labels"] = labels
    return meta


def _ready(kind: str = "Ready") -> dict[str, Any]:
    return {"conditions": [{"type": kind, "status": "True"}]}


def healthy(address: str = "192.168.50.200", port: int = 443) -> dict[str, list[dict[str, Any]]]:
    """Field of verify.Facts -> items."""
    deploy = lambda name, ns: {  # noqa: E731 (a table of one-liners)
        "kind": "Deployment", "metadata": _meta(name, ns),
        "spec": {"replicas": 1}, "status": {"readyReplicas": 1},
    }  # fmt: skip
    slice_ = lambda svc: {  # noqa: E731
        "metadata": _meta(f"{svc}-abcde", "propertea", **{"kubernetes.io/service-name": svc}),
        "endpoints": [{"addresses": ["10.244.1.7"], "conditions": {"ready": True}}],
    }  # fmt: skip
    return {
        "nodes": [
            {"metadata": _meta(n), "status": _ready()}
            for n in ("talos-cp-01", "talos-worker-01", "talos-worker-02")
        ],
        "workloads": [
            {"kind": "DaemonSet", "metadata": _meta("cilium", "kube-system"),
             "status": {"desiredNumberScheduled": 3, "numberReady": 3}},
            deploy("hubble-relay", "kube-system"),
            {"kind": "DaemonSet", "metadata": _meta("otel-collector-agent", "observability"),
             "status": {"desiredNumberScheduled": 3, "numberReady": 3}},
            deploy("zitadel", "propertea"),
            deploy("openfga", "propertea"),
            {"kind": "StatefulSet", "metadata": _meta("redis-master", "propertea"),
             "spec": {"replicas": 1}, "status": {"readyReplicas": 1}},
        ],
        "gateways": [
            {"metadata": _meta("shared", "gateway"),
             "spec": {"listeners": [{"name": "http", "protocol": "HTTP", "port": 80},
                                    {"name": "https", "protocol": "HTTPS", "port": port}]},
             "status": {"addresses": [{"type": "IPAddress", "value": address}],
                        **_ready("Programmed")}},
        ],
        "certificates": [
            {"metadata": _meta("wildcard", "gateway"),
             "status": {**_ready(), "notAfter": "2027-02-01T00:00:00Z"}},
        ],
        "postgres": [
            {"metadata": _meta("pg", "propertea"), "spec": {"instances": 2},
             "status": {"readyInstances": 2, "currentPrimary": "pg-1"}},
        ],
        "databases": [
            {"metadata": _meta(db, "propertea"), "status": {"applied": True}}
            for db in ("zitadel", "openfga", "organization", "company", "property", "user")
        ],
        "slices": [slice_(s) for s in ("redis-master", "rabbitmq", "zitadel", "openfga-http")],
        "applications": [
            {"metadata": _meta(a, "argocd"),
             "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}}
            for a in ("argocd", "cilium", "gateway", "redis")
        ],
    }  # fmt: skip


def broken(facts: dict[str, list[dict[str, Any]]], field: str, path: str, value: Any) -> Any:
    """A deep copy with one value changed: ``path`` is ``index.key.key`` into ``facts[field]``."""
    out = copy.deepcopy(facts)
    index, *keys = path.split(".")
    node: Any = out[field][int(index)]
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out
