"""Read-only probes of the world for the ``talos`` namespace, and pure parsers of their output."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core.errors import ConfigError, UserError
from tasks.core.runner import Runner, tail
from tasks.talos import certificates as certs
from tasks.talos import plan
from tasks.talos.settings import PATCH_NAMES, Settings

if TYPE_CHECKING:
    from tasks.core.config import Node


class Bundle(Enum):
    MISSING = "missing"
    ENCRYPTED = "encrypted"
    PLAINTEXT = "plaintext"


_SOPS_METADATA = re.compile(r"^sops:\s*$", re.MULTILINE)


def bundle_state(path: Path) -> Bundle:
    """A whole-file sops YAML carries a top-level ``sops:`` mapping; anything else is plaintext."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return Bundle.MISSING
    return Bundle.ENCRYPTED if _SOPS_METADATA.search(text) else Bundle.PLAINTEXT


class NoBundle(UserError):
    """The Talos secrets bundle is not generated yet."""


def require_encrypted_bundle(settings: Settings) -> None:
    state = bundle_state(settings.secrets_file)
    if state is Bundle.MISSING:
        raise NoBundle(
            f"{settings.secrets_file} does not exist: run `inv talos.secrets` first "
            "(it generates the Talos secrets bundle once and commits it sops-encrypted)."
        )
    if state is Bundle.PLAINTEXT:
        raise UserError(plaintext_message(settings.secrets_file))


def plaintext_message(path: Path) -> str:
    return (
        f"{path} is NOT sops-encrypted. Never commit it like this: encrypt it now with "
        f"`sops --encrypt --in-place {path}` (or delete it if it was never committed and run "
        "`inv talos.secrets` again)."
    )


def missing_patches(settings: Settings) -> list[Path]:
    return [settings.patch(name) for name in PATCH_NAMES if not settings.patch(name).is_file()]


def require_patches(settings: Settings) -> None:
    missing = missing_patches(settings)
    if missing:
        names = ", ".join(str(p) for p in missing)
        raise ConfigError(
            f"Machine-config patches missing: {names}. The committed patches "
            f"({', '.join(f'{n}.yaml' for n in PATCH_NAMES)}) belong in {settings.patches_dir} "
            "(Invoke config talos.patches_dir)."
        )


def require_file(path: Path, what: str, setting: str) -> None:
    if not path.is_file():
        raise ConfigError(f"{what} not found at {path} (Invoke config {setting}).")


@dataclass(frozen=True)
class CrdSource:
    """How to apply the committed Gateway API CRDs: a Kustomize directory or plain manifests."""

    kustomize: Path | None
    files: tuple[Path, ...]


def gateway_api_crds(path: Path) -> CrdSource:
    where = "(Invoke config talos.gateway_api_crds)"
    if path.is_file():
        return CrdSource(None, (path,))
    if not path.is_dir():
        raise ConfigError(f"Gateway API CRDs not found at {path} {where}.")
    if (path / "kustomization.yaml").is_file():
        return CrdSource(path, ())
    # component.yaml is Argo CD metadata, not a Kubernetes object.
    files = tuple(
        sorted(
            p
            for p in path.iterdir()
            if p.suffix in {".yaml", ".yml"} and p.name not in {"component.yaml", "Chart.yaml"}
        )
    )
    if not files:
        raise ConfigError(
            f"{path} holds neither a kustomization.yaml nor manifests to apply {where}."
        )
    return CrdSource(None, files)


@dataclass(frozen=True)
class CiliumValues:
    """What ``helm upgrade --install cilium cilium/cilium`` gets from the committed component.

    The component is a wrapper chart whose values sit under the dependency's key (``cilium:``);
    the upstream chart needs that subtree alone, written to the state dir (``content``).
    """

    path: Path
    content: str | None
    pinned: str | None


def upstream_values(values: Any, chart: Any) -> tuple[dict[str, Any] | None, str | None]:
    """(values for the upstream chart, the wrapper's pinned version) -- (None, None) when the
    file is not a wrapper chart's values."""
    deps = chart.get("dependencies", []) if isinstance(chart, dict) else []
    for dep in deps if isinstance(deps, list) else []:
        if not isinstance(dep, dict) or dep.get("name") != "cilium":
            continue
        key = dep.get("alias") or "cilium"
        version = str(dep["version"]) if dep.get("version") else None
        if isinstance(values, dict) and isinstance(values.get(key), dict):
            return dict(values[key]), version
        return {}, version
    return None, None


def cilium_values(settings: Settings) -> CiliumValues:
    import json

    from ruamel.yaml.error import YAMLError

    from tasks.core import yamldata

    require_file(settings.cilium_values, "Cilium values", "talos.cilium_values")
    chart_file = settings.cilium_values.parent / "Chart.yaml"
    if not chart_file.is_file():
        return CiliumValues(settings.cilium_values, None, None)
    try:
        values = yamldata.load(settings.cilium_values.read_text())
        chart = yamldata.load(chart_file.read_text())
    except YAMLError as exc:
        raise ConfigError(f"{settings.cilium_values} or {chart_file}: {exc}") from None
    subtree, pinned = upstream_values(values, chart)
    if subtree is None:
        return CiliumValues(settings.cilium_values, None, None)
    # JSON is YAML: a faithful copy of the subtree without a second YAML dialect.
    content = json.dumps(subtree, indent=2, sort_keys=True) + "\n"
    return CiliumValues(settings.state.path("cilium-values.yaml"), content, pinned)


