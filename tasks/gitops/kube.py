"""How cluster-bound commands reach the cluster: one kubeconfig, passed explicitly.

The kubeconfig is the cluster's in the state directory (written by the talos tasks) when it
exists, else ``$KUBECONFIG`` / ``~/.kube/config``. ``argocd --core`` talks to the Argo CD
installation in the *current context's namespace*; rather than changing the operator's context,
an overlay kubeconfig (no credentials: a context naming the same cluster and user, namespace
``argocd``) is put first in ``KUBECONFIG``, which kubectl-style loaders merge first-wins.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core import operation as op
from tasks.core.errors import UserError
from tasks.core.operation import Op
from tasks.core.runner import WriteFile

if TYPE_CHECKING:
    from invoke.context import Context

ARGOCD_NAMESPACE = "argocd"
OVERLAY_NAME = "argocd-core.kubeconfig"


@dataclass(frozen=True)
class Kube:
    """The kubeconfig every cluster-bound command of one task uses."""

    kubeconfig: Path
    state_dir: Path

    def kubectl(self, *args: str) -> tuple[str, ...]:
        return ("kubectl", "--kubeconfig", str(self.kubeconfig), *args)

    def helm_flags(self) -> tuple[str, ...]:
        return ("--kubeconfig", str(self.kubeconfig))

    @property
    def overlay(self) -> Path:
        return self.state_dir / OVERLAY_NAME

    def argocd_env(self) -> dict[str, str]:
        return {"KUBECONFIG": f"{self.overlay}{os.pathsep}{self.kubeconfig}"}


class NoKubeconfig(UserError):
    """No kubeconfig for the cluster yet."""


def resolve(c: Context) -> Op[Kube]:
    from tasks.core import config
    from tasks.core.state import ClusterState

    spec = config.load(c)
    state = ClusterState.for_cluster(c, spec.cluster.name)
    if state.kubeconfig.exists():
        return (yield from op.just(Kube(state.kubeconfig, state.root)))
    env = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    fallback = Path(env).expanduser() if env else Path.home() / ".kube" / "config"
    if fallback.exists():
        return (yield from op.just(Kube(fallback, state.root)))

    def missing() -> Kube:
        raise NoKubeconfig(
            f"No kubeconfig for {spec.cluster.name}: neither {state.kubeconfig} nor {fallback} "
            "exists. Bring the cluster up first (inv talos.bootstrap), or set KUBECONFIG."
        )

    # Planning for a fresh world: the kubeconfig the talos tasks will write.
    fresh = Kube(state.kubeconfig, state.root)
    return (yield from op.assume(missing, fresh=fresh, unobservable=NoKubeconfig))


def overlay_for(kube: Kube, kubeconfig_text: str) -> WriteFile:
    """The overlay that makes ``argocd --core`` look in the argocd namespace (pure)."""
    from tasks.core import yamldata

    data: Any = yamldata.load(kubeconfig_text) or {}
    current = data.get("current-context")
    contexts = {c.get("name"): c.get("context", {}) for c in data.get("contexts") or []}
    if not current or current not in contexts:
        raise UserError(
            f"{kube.kubeconfig}: no current context. Set one: "
            f"kubectl --kubeconfig {kube.kubeconfig} config use-context <name>"
        )
    ctx = contexts[current]
    name = f"{current}-argocd-core"
    overlay = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": name,
        "contexts": [
            {
                "name": name,
                "context": {
                    "cluster": ctx.get("cluster"),
                    "user": ctx.get("user"),
                    "namespace": ARGOCD_NAMESPACE,
                },
            }
        ],
    }
    header = "Written by the gitops tasks: the current context, namespace argocd (argocd --core)."
    text = yamldata.house_dump(overlay, header=header)
    return WriteFile(kube.overlay, text, mode=0o600, step="argocd --core kubeconfig overlay")
