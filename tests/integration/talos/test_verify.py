"""`inv talos.verify` through the kubectl fake, with the Gateway's address a real TLS server on
loopback: the table, JSON, JUnit, and what a missing CRD or a silent Gateway does."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from tasks.talos.ops import VERIFY_LISTS
from tests.integration.talos.conftest import Workspace
from tests.verify_cluster import healthy
from tests.x509 import issue, serving

pytestmark = pytest.mark.integration


def answers(facts: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [
        {"tool": "kubectl", "match": ["get", kinds],
         "stdout": json.dumps({"kind": "List", "items": facts[field]})}
        for field, kinds, _ in VERIFY_LISTS
    ]  # fmt: skip


COLLECTOR = {
    "items": [
        {"metadata": {"name": "otel-collector-agent-x1"}, "status": {"phase": "Pending"}},
        {"metadata": {"name": "otel-collector-agent-x2"}, "status": {"phase": "Running"}},
    ]
}
FOUND = json.dumps({"status": "success", "data": {"result": [{"metric": {}, "value": [1, "1"]}]}})


def telemetry(*, arrives: bool = True) -> list[dict[str, Any]]:
    """A collector pod, the collector taking OTLP, and each backend answering the query."""
    answer = FOUND if arrives else json.dumps({"data": {"result": []}})
    return [
        {"tool": "kubectl", "match": ["get", "pods", "--selector"],
         "stdout": json.dumps(COLLECTOR)},
        {"tool": "kubectl", "match": ["create", "--raw"], "stdout": "{}"},
        {"tool": "kubectl", "match": ["get", "--raw", "re:/services/tempo:3200/proxy/api/traces/"],
         **({"stdout": json.dumps({"batches": [{"scopeSpans": []}]})} if arrives
            else {"exit": 1, "stderr": "Error from server (NotFound): the server could not find "
                                       "the requested resource"})},
        {"tool": "kubectl", "match": ["get", "--raw", "re:/services/loki:3100/"], "stdout": answer},
        {"tool": "kubectl", "match": ["get", "--raw", "re:/services/vmsingle-vm:8428/"],
         "stdout": answer},
    ]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_working_platform_passes(ws: Workspace, tmp_path: Path) -> None:
    ws.seed(["config", "kubeconfig"])
    with serving(issue("*.lab.propertea.dev", days=80, hosts=("127.0.0.1",))) as port:
        ws.scenario([*telemetry(), *answers(healthy("127.0.0.1", port))])
        report = tmp_path / "verify.xml"
        result = ws.inv("talos.verify", "--junit", str(report))
        as_json = ws.inv("talos.verify", "--json")
    assert result.returncode == 0, result.output
    assert "all 18 checks passed" in result.stdout
    assert "Gateway answers (TLS)" in result.stdout and f"127.0.0.1:{port} TLSv1.3" in result.stdout
    suite = ET.fromstring(report.read_text())
    assert (suite.get("tests"), suite.get("failures")) == ("18", "0")
    data = json.loads(as_json.stdout)
    assert data["ok"] is True and len(data["checks"]) == 18
    calls = ws.calls("kubectl")
    listed = [c[c.index("get") + 1] for c in calls if "get" in c][: len(VERIFY_LISTS)]
    assert listed == [kinds for _, kinds, _ in VERIFY_LISTS]
    posts = [c[c.index("--raw") + 1] for c in calls if "create" in c][:3]
    assert posts == [
        f"/api/v1/namespaces/observability/pods/otel-collector-agent-x2:4318/proxy/v1/{signal}"
        for signal in ("traces", "logs", "metrics")
    ]
    assert ws.calls("talosctl") == []


def test_a_silent_gateway_and_a_missing_crd_fail(ws: Workspace, tmp_path: Path) -> None:
    ws.seed(["config", "kubeconfig"])
    rules = answers(healthy("127.0.0.1", free_port()))
    no_crd = {"tool": "kubectl", "match": ["get", "databases.postgresql.cnpg.io"], "exit": 1,
              "stderr": 'error: the server doesn\'t have a resource type "databases"'}  # fmt: skip
    ws.scenario([no_crd, *telemetry(), *rules])
    report = tmp_path / "verify.xml"
    result = ws.inv("talos.verify", "--junit", str(report))
    assert result.returncode == 1
    assert "3 of 19 checks failed: Gateway answers (TLS), CNPG databases exist, " in result.stderr
    assert "list databases.postgresql.cnpg.io" in result.stderr
    assert "doesn't have a resource type" in result.stdout
    assert ET.fromstring(report.read_text()).get("failures") == "3"


def test_verify_needs_a_kubeconfig(ws: Workspace) -> None:
    ws.seed(["config"])
    result = ws.inv("talos.verify")
    assert result.returncode == 1
    assert "kubeconfig" in result.stderr and "Traceback" not in result.output
    assert ws.calls() == []


def test_telemetry_that_never_arrives_fails_its_checks(ws: Workspace) -> None:
    ws.seed(["config", "kubeconfig"])
    ws.scenario([*telemetry(arrives=False), *answers(healthy("127.0.0.1", free_port()))])
    result = ws.inv("talos.verify", "--json", INVOKE_TALOS_TIMEOUTS_COMMAND="0.5")
    assert result.returncode == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    for name in (
        "trace through the OTel Collector found in Tempo",
        "log through the OTel Collector found in Loki",
        "metric through the OTel Collector found in VictoriaMetrics",
    ):
        assert checks[name]["ok"] is False
        assert (
            checks[name]["detail"].startswith("verify-") and "not found" in checks[name]["detail"]
        )


def test_no_telemetry_sends_nothing(ws: Workspace) -> None:
    ws.seed(["config", "kubeconfig"])
    ws.scenario(answers(healthy("127.0.0.1", free_port())))
    result = ws.inv("talos.verify", "--no-telemetry")
    assert not [c for c in ws.calls("kubectl") if "create" in c or "--raw" in c]
    assert "trace through" not in result.stdout
