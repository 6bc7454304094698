"""``inv aks.*``: the AKS environment, the same deploy/ tree on Azure (deploy/aks/README.md).

Names, sizes and versions come from the AKS spec (``aks.file``, default deploy/aks/cluster.yaml);
the kubeconfig and the bootstrap's phase markers live in the state dir ``aks-<cluster name>``.
Heavy modules load inside the task bodies so ``inv --list`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.tasks import task

from tasks.aks.settings import DEFAULTS

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.aks.ops import Env


def _env(c: Context) -> Env:
    from tasks.aks.ops import Env

    return Env.load(c)


@task(help={})
def up(c: Context) -> None:
    """Create what is missing on Azure: resource groups, the BYO-CNI cluster without kube-proxy
    (OIDC issuer, workload identity), the Gateway's static IP and its role, Key Vault with the
    age key and backup credentials, storage account and containers, External Secrets' identity.

    Idempotent: every resource is read first (az ... show) and only a missing one is created.
    """
    from tasks.aks import ops

    env = _env(c)
    with ops.locked(env):
        env.runner.converge(ops.up(env))


@task(help={})
def credentials(c: Context) -> None:
    """Write the cluster's kubeconfig into the state dir (az aks get-credentials)."""
    from tasks.aks import ops

    env = _env(c)
    env.runner.converge(ops.credentials(env))


@task(
    help={
        "from_": "start at this phase (see Phases), re-running it and every later one "
        "(default: every phase not finished yet)",
        "only": "run just this phase (see Phases), even if it finished before",
    }
)
def bootstrap(c: Context, from_: str | None = None, only: str | None = None) -> None:
    """Resumable hand-over to GitOps: kubeconfig, API server ConfigMap, Gateway API CRDs,
    Cilium (values-aks), External Secrets, deploy/aks/bootstrap, Argo CD (env aks), root app.

    Phases: credentials, api-server, gateway-api-crds, cilium, external-secrets, aks-bootstrap,
    argocd, root-application.
    """
    from tasks.aks import phases
    from tasks.core import phases as core_phases

    core_phases.selected(phases.NAMES, from_, only)  # bad names fail before anything is read
    from tasks.aks import ops

    env = _env(c)
    with ops.locked(env):
        env.runner.converge(phases.run(env, from_=from_, only=only))


@task(help={"json": "print the resources as JSON"})
def status(c: Context, json: bool = False) -> None:
    """Each Azure resource of the AKS spec and its state (read-only)."""
    from tasks.aks import ops
    from tasks.core import console

    env = _env(c)
    rows = env.runner.converge(ops.status_rows(env.spec))
    if json:
        console.print_json([{"kind": k, "name": n, "state": s} for k, n, s in rows])
        return
    console.table(["resource", "name", "state"], rows)


@task(
    help={
        "yes": "do not ask for confirmation (required without a terminal)",
        "network": "also delete the network resource group (the Gateway's public IP: DNS changes)",
        "backups": "also delete the backups resource group (every Velero and database backup)",
    }
)
def destroy(c: Context, yes: bool = False, network: bool = False, backups: bool = False) -> None:
    """Delete the cluster's resource group (and with flags the network and backups ones)."""
    from tasks.aks import ops

    env = _env(c)
    with ops.locked(env):
        env.runner.converge(ops.destroy(env, yes=yes, network=network, backups=backups))


ns = Collection("aks", up, credentials, bootstrap, status, destroy)
ns.configure({"aks": DEFAULTS})
