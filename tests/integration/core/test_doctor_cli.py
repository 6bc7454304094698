"""``inv doctor`` as a person runs it: the fake tools' versions, the exit code, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.core.checks import MISMATCH, OK
from tests.conftest import Inv, InvHere
from tests.fakes import FakeTools

pytestmark = pytest.mark.integration


def test_doctor_for_infra_includes_infra_check_host_verdict(
    inv_here: InvHere, tmp_path: Path
) -> None:
    """No libvirtd at the configured socket, whatever this host runs: the verdict says so."""
    uri = f"qemu+unix:///system?socket={tmp_path}/no-libvirt-sock"
    result = inv_here("doctor", "--for", "infra", "--json", env={"INVOKE_LIBVIRT_URI": uri})
    data = json.loads(result.stdout)
    checks = {c["name"]: c for c in data["checks"]}
    assert {"virsh", "KVM (/dev/kvm usable)", "libvirtd reachable", "free RAM"} <= set(checks)
    assert data["purpose"] == "infra"
    assert checks["libvirtd reachable"]["status"] != "OK"
    assert data["ok"] is False and result.returncode == 1


def test_doctor_json_reports_fake_versions(inv: Inv, fake_tools: FakeTools) -> None:
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


def test_doctor_for_aks_reads_az_and_its_pin(inv: Inv, fake_tools: FakeTools) -> None:
    fake_tools.scenario(
        [
            {
                "tool": "az",
                "match": ["version"],
                "stdout": '{"azure-cli": "2.90.1", "extensions": {}}',
            },
            {"tool": "helm", "stdout": "v3.21.4+g123\n"},
            {"tool": "kubectl", "stdout": "Client Version: v1.36.3\n"},
        ]
    )
    result = inv("doctor", "--for", "aks", "--json")
    status = {c["name"]: (c["status"], c["found"]) for c in json.loads(result.stdout)["checks"]}
    assert status["az"] == (MISMATCH, "2.90.1"), status
    assert status["kubectl"] == (OK, "1.36.3")
    assert "talosctl" not in status and result.returncode == 1


def test_doctor_exits_non_zero_naming_what_is_missing(inv: Inv, fake_tools: FakeTools) -> None:
    fake_tools.scenario([{"tool": "talosctl", "stdout": "Tag: v1.12.0\n"}])
    result = inv("doctor", "--for", "cluster")
    assert result.returncode == 1
    assert "MISMATCH" in result.stdout
    assert "talosctl" in result.stderr and "Traceback" not in result.output


def test_doctor_rejects_unknown_purpose(inv: Inv) -> None:
    result = inv("doctor", "--for", "everything")
    assert result.returncode == 2
    assert "choose one of infra, cluster, release, aks, all" in result.stderr


def test_doctor_warns_a_month_before_a_credential_expires(
    inv_here: InvHere, tmp_path: Path
) -> None:
    from tests.x509 import issue, kubeconfig, talosconfig

    cluster = tmp_path / "state" / "propertea-local"
    (cluster / "config").mkdir(parents=True)
    ca = issue("ca", days=3650, ca=True)
    (cluster / "config" / "talosconfig").write_text(
        talosconfig("propertea-local", issue("admin", days=12), ca)
    )
    (cluster / "kubeconfig").write_text(
        kubeconfig("propertea-local", issue("admin", days=-1), ca, "https://127.0.0.1:1")
    )
    result = inv_here(
        "doctor", "--for", "cluster", "--json", env={"INVOKE_STATE_DIR": str(tmp_path / "state")}
    )
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    talos = checks["cert: Talos API client (talosconfig)"]
    assert talos["status"] == "WARN"
    assert talos["found"].endswith("(12 days)") or talos["found"].endswith("(11 days)")
    assert talos["hint"] == "renew: talos.certs --renew"
    assert checks["cert: Kubernetes admin client (kubeconfig)"]["status"] == "MISMATCH"
    assert checks["cert: Talos CA"]["status"] == OK
    assert result.returncode == 1
    assert "cert: Kubernetes admin client (kubeconfig)" in result.stderr
