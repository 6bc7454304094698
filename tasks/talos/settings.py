"""Operator-local settings of the ``talos`` namespace (Invoke config ``talos.*``).

Paths into the repository are relative to the working directory (the repository root, like the
cluster spec); everything generated or secret lives in the cluster's state directory. Timeouts are
seconds; tests shrink them through ``INVOKE_TALOS_TIMEOUTS_*``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tasks.core.settings import FORBID_EXTRA, defaults_of, load_section
from tasks.core.state import ClusterState

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.config import ClusterSpec, Node


def _require_seconds(key: str, seconds: float) -> None:
    """A duration: nan or inf would wait forever, zero or less never waits."""
    if not 0 < seconds < math.inf:
        raise ValueError(f"{key} {seconds!r}: expected a positive, finite number of seconds.")


@dataclass(frozen=True)
class Timeouts:
    """Seconds each bounded wait (and each bootstrap phase's deadline) may take."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    command: float = 120.0
    maintenance: float = 900.0
    apply: float = 600.0
    bootstrap: float = 1200.0
    kubernetes_api: float = 900.0
    cilium: float = 900.0
    nodes_ready: float = 900.0
    health: float = 900.0
    upgrade: float = 1800.0

    def __post_init__(self) -> None:
        for name, value in dataclasses.asdict(self).items():
            _require_seconds(f"timeouts.{name}", value)


@dataclass(frozen=True)
class TalosConfig:
    """Invoke config ``talos.*``: declared once; the collection's defaults come from here."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    #: The Talos secrets bundle, sops-encrypted as a whole file (a creation rule in .sops.yaml).
    secrets_file: str = "deploy/local-cluster/talos/secrets.yaml"
    #: Committed machine-config patches: common.yaml, controlplane.yaml, worker.yaml, nodes/.
    patches_dir: str = "deploy/local-cluster/patches"
    cilium_values: str = "deploy/infrastructure/cilium/values.yaml"
    cilium_repo: str = "https://helm.cilium.io/"
    #: A local chart (directory or .tgz) instead of the repository, for air-gapped hosts.
    cilium_chart: str | None = None
    gateway_api_crds: str = "deploy/infrastructure/gateway-api-crds"
    #: Where the admin kubeconfig is merged; default: <state>/kubeconfig.
    kubeconfig: str | None = None
    #: Directory holding v<talos>.config.schema.json; the node patches are checked against it.
    #: Unset: the one `inv validate` uses (validate.talos_schema_dir, or
    #: validate.shared_schemas/talos) when the file is there.
    schema_dir: str | None = None
    #: The libvirt guests have one virtio disk.
    install_disk: str = "/dev/vda"
    #: false: talos.bootstrap stops once the cluster is up instead of running gitops.bootstrap.
    gitops_handover: bool = True
    #: etcd snapshots kept in <state>/backups (talos.snapshot and every upgrade take one).
    snapshot_keep: int = 10
    poll_interval: float = 5.0
    timeouts: Timeouts = field(default_factory=Timeouts)

    def __post_init__(self) -> None:
        _require_seconds("poll_interval", self.poll_interval)
        if self.snapshot_keep < 1:
            raise ValueError(
                f"snapshot_keep {self.snapshot_keep!r}: keep at least 1 snapshot "
                "(the one an upgrade just took)."
            )


#: The namespace's Invoke config defaults (registered on its collection, so that
#: ``INVOKE_TALOS_*`` environment variables are recognised).
DEFAULTS: dict[str, Any] = defaults_of(TalosConfig)

PATCH_NAMES = ("common", "controlplane", "worker")


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
    snapshot_keep: int
    poll_interval: float
    timeouts: Timeouts

    @classmethod
    def from_context(cls, c: Context, spec: ClusterSpec) -> Settings:
        raw = load_section(c, "talos", TalosConfig)
        state = ClusterState.for_cluster(c, spec.cluster.name)

        def optional(value: str | None) -> Path | None:
            return Path(value).expanduser() if value else None

        return cls(
            cluster=spec.cluster.name,
            state=state,
            secrets_file=Path(raw.secrets_file),
            patches_dir=Path(raw.patches_dir),
            cilium_values=Path(raw.cilium_values),
            cilium_repo=raw.cilium_repo,
            cilium_chart=optional(raw.cilium_chart),
            gateway_api_crds=Path(raw.gateway_api_crds),
            kubeconfig=optional(raw.kubeconfig) or state.kubeconfig,
            schema_dir=optional(raw.schema_dir) or _validate_talos_schemas(c),
            schema_required=bool(raw.schema_dir),
            install_disk=raw.install_disk,
            gitops_handover=raw.gitops_handover,
            snapshot_keep=raw.snapshot_keep,
            poll_interval=raw.poll_interval,
            timeouts=raw.timeouts,
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


def _validate_talos_schemas(c: Context) -> Path:
    """Where `inv validate` reads the Talos schema from (its settings, env and cache included)."""
    from tasks.validate.settings import load

    return load(c).talos_dir
