"""``aks.bootstrap``: from an empty AKS cluster to Argo CD owning it, in resumable phases.

The order mirrors ``talos.bootstrap``: the API server's address for Cilium (no KubePrism on AKS),
the Gateway API CRDs before Cilium (its Gateway controller starts only when they exist), Cilium
(nodes stay NotReady on a BYO-CNI cluster until it runs), External Secrets Operator with the
workload identity, the AKS-only objects (Key Vault store, helm-secrets key, backup credentials),
Argo CD with the ``aks`` label, then the root Application. Each phase is an operation that
core.phases runs within its budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tasks.aks import facts, plan
from tasks.aks.ops import FLOW, Env, credentials
from tasks.aks.settings import Timeouts
from tasks.core import phases as core_phases
from tasks.core.errors import UserError
from tasks.core.operation import Op


@dataclass(frozen=True)
class Phase:
    name: str
    title: str
    run: Callable[[Env], Op[None]]
    budget: Callable[[Timeouts], float]


def _api_server(env: Env) -> Op[None]:
    found = yield from facts.show(plan.aks_show(env.spec))
    fqdn = found.get("fqdn", default=facts.placeholder("API server FQDN"))
    yield plan.apply_stdin(
        env.settings,
        plan.api_server_configmap(fqdn),
        "ConfigMap kube-system/aks-api-server (Cilium's k8sServiceHostRef)",
    )


def _gateway_api_crds(env: Env) -> Op[None]:
    yield plan.gateway_api_crds(env.settings)


def _cilium(env: Env) -> Op[None]:
    yield plan.cilium_install(env.settings)


def _external_secrets(env: Env) -> Op[None]:
    identity = yield from facts.show(plan.identity_show(env.spec))
    if identity.observed and not identity.exists:
        raise UserError(
            f"The managed identity {env.spec.external_secrets.identity} does not exist: run "
            "`inv aks.up` first."
        )
    client_id = identity.get("clientId", default=facts.placeholder("client ID"))
    yield plan.eso_install(env.settings, env.spec, client_id)


def _aks_bootstrap(env: Env) -> Op[None]:
    yield plan.aks_bootstrap(env.settings)


def _argocd(env: Env) -> Op[None]:
    from tasks.core import config
    from tasks.gitops import ops as gitops_ops
    from tasks.gitops.kube import Kube

    local = config.load(env.c)
    s = env.settings
    yield from gitops_ops.install(
        Kube(s.kubeconfig, s.state.root),
        version=local.versions.argocd_chart,
        files=gitops_ops.values_files(Path.cwd(), local.gitops.path, "aks"),
        chart=None,
        timeout=s.timeouts.helm,
    )


def _root(env: Env) -> Op[None]:
    yield plan.root_application(env.settings)


PHASES: tuple[Phase, ...] = (
    Phase(
        "credentials", "kubeconfig from az aks get-credentials", credentials, lambda t: t.command
    ),
    Phase("api-server", "the API server address for Cilium", _api_server, lambda t: 2 * t.command),
    Phase("gateway-api-crds", "Gateway API CRDs", _gateway_api_crds, lambda t: t.command),
    Phase("cilium", "Cilium with values-aks.yaml", _cilium, lambda t: t.helm + 120),
    Phase(
        "external-secrets",
        "External Secrets Operator (workload identity)",
        _external_secrets,
        lambda t: t.helm + t.command,
    ),
    Phase("aks-bootstrap", "deploy/aks/bootstrap", _aks_bootstrap, lambda t: t.command),
    Phase("argocd", "Argo CD with propertea.io/env: aks", _argocd, lambda t: t.helm + t.command),
    Phase("root-application", "the root Application", _root, lambda t: t.command),
)
NAMES = tuple(p.name for p in PHASES)


def run(env: Env, *, from_: str | None = None, only: str | None = None) -> Op[None]:
    return core_phases.run(
        PHASES,
        flow=FLOW,
        command="inv aks.bootstrap",
        state=env.settings.state,
        execute=lambda phase: phase.run(env),
        budget=lambda phase: phase.budget(env.settings.timeouts),
        from_=from_,
        only=only,
    )
