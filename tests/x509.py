"""Real X.509 certificates with chosen expiry dates, for the certificate checks' tests."""

from __future__ import annotations

import base64
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Issued:
    cert_pem: bytes
    key_pem: bytes
    not_after: datetime

    @property
    def b64(self) -> str:
        """The certificate as talosconfig and kubeconfig embed it."""
        return base64.b64encode(self.cert_pem).decode()


def issue(
    cn: str,
    *,
    days: float,
    org: str | None = None,
    hosts: tuple[str, ...] = (),
    ca: bool = False,
) -> Issued:
    """A self-signed certificate (EC P-256) valid from a day ago until ``days`` from now."""
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    name = x509.Name(attrs)
    now = datetime.now(UTC)
    not_after = now + timedelta(days=days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1) if days > 0 else not_after - timedelta(days=365))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if hosts:
        import ipaddress

        alt: list[x509.GeneralName] = []
        for h in hosts:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                alt.append(x509.DNSName(h))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    return Issued(
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        cert.not_valid_after_utc,
    )


def talosconfig(context: str, client: Issued, ca: Issued, endpoint: str = "192.168.50.10") -> str:
    key = base64.b64encode(client.key_pem).decode()
    return (
        f"context: {context}\ncontexts:\n  {context}:\n    endpoints:\n      - {endpoint}\n"
        f"    ca: {ca.b64}\n    crt: {client.b64}\n    key: {key}\n"
    )


def kubeconfig(context: str, client: Issued, ca: Issued, server: str) -> str:
    key = base64.b64encode(client.key_pem).decode()
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n  - name: {context}\n    cluster:\n      server: {server}\n"
        f"      certificate-authority-data: {ca.b64}\n"
        f"contexts:\n  - name: {context}\n    context:\n      cluster: {context}\n"
        f"      user: admin@{context}\n"
        f"current-context: {context}\n"
        f"users:\n  - name: admin@{context}\n    user:\n"
        f"      client-certificate-data: {client.b64}\n      client-key-data: {key}\n"
    )


@contextmanager
def serving(cert: Issued) -> Iterator[int]:
    """A TLS server on 127.0.0.1 presenting ``cert``; yields its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        crt, key = Path(tmp) / "tls.crt", Path(tmp) / "tls.key"
        crt.write_bytes(cert.cert_pem)
        key.write_bytes(cert.key_pem)
        context.load_cert_chain(crt, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
