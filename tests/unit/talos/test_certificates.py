"""Reading certificate expiry from talosconfig, kubeconfig and TLS secrets (real X.509)."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest

from tasks.core import yamldata
from tasks.talos import certificates as c
from tests.x509 import issue, kubeconfig, talosconfig

CTX = "propertea-local"


def test_talosconfig_client_and_ca() -> None:
    client, ca = issue("admin", days=200, org="os:admin"), issue("talos", days=3650, ca=True)
    found = c.from_talosconfig(yamldata.load(talosconfig(CTX, client, ca)), CTX, "tc")
    assert [x.name for x in found] == ["Talos API client (talosconfig)", "Talos CA"]
    assert found[0].subject == "CN=admin O=os:admin"
    assert found[0].not_after == client.not_after
    assert found[0].renewed_by == c.RENEW
    assert found[1].renewed_by != c.RENEW  # the toolkit does not rotate CAs


def test_kubeconfig_follows_the_context_to_its_user_and_cluster() -> None:
    client, ca = issue("admin", days=10, org="system:masters"), issue("k8s", days=3650, ca=True)
    data = yamldata.load(kubeconfig(CTX, client, ca, "https://127.0.0.1:6443"))
    found = c.from_kubeconfig(data, CTX, "kc")
    assert [x.not_after for x in found] == [client.not_after, ca.not_after]
    assert c.server_of(data, CTX) == "https://127.0.0.1:6443"
    with pytest.raises(c.Unreadable, match="no context 'other'"):
        c.from_kubeconfig(data, "other", "kc")


@pytest.mark.parametrize(
    ("days", "status"), [(400, c.OK), (31, c.OK), (29, c.SOON), (1, c.SOON), (-1, c.EXPIRED)]
)
def test_status_by_days_left(days: float, status: str) -> None:
    cert = c.certs_in(issue("x", days=days).cert_pem, name="x", source="s", renewed_by="r")[0]
    assert cert.status(c.now()) == status
    assert cert.status(c.now() + timedelta(days=days + 1)) == c.EXPIRED


def test_a_chain_gives_a_row_per_certificate() -> None:
    pem = issue("leaf", days=90).cert_pem + issue("intermediate", days=900).cert_pem
    found = c.certs_in(pem, name="server", source="s", renewed_by="r")
    assert [x.name for x in found] == ["server", "server (chain 1)"]


def test_tls_secret() -> None:
    cert = issue("*.hubble-grpc.cilium.io", days=20)
    secret = {
        "metadata": {"name": "hubble-server-certs", "namespace": "kube-system"},
        "data": {"tls.crt": cert.b64},
    }
    [found] = c.from_secret(secret, name="Hubble server", renewed_by="cilium")
    assert found.source == "secret kube-system/hubble-server-certs"
    assert found.subject == "CN=*.hubble-grpc.cilium.io"


@pytest.mark.parametrize(
    "crt",
    [None, "", "not base64 !!", base64.b64encode(b"-----BEGIN NOTHING-----\n").decode()],
)
def test_fields_without_a_certificate_are_unreadable(crt: str | None) -> None:
    ca = issue("talos", days=3650, ca=True)
    config = {"contexts": {CTX: {"crt": crt, "ca": ca.b64}}}
    with pytest.raises(c.Unreadable):
        c.from_talosconfig(config, CTX, "tc")


def test_rows_show_date_and_days() -> None:
    cert = c.certs_in(issue("x", days=45).cert_pem, name="x", source="s", renewed_by="r")
    [(name, status, expires, days, subject, by)] = c.rows(cert, c.now())
    assert (name, status, subject, by) == ("x", c.OK, "CN=x", "r")
    assert days in {"44", "45"}
    assert expires == cert[0].not_after.strftime("%Y-%m-%d")


@pytest.mark.parametrize("text", ["- a list\n", "just text\n", "contexts: [1, 2]\n", "users: 3\n"])
def test_credential_files_of_the_wrong_shape_are_unreadable_not_a_crash(
    tmp_path: Path, text: str
) -> None:
    for name in ("talosconfig", "kubeconfig"):
        (tmp_path / name).write_text(text)
    found, unread, kube = c.from_files(tmp_path / "talosconfig", tmp_path / "kubeconfig", CTX)
    assert (found, kube) == ([], None)
    assert [u.split(":")[0] for u in unread] == ["talosconfig", "kubeconfig"]
    with pytest.raises(c.Unreadable, match=r"tls\.crt: missing"):
        c.from_secret({"data": "x"}, name="n", renewed_by="r")
