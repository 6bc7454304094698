"""Check families the aks namespace adds to ``inv validate``.

- ``parity``: the tree Argo CD deploys on AKS differs from the local one only by the backend
  contracts of ``deploy/aks/contracts.yaml`` (:mod:`tasks.validate.families.parity`).
- ``aks``: the AKS spec (``deploy/aks/cluster.yaml``) is valid, and the Azure names deploy/ uses
  are the spec's (:func:`tasks.aks.spec.tree_mismatches`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasks.validate.families import parity
from tasks.validate.registry import register_family

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result

__all__ = ["parity"]


def check_aks(ws: Workspace, result: Result) -> None:
    from tasks.aks import spec as spec_mod
    from tasks.aks.settings import AksConfig
    from tasks.core.errors import ConfigError
    from tasks.core.settings import load_section

    path = ws.root / load_section(ws.c, "aks", AksConfig).file
    if not path.is_file():
        return  # no AKS environment in this tree
    rel = ws.rel(path)
    try:
        loaded = spec_mod.load(path)
    except ConfigError as exc:
        result.add(rel, None, "aks/spec", exc.text)
        return
    for problem in spec_mod.tree_mismatches(loaded.spec, ws.root / "deploy"):
        result.add(rel, None, "aks/names", problem)


register_family("aks", check_aks, "the AKS spec is valid and names what deploy/ names")
