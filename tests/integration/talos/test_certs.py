"""`inv talos.certs` on real certificates: files, a real TLS server on loopback, a Hubble secret
through the kubectl fake; `--renew` proven before it replaces anything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.talos.conftest import CLUSTER, Workspace
from tests.x509 import Issued, issue, kubeconfig, serving, talosconfig

pytestmark = pytest.mark.integration


@pytest.fixture
def api_server() -> Iterator[tuple[str, Issued]]:
    """A TLS server on 127.0.0.1 presenting a certificate that expires in 300 days."""
    served = issue("kube-apiserver", days=300, hosts=("127.0.0.1",))
    with serving(served) as port:
        yield f"https://127.0.0.1:{port}", served


def hubble(days: float) -> list[dict[str, Any]]:
    secret = {
        "metadata": {"name": "hubble-server-certs", "namespace": "kube-system"},
        "data": {"tls.crt": issue("*.default.hubble-grpc.cilium.io", days=days).b64},
    }
    return [
        {"tool": "kubectl", "match": ["secret", "hubble-server-certs"],
         "stdout": json.dumps(secret)},
        {"tool": "kubectl", "match": ["secret", "hubble-relay-client-certs"], "exit": 1,
         "stderr": 'Error from server (NotFound): secrets "hubble-relay-client-certs" not found'},
    ]  # fmt: skip


def credentials(ws: Workspace, server: str, *, talos_days: float, kube_days: float) -> None:
    ws.seed(["config"])
    talos_ca, kube_ca = issue("talos", days=3650, ca=True), issue("kubernetes", days=3650, ca=True)
    Path(ws.talosconfig).write_text(
        talosconfig(CLUSTER, issue("admin", days=talos_days, org="os:admin"), talos_ca)
    )
    Path(ws.kubeconfig).write_text(
        kubeconfig(CLUSTER, issue("admin", days=kube_days, org="system:masters"), kube_ca, server)
    )


def test_every_certificate_with_its_expiry(ws: Workspace, api_server: tuple[str, Issued]) -> None:
    server, served = api_server
    credentials(ws, server, talos_days=200, kube_days=12)
    ws.scenario(hubble(days=80))
    result = ws.inv("talos.certs", "--json")
    assert result.returncode == 0, result.output
    report = json.loads(result.stdout)
    by_name = {row["name"]: row for row in report["certificates"]}
    assert {n: r["status"] for n, r in by_name.items()} == {
        "Talos API client (talosconfig)": "ok",
        "Talos CA": "ok",
        "Kubernetes admin client (kubeconfig)": "renew soon",
        "Kubernetes CA": "ok",
        "Kubernetes API server": "ok",
        "Hubble server": "ok",
    }
    assert by_name["Kubernetes API server"]["not_after"] == served.not_after.isoformat()
    assert by_name["Kubernetes API server"]["source"] == server
    assert report["unread"] == [
        "Hubble Relay client (hubble-relay-client-certs): Error from server (NotFound): "
        'secrets "hubble-relay-client-certs" not found'
    ]
    table = ws.inv("talos.certs")
    assert "Kubernetes admin client (kubeconfig)  renew soon" in table.stdout
    assert "renew with `inv talos.certs --renew`: Kubernetes admin client" in table.stderr
    assert ws.calls("talosctl") == []  # reading changes nothing


def test_an_expired_certificate_fails_the_task(
    ws: Workspace, api_server: tuple[str, Issued]
) -> None:
    credentials(ws, api_server[0], talos_days=-3, kube_days=200)
    ws.scenario(hubble(days=80))
    result = ws.inv("talos.certs")
    assert result.returncode == 1
    assert "1 certificate(s) expired: Talos API client (talosconfig)." in result.stderr


def renewing(ws: Workspace, server: str, *, new_days: float) -> str:
    """A talosconfig due in 5 days, and a `talosctl config new` that issues one for
    ``new_days``; the issued file's text."""
    credentials(ws, server, talos_days=5, kube_days=300)
    issued = talosconfig(
        CLUSTER, issue("admin", days=new_days, org="os:admin"), issue("talos", days=3650, ca=True)
    )
    ws.scenario(
        [{"tool": "talosctl", "match": ["config", "new"], "writes": {"{pos:2}": issued}},
         *hubble(days=80)]
    )  # fmt: skip
    return issued


def test_renew_issues_what_is_due_and_proves_it(
    ws: Workspace, api_server: tuple[str, Issued]
) -> None:
    fresh = renewing(ws, api_server[0], new_days=365)
    result = ws.inv("talos.certs", "--renew")
    assert result.returncode == 0, result.output
    [made] = ws.calls("talosctl")
    assert made[:2] == ["config", "new"]
    assert made[3:] == ["--talosconfig", ws.talosconfig, "--nodes", "192.168.50.10",
                        "--endpoints", "192.168.50.10", "--roles", "os:admin",
                        "--crt-ttl", "8760h"]  # fmt: skip
    assert Path(ws.talosconfig).read_text() == fresh
    assert Path(ws.talosconfig).stat().st_mode & 0o777 == 0o600
    assert "talosconfig: client certificate valid until" in result.stdout


def test_a_renewal_that_does_not_help_keeps_the_old_file(
    ws: Workspace, api_server: tuple[str, Issued]
) -> None:
    renewing(ws, api_server[0], new_days=6)
    before = Path(ws.talosconfig).read_text()
    result = ws.inv("talos.certs", "--renew")
    assert result.returncode == 1
    assert "The renewed talosconfig certificate still expires" in result.stderr
    assert "the old one is kept" in result.stderr
    assert Path(ws.talosconfig).read_text() == before
    assert sorted(p.name for p in Path(ws.talosconfig).parent.iterdir()) == [
        "nodes", "talosconfig"
    ]  # fmt: skip


def test_bad_days_is_a_usage_error(ws: Workspace) -> None:
    result = ws.inv("talos.certs", "--days", "soon")
    assert result.returncode == 2
    assert "--days 'soon': expected a number of days." in result.stderr


def test_renew_with_json_keeps_stdout_one_document(
    ws: Workspace, api_server: tuple[str, Issued]
) -> None:
    renewing(ws, api_server[0], new_days=365)
    result = ws.inv("talos.certs", "--renew", "--json")
    assert result.returncode == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)["certificates"]}
    assert rows["Talos API client (talosconfig)"]["status"] == "ok"  # the renewed one
    assert "renew the talosconfig client certificate" in result.stderr
