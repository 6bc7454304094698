"""Certificate expiry: what the operator's credentials and the cluster's endpoints present.

Talos issues the talosconfig client certificate and the admin kubeconfig for a year; the cluster
CAs last ten. A lapsed client certificate locks the operator out (``talosctl`` and ``kubectl``
fail with a TLS error), so ``talos.certs`` reads every certificate the toolkit depends on and
``inv doctor`` warns a month ahead. Reading is pure here (bytes in, rows out); the task gathers
the bytes (files, a TLS handshake, ``kubectl get secret``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Warn this many days before a certificate expires (``inv doctor`` and ``talos.certs``).
WARN_DAYS = 30

OK, SOON, EXPIRED = "ok", "renew soon", "EXPIRED"
#: What renews the certificates the toolkit issues (the operator's client credentials).
RENEW = "talos.certs --renew"


@dataclass(frozen=True)
class Cert:
    """One certificate and where it was found."""

    name: str
    source: str
    subject: str
    not_after: datetime
    #: Who renews it: "talos.certs --renew", or what does it otherwise.
    renewed_by: str

    def days_left(self, now: datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400

    def status(self, now: datetime, warn_days: float = WARN_DAYS) -> str:
        left = self.days_left(now)
        if left <= 0:
            return EXPIRED
        return SOON if left < warn_days else OK


class Unreadable(ValueError):
    """A certificate field that holds no certificate."""


def _pem(data: bytes, what: str) -> list[Any]:
    from cryptography import x509

    try:
        return list(x509.load_pem_x509_certificates(data))
    except ValueError:
        raise Unreadable(f"{what}: no PEM certificate") from None


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise Unreadable(f"{what}: missing")
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        raise Unreadable(f"{what}: not base64") from None


def _subject(cert: Any) -> str:
    from cryptography.x509.oid import NameOID

    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    shown = f"CN={names[0]}" if names else cert.subject.rfc4514_string() or "(no subject)"
    return f"{shown} O={','.join(orgs)}" if orgs else shown


def certs_in(data: bytes, *, name: str, source: str, renewed_by: str) -> list[Cert]:
    """Every certificate in PEM ``data`` (a chain gives one row each, leaf first)."""
    found = _pem(data, f"{name} ({source})")
    rows = []
    for i, cert in enumerate(found):
        label = name if i == 0 else f"{name} (chain {i})"
        rows.append(Cert(label, source, _subject(cert), cert.not_valid_after_utc, renewed_by))
    return rows


def from_talosconfig(config: Mapping[str, Any], context: str, source: str) -> list[Cert]:
    """The client certificate and the Talos CA of ``context`` in a talosconfig."""
    ctx = _mapping(_mapping(config).get("contexts")).get(context)
    if not isinstance(ctx, Mapping):
        raise Unreadable(f"{source}: no context {context!r}")
    return _client_and_ca(
        ctx.get("crt"),
        ctx.get("ca"),
        source,
        client="Talos API client (talosconfig)",
        ca="Talos CA",
    )


def _client_and_ca(
    client_b64: Any, ca_b64: Any, source: str, *, client: str, ca: str
) -> list[Cert]:
    """A client certificate the toolkit renews and the CA that signed it (rotated by hand)."""
    return [
        *certs_in(
            _b64(client_b64, f"{client} certificate"), name=client, source=source, renewed_by=RENEW
        ),
        *certs_in(
            _b64(ca_b64, f"{ca} certificate"),
            name=ca,
            source=source,
            renewed_by="talosctl rotate-ca (by hand)",
        ),
    ]


def _mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (a hand-edited file may hold anything)."""
    return value if isinstance(value, Mapping) else {}


def _named(items: Any, name: str, field: str) -> Mapping[str, Any]:
    """``field`` of the item called ``name`` in a kubeconfig list (contexts, users, clusters)."""
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and item.get("name") == name:
            return _mapping(item.get(field))
    return {}


def from_kubeconfig(config: Mapping[str, Any], context: str, source: str) -> list[Cert]:
    """The admin client certificate and the cluster CA of ``context`` in a kubeconfig."""
    config = _mapping(config)
    ctx = _named(config.get("contexts"), context, "context")
    if not ctx:
        raise Unreadable(f"{source}: no context {context!r}")
    user = _named(config.get("users"), ctx.get("user", ""), "user")
    cluster = _named(config.get("clusters"), ctx.get("cluster", ""), "cluster")
    return _client_and_ca(
        user.get("client-certificate-data"),
        cluster.get("certificate-authority-data"),
        source,
        client="Kubernetes admin client (kubeconfig)",
        ca="Kubernetes CA",
    )


def server_of(config: Mapping[str, Any], context: str) -> str | None:
    """The API server URL a kubeconfig context talks to."""
    config = _mapping(config)
    ctx = _named(config.get("contexts"), context, "context")
    server = _named(config.get("clusters"), ctx.get("cluster", ""), "cluster").get("server")
    return server if isinstance(server, str) else None


def from_secret(secret: Mapping[str, Any], *, name: str, renewed_by: str) -> list[Cert]:
    """``tls.crt`` of a Kubernetes TLS secret (``kubectl get secret -o json``)."""
    secret = _mapping(secret)
    meta = _mapping(secret.get("metadata"))
    source = f"secret {meta.get('namespace', '?')}/{meta.get('name', '?')}"
    data = _mapping(secret.get("data"))
    return certs_in(
        _b64(data.get("tls.crt"), f"{source} tls.crt"),
        name=name,
        source=source,
        renewed_by=renewed_by,
    )


def from_files(
    talosconfig: Path, kubeconfig: Path, context: str
) -> tuple[list[Cert], list[str], Mapping[str, Any] | None]:
    """The operator's credentials on disk: their certificates, why any file could not be read,
    and the kubeconfig itself (its server is where the API certificate is read)."""
    from tasks.core import yamldata

    found: list[Cert] = []
    unread: list[str] = []
    kube: Mapping[str, Any] | None = None
    for path, what, read in (
        (talosconfig, "talosconfig", from_talosconfig),
        (kubeconfig, "kubeconfig", from_kubeconfig),
    ):
        if not path.is_file():
            unread.append(f"{what}: none at {path}")
            continue
        try:
            data = yamldata.load(path.read_text())
            found += read(data, context, str(path))
        except (Unreadable, OSError, ValueError) as exc:
            unread.append(f"{what}: {exc}")
            continue
        if what == "kubeconfig":
            kube = data
    return found, unread, kube


def rows(
    certs: Iterable[Cert], now: datetime, warn_days: float = WARN_DAYS
) -> list[tuple[str, ...]]:
    return [
        (
            c.name,
            c.status(now, warn_days),
            c.not_after.astimezone(UTC).strftime("%Y-%m-%d"),
            f"{c.days_left(now):.0f}",
            c.subject,
            c.renewed_by,
        )
        for c in certs
    ]


def now() -> datetime:
    return datetime.now(UTC)
