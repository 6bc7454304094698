"""Check families the aks namespace adds to ``inv validate``.

- ``parity``: the tree Argo CD deploys on AKS differs from the local one only by the backend
  contracts of ``deploy/aks/contracts.yaml`` (:mod:`tasks.validate.families.parity`).
"""

from __future__ import annotations

from tasks.validate.families import parity

__all__ = ["parity"]