# -- nodes -----------------------------------------------------------------------------------


class Mode(Enum):
    MAINTENANCE = "maintenance"
    CONFIGURED = "configured"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class NodeMode:
    mode: Mode
    detail: str = ""


#: The detail of a mode --dry assumed rather than observed.
ASSUMED = "assumed under --dry"


def node_mode(runner: Runner, settings: Settings, node: Node) -> NodeMode:
    """Maintenance when the insecure API answers; configured when the authenticated one does."""
    timeout = settings.timeouts.command
    insecure = runner.check(plan.maintenance_probe(node, timeout))
    if not insecure.observed:
        # talosctl is missing under --dry: nothing observed, a fresh node assumed.
        return NodeMode(Mode.MAINTENANCE, ASSUMED)
    if insecure.ok:
        return NodeMode(Mode.MAINTENANCE)
    detail = tail(insecure.stderr or insecure.stdout, 3)
    if settings.talosconfig.is_file():
        secure = runner.check(plan.version_probe(settings, node, timeout))
        if secure.ok:
            return NodeMode(Mode.CONFIGURED)
        detail = tail(secure.stderr or secure.stdout, 3)
    return NodeMode(Mode.UNREACHABLE, detail)


_TAG = re.compile(r"^\s*(?:Tag:\s*|Talos\s+)v?(\d+\.\d+\.\d+\S*)\s*$", re.MULTILINE)


def server_version(output: str) -> str | None:
    """The node's Talos version from ``talosctl version`` (the server part, not the client)."""
    _, _, server = output.partition("Server:")
    match = _TAG.search(server)
    return match.group(1) if match else None


def talos_version(runner: Runner, settings: Settings, node: Node) -> str | None:
    result = runner.check(plan.version_probe(settings, node, settings.timeouts.command))
    if not result.ok or not result.observed:
        return None
    return server_version(result.stdout)


def client_version(runner: Runner, settings: Settings) -> str | None:
    """The installed talosctl's own version (``Client:`` part of ``talosctl version --client``)."""
    result = runner.check(plan.client_version(settings.timeouts.command))
    if not result.ok or not result.observed:
        return None
    client, _, _ = result.stdout.partition("Server:")
    match = _TAG.search(client)
    return match.group(1) if match else None


def kubernetes_version(runner: Runner, settings: Settings) -> str | None:
    """The API server's version (``serverVersion.gitVersion``), None when it does not answer."""
    if not settings.kubeconfig.is_file():
        return None
    result = runner.check(plan.kubernetes_version(settings, settings.timeouts.command))
    if not result.ok or not result.observed:
        return None
    try:
        version = json.loads(result.stdout)["serverVersion"]["gitVersion"]
    except (ValueError, KeyError, TypeError):
        return None
    return str(version).removeprefix("v") if isinstance(version, str) else None


# -- certificates ------------------------------------------------------------------------------

#: The TLS secrets Cilium's chart keeps for Hubble (hubble.tls.auto renews them, not us).
HUBBLE_SECRETS = {
    "hubble-server-certs": "Hubble server",
    "hubble-relay-client-certs": "Hubble Relay client",
}
RENEWED_BY_CILIUM = "Cilium's chart (hubble.tls.auto)"


def certificates(
    runner: Runner, settings: Settings, cluster: str
) -> tuple[list[certs.Cert], list[str]]:
    """Every certificate the toolkit depends on, and why any could not be read."""
    s = settings
    found, missing, kube = certs.from_files(s.talosconfig, s.kubeconfig, cluster)
    server = certs.server_of(kube, cluster) if kube is not None else None
    if server:
        try:
            pem = tls_certificate(server, s.timeouts.command)
            found.extend(
                certs.certs_in(
                    pem, name="Kubernetes API server", source=server, renewed_by="Talos (automatic)"
                )
            )
        except (OSError, certs.Unreadable) as exc:
            missing.append(f"Kubernetes API server {server}: {exc}")
    if kube is not None:
        for secret, label in HUBBLE_SECRETS.items():
            result = runner.check(plan.hubble_secret(s, secret, s.timeouts.command))
            if not result.observed:
                continue
            if not result.ok:
                missing.append(f"{label} ({secret}): {tail(result.stderr or result.stdout, 1)}")
                continue
            try:
                found.extend(
                    certs.from_secret(
                        json.loads(result.stdout), name=label, renewed_by=RENEWED_BY_CILIUM
                    )
                )
            except (ValueError, certs.Unreadable) as exc:
                missing.append(f"{label} ({secret}): {exc}")
    return found, missing


def tls_certificate(url: str, timeout: float) -> bytes:
    """The leaf certificate a TLS server presents (read without verifying it: only its dates
    matter here)."""
    import ssl
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.hostname:
        raise certs.Unreadable(f"{url}: no host")
    pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=min(timeout, 10))
    return pem.encode()
