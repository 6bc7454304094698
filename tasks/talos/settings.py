"""Operator-local settings of the ``talos`` namespace (Invoke config ``talos.*``).

Paths into the repository are relative to the working directory (the repository root, like the
cluster spec); everything generated or secret lives in the cluster's state directory. Timeouts are
seconds; tests shrink them through ``INVOKE_TALOS_TIMEOUTS_*``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core.errors import ConfigError
from tasks.core.settings import section
from tasks.core.state import ClusterState

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.config import ClusterSpec, Node

#: Invoke config defaults of the namespace (also registered on its collection so that
#: ``INVOKE_TALOS_*`` environment variables are recognised).
DEFAULTS: dict[str, Any] = {
    # The Talos secrets bundle, sops-encrypted as a whole file (a creation rule in .sops.yaml).
    "secrets_file": "deploy/local-cluster/talos/secrets.yaml",
    # Committed machine-config patches: common.yaml, controlplane.yaml, worker.yaml.
    "patches_dir": "deploy/local-cluster/patches",
    "cilium_values": "deploy/infrastructure/cilium/values.yaml",
    "cilium_repo": "https://helm.cilium.io/",
    # A local chart (directory or .tgz) instead of the repository, for air-gapped hosts.
    "cilium_chart": None,
    "gateway_api_crds": "deploy/infrastructure/gateway-api-crds",
    # Where the admin kubeconfig is merged; default: <state>/kubeconfig.
    "kubeconfig": None,
    # Directory holding v<talos>.config.schema.json; the generated per-node patches are checked
    # against it. Unset: the one `inv validate` uses (validate.talos_schema_dir, or
    # validate.shared_schemas/talos) when the file is there.
    "schema_dir": None,
    # The libvirt guests have one virtio disk.
    "install_disk": "/dev/vda",
    # false: talos.bootstrap stops once the cluster is up instead of running gitops.bootstrap.
    "gitops_handover": True,
    "poll_interval": 5.0,
    "timeouts": {
        "command": 120.0,
        "maintenance": 900.0,
        "apply": 600.0,
        "bootstrap": 1200.0,
        "kubernetes_api": 900.0,
        "cilium": 900.0,
        "nodes_ready": 900.0,
        "health": 900.0,
        "upgrade": 1800.0,
    },
}

PATCH_NAMES = ("common", "controlplane", "worker")


@dataclass(frozen=True)
class Timeouts:
    command: float
    maintenance: float
    apply: float
    bootstrap: float
    kubernetes_api: float
    cilium: float
    nodes_ready: float
    health: float
    upgrade: float


@dataclass(frozen=True)
class Settings:
    cluster: str
    state: ClusterState
    secrets_file: Path
    patches_dir: Path
    cilium_values: Path
    cilium_repo: str
    cilium_chart: Path | None
    gateway_api_crds: Path
    kubeconfig: Path
    schema_dir: Path | None
    #: False when schema_dir was derived from the validate settings (a missing file is skipped).
    schema_required: bool
    install_disk: str
    gitops_handover: bool
    poll_interval: float
    timeouts: Timeouts

    @classmethod
    def from_context(cls, c: Context, spec: ClusterSpec) -> Settings:
        raw = _merged(DEFAULTS, dict(section(c, "talos")))
        state = ClusterState.for_cluster(c, spec.cluster.name)
        if not isinstance(raw["timeouts"], dict):
            raise ConfigError(
                "talos.timeouts must be a mapping of wait name to seconds "
                f"({', '.join(DEFAULTS['timeouts'])}), not {raw['timeouts']!r}"
            )
        try:
            timeouts = Timeouts(
                **{k: _seconds(f"timeouts.{k}", v) for k, v in raw["timeouts"].items()}
            )
        except TypeError as exc:  # a key Timeouts does not have
            raise ConfigError(f"talos.timeouts: {exc}") from None
        interval = _seconds("poll_interval", raw["poll_interval"])

        def optional(key: str) -> Path | None:
            return Path(str(raw[key])).expanduser() if raw.get(key) else None

        return cls(
            cluster=spec.cluster.name,
            state=state,
            secrets_file=Path(raw["secrets_file"]),
            patches_dir=Path(raw["patches_dir"]),
            cilium_values=Path(raw["cilium_values"]),
            cilium_repo=str(raw["cilium_repo"]),
            cilium_chart=optional("cilium_chart"),
            gateway_api_crds=Path(raw["gateway_api_crds"]),
            kubeconfig=optional("kubeconfig") or state.kubeconfig,
            schema_dir=optional("schema_dir") or _validate_talos_schemas(c),
            schema_required=bool(raw.get("schema_dir")),
            install_disk=str(raw["install_disk"]),
            gitops_handover=bool(raw["gitops_handover"]),
            poll_interval=interval,
            timeouts=timeouts,
        )

    # -- generated files (state dir) ---------------------------------------------------------

    @property
    def config_dir(self) -> Path:
        return self.state.path("config")

    @property
    def talosconfig(self) -> Path:
        """Written by ``talosctl gen config`` beside the role configs."""
        return self.config_dir / "talosconfig"

    def role_config(self, role: str) -> Path:
        return self.config_dir / f"{role}.yaml"

    def node_patch(self, node: Node) -> Path:
        """The committed per-node patch (``inv gitops.generate`` writes it from the spec)."""
        from tasks.talos.machineconfig import NODE_PATCH_DIR

        return self.patches_dir / NODE_PATCH_DIR / f"{node.name}.yaml"

    def node_config(self, node: Node) -> Path:
        return self.config_dir / "nodes" / f"{node.name}.yaml"

    @property
    def generated_secrets(self) -> Path:
        """Plaintext output of ``talosctl gen secrets``, kept only until it is encrypted."""
        return self.state.path("secrets.yaml")

    @property
    def decrypted_secrets(self) -> Path:
        """The bundle decrypted for one ``gen config`` run, removed right after."""
        return self.state.path("secrets.decrypted.yaml")

    @property
    def backups(self) -> Path:
        return self.state.path("backups")

    def patch(self, name: str) -> Path:
        return self.patches_dir / f"{name}.yaml"


def _seconds(key: str, value: object) -> float:
    """A duration from config: nan or inf would wait forever, zero or less never waits."""
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise ConfigError(f"talos.{key} {value!r}: expected a positive, finite number of seconds.")
    return seconds


def _validate_talos_schemas(c: Context) -> Path:
    """Where `inv validate` reads the Talos schema from (its settings, env and cache included)."""
    from tasks.validate.settings import load

    return load(c).talos_dir


def _merged(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], dict(value))
        else:
            out[key] = value
    return out
