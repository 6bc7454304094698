"""``talos.verify``: does the platform work, not only do its pods run.

Each check is a pure function of what the API returned (``kubectl get ... -o json`` lists) and
gives one row: passed or not, and what it saw. The task gathers the lists once, adds the one
network check (the Gateway answers on its address), prints a table, JSON or JUnit XML.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Objects = Sequence[Mapping[str, Any]]

#: Where the platform lives (deploy/: component.yaml namespaces).
PLATFORM_NAMESPACE = "propertea"
GATEWAY = ("gateway", "shared")
WILDCARD = ("gateway", "wildcard")
#: Platform services that must have ready endpoints (their Services' names start so).
REACHABLE = ("redis", "rabbitmq", "zitadel", "openfga")


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    detail: str


def _name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


def _condition(obj: Mapping[str, Any], kind: str) -> str | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return str(cond.get("status"))
    return None


def _find(objs: Objects, ns: str, name: str) -> Mapping[str, Any] | None:
    for obj in objs:
        meta = obj.get("metadata") or {}
        if meta.get("namespace") == ns and meta.get("name") == name:
            return obj
    return None


def _all(
    name: str, objs: Objects, bad: Callable[[Mapping[str, Any]], str | None], noun: str
) -> Outcome:
    """Every object passes ``bad`` (None) ; at least one exists."""
    if not objs:
        return Outcome(name, False, f"no {noun} found")
    problems = [f"{_name(o)}: {why}" for o in objs if (why := bad(o))]
    if problems:
        shown = "; ".join(problems[:4]) + (
            f"; and {len(problems) - 4} more" if len(problems) > 4 else ""
        )
        return Outcome(name, False, shown)
    return Outcome(name, True, f"{len(objs)} {noun}")


def nodes_ready(nodes: Objects) -> Outcome:
    return _all(
        "nodes Ready",
        nodes,
        lambda n: None if _condition(n, "Ready") == "True" else "not Ready",
        "nodes Ready",
    )


def _rollout(obj: Mapping[str, Any]) -> str | None:
    """Why a Deployment, StatefulSet or DaemonSet is not fully available (None: it is)."""
    status = obj.get("status") or {}
    if obj.get("kind") == "DaemonSet":
        want, ready = status.get("desiredNumberScheduled", 0), status.get("numberReady", 0)
    else:
        want, ready = (obj.get("spec") or {}).get("replicas", 1), status.get("readyReplicas", 0)
    return None if ready >= want else f"{ready}/{want} ready"


def workload_ready(name: str, objs: Objects, ns: str, workload: str) -> Outcome:
    found = _find(objs, ns, workload)
    if found is None:
        return Outcome(name, False, f"{ns}/{workload} not found")
    why = _rollout(found)
    return Outcome(name, why is None, why or f"{ns}/{workload} ready")


def namespace_workloads(name: str, objs: Objects, ns: str) -> Outcome:
    mine = [o for o in objs if (o.get("metadata") or {}).get("namespace") == ns]
    return _all(name, mine, _rollout, f"workloads in {ns} available")


def gateway_address(gateways: Objects) -> tuple[Outcome, str | None]:
    """The shared Gateway is Programmed and has its (L2-announced) address."""
    name = "Gateway has its address"
    gw = _find(gateways, *GATEWAY)
    if gw is None:
        return Outcome(name, False, f"Gateway {'/'.join(GATEWAY)} not found"), None
    addresses = [a.get("value") for a in (gw.get("status") or {}).get("addresses") or []]
    addresses = [a for a in addresses if a]
    if _condition(gw, "Programmed") != "True" or not addresses:
        return Outcome(name, False, f"Programmed={_condition(gw, 'Programmed')}, no address"), None
    return Outcome(name, True, f"Programmed, address {addresses[0]}"), str(addresses[0])


def https_port(gateways: Objects) -> int:
    gw = _find(gateways, *GATEWAY) or {}
    for listener in (gw.get("spec") or {}).get("listeners") or []:
        if listener.get("protocol") == "HTTPS":
            return int(listener.get("port", 443))
    return 443


def certificate_issued(certificates: Objects) -> Outcome:
    name = "wildcard certificate issued"
    cert = _find(certificates, *WILDCARD)
    if cert is None:
        return Outcome(name, False, f"Certificate {'/'.join(WILDCARD)} not found")
    ready = _condition(cert, "Ready")
    after = (cert.get("status") or {}).get("notAfter", "?")
    if ready != "True":
        return Outcome(name, False, f"Ready={ready}")
    return Outcome(name, True, f"Ready, valid until {after}")


def postgres_primary(clusters: Objects) -> Outcome:
    def bad(c: Mapping[str, Any]) -> str | None:
        status = c.get("status") or {}
        want, ready = (c.get("spec") or {}).get("instances", 1), status.get("readyInstances", 0)
        if not status.get("currentPrimary"):
            return "no primary"
        return None if ready >= want else f"{ready}/{want} instances ready"

    return _all("CNPG primary and instances", clusters, bad, "PostgreSQL clusters healthy")


def databases_applied(databases: Objects) -> Outcome:
    return _all(
        "CNPG databases exist",
        databases,
        lambda d: None if (d.get("status") or {}).get("applied") is True else "not applied",
        "databases applied",
    )


def reachable(slices: Objects, service: str, ns: str = PLATFORM_NAMESPACE) -> Outcome:
    """A Service of the component has at least one ready endpoint (EndpointSlices)."""
    name = f"{service} reachable"
    mine = [
        s
        for s in slices
        if (s.get("metadata") or {}).get("namespace") == ns
        and str(
            ((s.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name", "")
        ).startswith(service)
    ]
    ready = sum(
        1
        for s in mine
        for e in s.get("endpoints") or []
        if (e.get("conditions") or {}).get("ready") is not False
    )
    if not mine:
        return Outcome(name, False, f"no Service {service}* in {ns}")
    return Outcome(name, ready > 0, f"{ready} ready endpoint(s)")


def applications_healthy(apps: Objects) -> Outcome:
    def bad(app: Mapping[str, Any]) -> str | None:
        status = app.get("status") or {}
        sync = (status.get("sync") or {}).get("status", "Unknown")
        health = (status.get("health") or {}).get("status", "Unknown")
        return None if (sync, health) == ("Synced", "Healthy") else f"{sync}/{health}"

    return _all("Argo CD Applications Synced and Healthy", apps, bad, "Applications Synced/Healthy")


@dataclass(frozen=True)
class Facts:
    nodes: Objects
    workloads: Objects
    gateways: Objects
    certificates: Objects
    postgres: Objects
    databases: Objects
    slices: Objects
    applications: Objects


def checks(f: Facts) -> tuple[list[Outcome], str | None, int]:
    """Every check but the network probe, and where that probe goes (address, port)."""
    gateway, address = gateway_address(f.gateways)
    found = [
        nodes_ready(f.nodes),
        workload_ready("Cilium agent on every node", f.workloads, "kube-system", "cilium"),
        workload_ready("Hubble Relay", f.workloads, "kube-system", "hubble-relay"),
        gateway,
        certificate_issued(f.certificates),
        postgres_primary(f.postgres),
        databases_applied(f.databases),
        *(reachable(f.slices, s) for s in REACHABLE),
        namespace_workloads("platform workloads available", f.workloads, PLATFORM_NAMESPACE),
        workload_ready(
            "OTel Collector on every node", f.workloads, "observability", "otel-collector-agent"
        ),
        applications_healthy(f.applications),
    ]
    return found, address, https_port(f.gateways)


def junit(outcomes: Iterable[Outcome], suite: str = "talos.verify") -> str:
    """JUnit XML (one testcase per check) for CI test reports."""
    from xml.etree import ElementTree as ET

    rows = list(outcomes)
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(rows)),
        failures=str(sum(not r.ok for r in rows)),
    )
    for r in rows:
        case = ET.SubElement(root, "testcase", classname=suite, name=r.name)
        if r.ok:
            ET.SubElement(case, "system-out").text = r.detail
        else:
            ET.SubElement(case, "failure", message=r.detail).text = r.detail
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# -- telemetry round trip -------------------------------------------------------------------
#
# One trace, one log record and one metric point go to an OTel Collector pod's OTLP/HTTP
# receiver through the API server's pod proxy; each must then be found in its backend (Tempo by
# trace ID, Loki and VictoriaMetrics by a label unique to the run), queried through the service
# proxy. Names follow deploy/observability (the collector's exporters name these services).

OBSERVABILITY = "observability"
COLLECTOR_SELECTOR = "app.kubernetes.io/name=opentelemetry-collector"
SERVICE_NAME = "propertea-verify"
TEMPO = "tempo:3200"
LOKI = "loki:3100"
VMSINGLE = "vmsingle-vm:8428"


@dataclass(frozen=True)
class Probe:
    """What one run sends: unique IDs and the time it was sent."""

    marker: str
    trace_id: str
    span_id: str
    now_ns: int


def new_probe() -> Probe:
    import secrets
    import time

    run = secrets.token_hex(4)
    return Probe(f"verify-{run}", secrets.token_hex(16), secrets.token_hex(8), time.time_ns())


def _resource() -> dict[str, Any]:
    return {"attributes": [{"key": "service.name", "value": {"stringValue": SERVICE_NAME}}]}


def _run_attribute(p: Probe) -> list[dict[str, Any]]:
    return [{"key": "run", "value": {"stringValue": p.marker}}]


def payloads(p: Probe) -> dict[str, dict[str, Any]]:
    """OTLP/JSON bodies by signal (the path under /v1/ each is posted to)."""
    scope = {"name": "talos.verify"}
    start, end = str(p.now_ns - 1_000_000), str(p.now_ns)
    return {
        "traces": {
            "resourceSpans": [{
                "resource": _resource(),
                "scopeSpans": [{"scope": scope, "spans": [{
                    "traceId": p.trace_id, "spanId": p.span_id, "name": "talos.verify",
                    "kind": 1, "startTimeUnixNano": start, "endTimeUnixNano": end,
                    "attributes": _run_attribute(p),
                }]}],
            }]
        },
        "logs": {
            "resourceLogs": [{
                "resource": _resource(),
                "scopeLogs": [{"scope": scope, "logRecords": [{
                    "timeUnixNano": end, "severityNumber": 9, "severityText": "INFO",
                    "body": {"stringValue": f"talos.verify {p.marker}"},
                    "attributes": _run_attribute(p),
                }]}],
            }]
        },
        "metrics": {
            "resourceMetrics": [{
                "resource": _resource(),
                "scopeMetrics": [{"scope": scope, "metrics": [{
                    "name": "propertea.verify",
                    "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [{
                        "asInt": "1", "startTimeUnixNano": start, "timeUnixNano": end,
                        "attributes": _run_attribute(p),
                    }]},
                }]}],
            }]
        },
    }  # fmt: skip


def collector_path(pod: str, signal: str) -> str:
    return f"/api/v1/namespaces/{OBSERVABILITY}/pods/{pod}:4318/proxy/v1/{signal}"


def _service(service: str, path: str) -> str:
    return f"/api/v1/namespaces/{OBSERVABILITY}/services/{service}/proxy{path}"


def query_paths(p: Probe) -> dict[str, str]:
    """Where each signal is looked for (API-server proxy paths, query strings encoded)."""
    from urllib.parse import urlencode

    since = str(p.now_ns - 600 * 10**9)
    loki = urlencode(
        {
            "query": f'{{service_name="{SERVICE_NAME}"}} |= "{p.marker}"',
            "start": since,
            "limit": "5",
        }
    )
    vm = urlencode({"query": f'{{run="{p.marker}"}}'})
    return {
        "traces": _service(TEMPO, f"/api/traces/{p.trace_id}"),
        "logs": _service(LOKI, f"/loki/api/v1/query_range?{loki}"),
        "metrics": _service(VMSINGLE, f"/api/v1/query?{vm}"),
    }


def found(signal: str, text: str) -> bool:
    """Whether a backend's answer holds what was sent (Tempo answers 404 until it has it)."""
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    if signal == "traces":
        return bool(data.get("batches") or data.get("resourceSpans") or data.get("trace"))
    result = (data.get("data") or {}).get("result")
    return bool(result)


TELEMETRY_CHECKS = {
    "traces": "trace through the OTel Collector found in Tempo",
    "logs": "log through the OTel Collector found in Loki",
    "metrics": "metric through the OTel Collector found in VictoriaMetrics",
}


def running_pod(pods: Objects) -> str | None:
    for pod in pods:
        if (pod.get("status") or {}).get("phase") == "Running":
            return str((pod.get("metadata") or {}).get("name"))
    return None
