"""inv doctor: verdicts from facts (pure) and the task as a person runs it."""

from __future__ import annotations

import json

import pytest

from tasks.core.checks import MISMATCH, MISSING, OK, failing
from tasks.doctor import tool_checks
from tests.fakes import FakeTools


def test_missing_and_mismatched_tools_fail() -> None:
    found: dict[str, str | None] = {"talosctl": None, "kubectl": "1.30.2", "helm": "3.21.4"}
    pins = {"talosctl": "1.13.9", "kubectl": "1.36.0", "helm": "3.21"}
    checks = {c.name: c for c in tool_checks("cluster", found, pins)}
    assert checks["talosctl"].status == MISSING
    assert checks["kubectl"].status == MISMATCH
    assert checks["helm"].status == OK  # prefix pin
    assert {c.name for c in failing(list(checks.values()))} >= {"talosctl", "kubectl"}


def test_podman_stands_in_for_docker() -> None:
    checks = {c.name: c for c in tool_checks("release", {"docker": None, "podman": "4.3.1"}, {})}
    assert checks["docker"].status == OK
    assert not checks["docker"].required


@pytest.mark.processes
def test_doctor_for_infra_includes_infra_check_host_verdict(inv_here) -> None:  # type: ignore[no-untyped-def]
    result = inv_here("doctor", "--for", "infra", "--json")
    data = json.loads(result.stdout)
    names = {c["name"] for c in data["checks"]}
    assert {"virsh", "KVM (/dev/kvm usable)", "libvirtd reachable", "free RAM"} <= names
    assert data["purpose"] == "infra"
    assert result.returncode == (0 if data["ok"] else 1)


@pytest.mark.processes
def test_doctor_json_reports_fake_versions(inv, fake_tools: FakeTools) -> None:  # type: ignore[no-untyped-def]
    fake_tools.scenario(
        [
            {"tool": "talosctl", "stdout": "Client:\n\tTag:         v1.13.9\n"},
            {"tool": "helm", "stdout": "v3.21.4+g123\n"},
            {"tool": "kubectl", "stdout": "Client Version: v1.36.0\n"},
            {"tool": "argocd", "stdout": "argocd: v3.5.1+abc\n"},
            {"tool": "cilium", "stdout": "cilium-cli: v0.20.1 compiled with go1.25\n"},
            {"tool": "hubble", "stdout": "hubble 1.18.0 compiled with go1.24\n"},
        ]
    )
    result = inv("doctor", "--for", "cluster", "--json")
    data = json.loads(result.stdout)
    status = {c["name"]: (c["status"], c["found"]) for c in data["checks"]}
    assert status["talosctl"] == (OK, "1.13.9")
    assert status["helm"] == (OK, "3.21.4+g123")
    assert status["argocd"] == (OK, "3.5.1+abc")
    assert status["cilium"] == (OK, "0.20.1")


@pytest.mark.processes
def test_doctor_exits_non_zero_naming_what_is_missing(inv, fake_tools: FakeTools) -> None:  # type: ignore[no-untyped-def]
    fake_tools.scenario([{"tool": "talosctl", "stdout": "Tag: v1.12.0\n"}])
    result = inv("doctor", "--for", "cluster")
    assert result.returncode == 1
    assert "MISMATCH" in result.stdout
    assert "talosctl" in result.stderr and "Traceback" not in result.output


@pytest.mark.processes
def test_doctor_rejects_unknown_purpose(inv) -> None:  # type: ignore[no-untyped-def]
    result = inv("doctor", "--for", "everything")
    assert result.returncode == 2
    assert "choose one of infra, cluster, release, all" in result.stderr
