"""The small Invoke config sections every namespace shares, declared once (see
:mod:`tasks.core.settings`): the collection's defaults are made from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from tasks.core.settings import FORBID_EXTRA


@dataclass(frozen=True)
class ClusterConfig:
    """Invoke config ``cluster.*``."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    #: Which cluster spec (``INVOKE_CLUSTER_FILE``).
    file: str = "deploy/local-cluster/cluster.yaml"


@dataclass(frozen=True)
class StateConfig:
    """Invoke config ``state.*``."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    #: Generated configs, talosconfig, kubeconfig, caches, phase markers; never inside the
    #: repository. Default ``$XDG_STATE_HOME/propertea`` (``INVOKE_STATE_DIR``).
    dir: str | None = None


@dataclass(frozen=True)
class ImagesConfig:
    """Invoke config ``images.*``."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    #: Where images are pushed (``INVOKE_IMAGES_REGISTRY``).
    registry: str = "ghcr.io/propertea"


@dataclass(frozen=True)
class SecretsConfig:
    """Invoke config ``secrets.*``."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    #: Extra age recipients for .sops.yaml (a list, or one comma-separated string); empty means
    #: the local key's public key only.
    age_recipients: list[str] | str = field(default_factory=list)
