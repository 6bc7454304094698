"""Operator-local settings of the ``aks`` namespace (Invoke config ``aks.*``, ``INVOKE_AKS_*``).

``aks.file`` is the AKS spec (names, sizes, versions; committed); the kubeconfig and the phase
markers of ``aks.bootstrap`` live in the state directory ``<state.dir>/aks-<cluster name>``.
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

    from tasks.aks.spec import AksSpec


@dataclass(frozen=True)
class Timeouts:
    """Seconds each long step may take (``az aks create`` alone is ~10 minutes)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    command: float = 300.0
    create: float = 2400.0
    helm: float = 900.0
    delete: float = 3600.0

    def __post_init__(self) -> None:
        for name, value in dataclasses.asdict(self).items():
            if not 0 < value < math.inf:
                raise ValueError(f"timeouts.{name} {value!r}: expected a positive number")


@dataclass(frozen=True)
class AksConfig:
    """Invoke config ``aks.*``: declared once; the collection's defaults come from here."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    #: The AKS spec (relative to the repository root).
    file: str = "deploy/aks/cluster.yaml"
    #: The age private key stored in Key Vault; empty: SOPS's default key file.
    age_key_file: str = ""
    #: The deploy tree (Argo CD's values, the Cilium chart, deploy/aks/bootstrap).
    deploy_dir: str = "deploy"
    timeouts: Timeouts = field(default_factory=Timeouts)


DEFAULTS = defaults_of(AksConfig)


@dataclass(frozen=True)
class Settings:
    spec_file: Path
    age_key_file: Path
    deploy: Path
    state: ClusterState
    timeouts: Timeouts

    @property
    def kubeconfig(self) -> Path:
        return self.state.kubeconfig

    @property
    def kube_proxy_config(self) -> Path:
        """The ``--kube-proxy-config`` file (``enabled: false``) ``az aks create`` reads."""
        return self.state.path("kube-proxy.json")

    @classmethod
    def from_context(cls, c: Context | None, spec: AksSpec | None = None) -> Settings:
        from tasks.secrets.keys import default_key_file

        cfg = load_section(c, "aks", AksConfig)
        name = spec.cluster.name if spec is not None else "propertea"
        return cls(
            spec_file=Path(cfg.file),
            age_key_file=Path(cfg.age_key_file).expanduser()
            if cfg.age_key_file
            else default_key_file(),
            deploy=Path(cfg.deploy_dir),
            state=ClusterState.for_cluster(c, f"aks-{name}"),
            timeouts=cfg.timeouts,
        )
