"""talos.verify's checks: a healthy platform passes each; every check fails alone, with its
message, when its one piece is broken."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest

from tasks.talos import verification as v
from tests.verify_cluster import broken, healthy


def run(facts: dict[str, list[dict[str, Any]]]) -> dict[str, v.Outcome]:
    outcomes, _, _ = v.checks(v.Facts(**facts))
    return {o.name: o for o in outcomes}


def test_a_healthy_platform_passes_every_check() -> None:
    found = run(healthy())
    assert all(o.ok for o in found.values()), [o for o in found.values() if not o.ok]
    assert len(found) == 14
    _, address, port = v.checks(v.Facts(**healthy(port=8443)))
    assert (address, port) == ("192.168.50.200", 8443)


NOT_READY = {"conditions": [{"type": "Ready", "status": "False"}]}

BREAKS = [
    ("nodes Ready", "nodes", "1.status", NOT_READY, "talos-worker-01: not Ready"),
    ("Cilium agent on every node", "workloads", "0.status.numberReady", 2, "2/3 ready"),
    ("Hubble Relay", "workloads", "1.status.readyReplicas", 0, "0/1 ready"),
    ("OTel Collector on every node", "workloads", "2.status.numberReady", 1, "1/3 ready"),
    ("platform workloads available", "workloads", "5.status.readyReplicas", 0,
     "propertea/redis-master: 0/1 ready"),
    ("Gateway has its address", "gateways", "0.status.addresses", [], "no address"),
    ("wildcard certificate issued", "certificates", "0.status.conditions.0.status", "False",
     "Ready=False"),
    ("CNPG primary and instances", "postgres", "0.status.readyInstances", 1,
     "propertea/pg: 1/2 instances ready"),
    ("CNPG primary and instances", "postgres", "0.status.currentPrimary", "",
     "propertea/pg: no primary"),
    ("CNPG databases exist", "databases", "3.status.applied", False,
     "propertea/company: not applied"),
    ("redis reachable", "slices", "0.endpoints.0.conditions.ready", False, "0 ready endpoint(s)"),
    ("rabbitmq reachable", "slices", "1.endpoints", [], "0 ready endpoint(s)"),
    ("Argo CD Applications Synced and Healthy", "applications", "2.status.health",
     {"status": "Degraded"}, "argocd/gateway: Synced/Degraded"),
]  # fmt: skip


@pytest.mark.parametrize(("check", "field", "path", "value", "message"), BREAKS)
def test_each_check_fails_alone(
    check: str, field: str, path: str, value: Any, message: str
) -> None:
    found = run(broken(healthy(), field, path, value))
    failed = {name: o.detail for name, o in found.items() if not o.ok}
    assert failed == {check: failed.get(check)}, failed
    assert message in failed[check]


def test_missing_objects_are_named() -> None:
    empty = {field: [] for field in healthy()}
    found = run(empty)
    assert found["nodes Ready"].detail == "no nodes Ready found"
    assert found["Gateway has its address"].detail == "Gateway gateway/shared not found"
    assert found["Hubble Relay"].detail == "kube-system/hubble-relay not found"
    assert found["openfga reachable"].detail == "no Service openfga* in propertea"
    assert not any(o.ok for o in found.values())


def test_junit_has_a_case_per_check_and_the_failures() -> None:
    outcomes = [v.Outcome("a", True, "fine"), v.Outcome("b", False, "broken & <bad>")]
    root = ET.fromstring(v.junit(outcomes))
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    [failure] = root.iter("failure")
    assert failure.get("message") == "broken & <bad>"


def test_the_telemetry_probe_carries_its_ids_into_every_signal() -> None:
    probe = v.Probe("verify-0a1b2c3d", "ab" * 16, "cd" * 8, 1_700_000_000_000_000_000)
    sent = v.payloads(probe)
    [span] = sent["traces"]["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert (span["traceId"], span["spanId"]) == (probe.trace_id, probe.span_id)
    [record] = sent["logs"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    assert probe.marker in record["body"]["stringValue"]
    [metric] = sent["metrics"]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
    [point] = metric["sum"]["dataPoints"]
    assert point["attributes"] == [{"key": "run", "value": {"stringValue": probe.marker}}]
    for body in (sent["traces"]["resourceSpans"], sent["logs"]["resourceLogs"]):
        service = body[0]["resource"]["attributes"][0]
        assert service == {"key": "service.name", "value": {"stringValue": v.SERVICE_NAME}}


def test_each_backend_is_asked_through_the_service_proxy() -> None:
    from urllib.parse import parse_qs, urlsplit

    probe = v.new_probe()
    paths = v.query_paths(probe)
    assert paths["traces"] == (
        f"/api/v1/namespaces/observability/services/tempo:3200/proxy/api/traces/{probe.trace_id}"
    )
    loki = urlsplit(paths["logs"])
    assert loki.path.endswith("/services/loki:3100/proxy/loki/api/v1/query_range")
    assert parse_qs(loki.query)["query"] == [
        f'{{service_name="{v.SERVICE_NAME}"}} |= "{probe.marker}"'
    ]
    vm = urlsplit(paths["metrics"])
    assert vm.path.endswith("/services/vmsingle-vm:8428/proxy/api/v1/query")
    assert parse_qs(vm.query)["query"] == [f'{{run="{probe.marker}"}}']
    assert len({v.new_probe().marker for _ in range(20)}) == 20


@pytest.mark.parametrize(
    ("signal", "answer", "expected"),
    [
        ("traces", '{"batches": [{"resource": {}}]}', True),
        ("traces", '{"trace": {"resourceSpans": []}}', True),
        ("traces", "{}", False),
        ("logs", '{"data": {"result": [{"stream": {}}]}}', True),
        ("logs", '{"data": {"result": []}}', False),
        ("metrics", '{"status": "success", "data": {"result": [{"value": [1, "1"]}]}}', True),
        ("metrics", "not json", False),
        ("metrics", "[]", False),
    ],
)
def test_what_counts_as_found(signal: str, answer: str, expected: bool) -> None:
    assert v.found(signal, answer) is expected
