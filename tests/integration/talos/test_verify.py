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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_working_platform_passes(ws: Workspace, tmp_path: Path) -> None:
    ws.seed(["config", "kubeconfig"])
    with serving(issue("*.lab.propertea.dev", days=80, hosts=("127.0.0.1",))) as port:
        ws.scenario(answers(healthy("127.0.0.1", port)))
        report = tmp_path / "verify.xml"
        result = ws.inv("talos.verify", "--junit", str(report))
        as_json = ws.inv("talos.verify", "--json")
    assert result.returncode == 0, result.output
    assert "all 15 checks passed" in result.stdout
    assert "Gateway answers (TLS)" in result.stdout and f"127.0.0.1:{port} TLSv1.3" in result.stdout
    suite = ET.fromstring(report.read_text())
    assert (suite.get("tests"), suite.get("failures")) == ("15", "0")
    data = json.loads(as_json.stdout)
    assert data["ok"] is True and len(data["checks"]) == 15
    listed = [c[c.index("get") + 1] for c in ws.calls("kubectl")][: len(VERIFY_LISTS)]
    assert listed == [kinds for _, kinds, _ in VERIFY_LISTS]
    assert ws.calls("talosctl") == []


def test_a_silent_gateway_and_a_missing_crd_fail(ws: Workspace, tmp_path: Path) -> None:
    ws.seed(["config", "kubeconfig"])
    rules = answers(healthy("127.0.0.1", free_port()))
    no_crd = {"tool": "kubectl", "match": ["get", "databases.postgresql.cnpg.io"], "exit": 1,
              "stderr": 'error: the server doesn\'t have a resource type "databases"'}  # fmt: skip
    ws.scenario([no_crd, *rules])
    report = tmp_path / "verify.xml"
    result = ws.inv("talos.verify", "--junit", str(report))
    assert result.returncode == 1
    assert "3 of 16 checks failed: Gateway answers (TLS), CNPG databases exist, " in result.stderr
    assert "list databases.postgresql.cnpg.io" in result.stderr
    assert "doesn't have a resource type" in result.stdout
    assert ET.fromstring(report.read_text()).get("failures") == "3"


def test_verify_needs_a_kubeconfig(ws: Workspace) -> None:
    ws.seed(["config"])
    result = ws.inv("talos.verify")
    assert result.returncode == 1
    assert "kubeconfig" in result.stderr and "Traceback" not in result.output
    assert ws.calls() == []
