"""Talos Image Factory schematics: content, ID, ISO and installer image (pure).

The factory identifies a schematic by the SHA-256 of its canonical YAML: Go's yaml.v3 marshal with
4-space indentation and sequences indented under their key. Computing it locally lets the toolkit
name the ISO and installer image offline; ``POST /schematics`` only confirms it when online.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from tasks.core.config import ClusterSpec


def schematic_yaml(extensions: Sequence[str]) -> str:
    """The canonical schematic document for a list of official system extensions."""
    if not extensions:
        return "customization: {}\n"
    lines = ["customization:", "    systemExtensions:", "        officialExtensions:"]
    lines += [f"            - {ext}" for ext in extensions]
    return "\n".join(lines) + "\n"


def schematic_id(extensions: Sequence[str]) -> str:
    return hashlib.sha256(schematic_yaml(extensions).encode()).hexdigest()


def _factory_host(spec: ClusterSpec) -> str:
    return spec.image_factory.url.split("://", 1)[-1].rstrip("/")


def iso_url(spec: ClusterSpec, arch: str = "amd64") -> str:
    sid = schematic_id(spec.image_factory.extensions)
    base = spec.image_factory.url.rstrip("/")
    return f"{base}/image/{sid}/v{spec.versions.talos}/metal-{arch}.iso"


def installer_image(spec: ClusterSpec, version: str | None = None) -> str:
    """The factory installer for the schematic: what `--install-image` and upgrades must use."""
    sid = schematic_id(spec.image_factory.extensions)
    return f"{_factory_host(spec)}/metal-installer/{sid}:v{version or spec.versions.talos}"
