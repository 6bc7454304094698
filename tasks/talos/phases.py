"""``talos.bootstrap``: resumable phases from maintenance-mode VMs to a cluster handed to GitOps.

Each finished phase is recorded in the state dir (``ClusterState.mark_done``); a re-run skips
them, so an interrupted bootstrap resumes where it stopped. Every wait is bounded and its timeout
names what to look at. Order matters: etcd is bootstrapped once on the first control plane only
after it took its config; Cilium (the only CNI, kube-proxy replacement) needs the API and the
Gateway API CRDs (its Gateway controller starts only when they exist); nodes become Ready only once
Cilium runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core import console
from tasks.core import operation as op
from tasks.core import phases as core_phases
from tasks.core.runner import MakeDir, WriteFile
from tasks.talos import facts, ops, plan, support
from tasks.talos.settings import Timeouts

if TYPE_CHECKING:
    from tasks.core.operation import Op

FLOW = plan.BOOTSTRAP_FLOW


@dataclass(frozen=True)
class Phase:
    name: str
    title: str
    #: The phase's operation; answers False when the phase did not finish its job (not
    #: recorded, runs again next time).
    run: Callable[[ops.Env], Op[bool | None]]
    #: The phase's deadline from talos.timeouts: every command in it gets at most what is left
    #: (the runner's deadline), so no tool and no retry loop outlives its phase. None: the phase
    #: hands over to tasks with deadlines of their own.
    budget: Callable[[Timeouts], float] | None = None


def _config(env: ops.Env) -> Op[None]:
    yield from ops.secrets(env)
    yield from ops.config(env)


def _wait_maintenance(env: ops.Env) -> Op[None]:
    yield from ops.wait_for_nodes(env, env.spec.nodes)


def _apply(env: ops.Env) -> Op[None]:
    yield from ops.apply(env, env.spec.nodes)


def _bootstrap_etcd(env: ops.Env) -> Op[None]:
    s = env.settings
    yield from ops.until_ok(
        env,
        plan.bootstrap_etcd(s, env.spec),
        timeout=s.timeouts.bootstrap,
        what=f"{plan.first_control_plane(env.spec).name} to install, reboot and bootstrap etcd",
        look_at=plan.LOOK_AT_ETCD,
    )


def _kubeconfig(env: ops.Env) -> Op[None]:
    s = env.settings
    yield MakeDir(s.kubeconfig.parent, step="the kubeconfig")
    yield from ops.until_ok(
        env,
        plan.fetch_kubeconfig(s, env.spec),
        timeout=s.timeouts.kubernetes_api,
        what="the admin kubeconfig",
        look_at=plan.LOOK_AT_ETCD,
    )
    yield from ops.until_ok(
        env,
        plan.api_ready(s, s.timeouts.command),
        timeout=s.timeouts.kubernetes_api,
        what=f"the Kubernetes API at {env.spec.cluster.endpoint}",
        look_at=plan.LOOK_AT_API,
    )
    console.info(f"kubeconfig: {s.kubeconfig} (context {env.spec.cluster.name})")


def _gateway_api_crds(env: ops.Env) -> Op[None]:
    s = env.settings
    source = facts.gateway_api_crds(s.gateway_api_crds)
    yield from ops.until_ok(
        env,
        plan.gateway_api_crds(s, source.kustomize, source.files),
        timeout=s.timeouts.kubernetes_api,
        what="the Gateway API CRDs to apply",
        look_at=plan.LOOK_AT_API,
    )


def _cilium(env: ops.Env) -> Op[None]:
    s = env.settings
    values = facts.cilium_values(s)
    wanted = env.spec.versions.cilium
    if values.pinned and values.pinned != wanted:
        console.warn(
            f"{s.cilium_values.parent / 'Chart.yaml'} pins Cilium {values.pinned} but the cluster "
            f"spec says {wanted}: installing {wanted}; Argo CD will then move it to "
            f"{values.pinned}. Align them (`inv validate` reports the drift)."
        )
    if values.content is not None:
        yield from env.ensure_state()
        yield WriteFile(values.path, values.content, step="Cilium values for the upstream chart")
    if s.cilium_chart is None:
        yield from op.run(plan.cilium_repo(s))
    yield from ops.until_ok(
        env,
        plan.cilium_install(s, env.spec, values.path, s.timeouts.cilium),
        timeout=s.timeouts.cilium,
        what=f"Cilium {env.spec.versions.cilium} to install",
        look_at=plan.LOOK_AT_CILIUM,
    )


def _nodes_ready(env: ops.Env) -> Op[None]:
    s = env.settings
    yield from ops.until_ok(
        env,
        plan.cilium_status(s, s.timeouts.cilium),
        timeout=s.timeouts.cilium,
        what="Cilium to be healthy",
        look_at=plan.LOOK_AT_CILIUM,
    )
    yield from ops.until_ok(
        env,
        plan.nodes_ready(s, s.timeouts.nodes_ready),
        timeout=s.timeouts.nodes_ready,
        what="every node to be Ready",
        look_at=plan.LOOK_AT_NODES,
    )


def _gitops(env: ops.Env) -> Op[bool]:
    if not env.settings.gitops_handover:
        console.info("the cluster is up; GitOps hand-over is off (talos.gitops_handover).")
        return False
    from tasks.gitops import defaults as gitops_defaults
    from tasks.gitops import kube
    from tasks.gitops import ops as gitops_ops
    from tasks.secrets.keys import default_key_file

    root, path = Path.cwd(), env.spec.gitops.path
    access = yield from kube.resolve(env.c)
    # The hand-over is `inv gitops.install` and `inv gitops.bootstrap` with their defaults.
    # install is idempotent, so a resumed hand-over repeats it harmlessly.
    console.info("inv gitops.install")
    yield from gitops_ops.install(
        access,
        version=env.spec.versions.argocd_chart,
        files=gitops_ops.values_files(root, path, gitops_ops.DEFAULT_ENV),
        chart=None,
        timeout=gitops_defaults.INSTALL_TIMEOUT,
    )
    console.info("inv gitops.bootstrap")
    yield from gitops_ops.bootstrap(
        access,
        root=root,
        gitops_path=path,
        key_file=default_key_file(),
        clusters=gitops_ops.clusters(root, path, None),
        timeout=gitops_defaults.BOOTSTRAP_TIMEOUT,
        interval=gitops_defaults.BOOTSTRAP_INTERVAL,
    )
    return True


PHASES: tuple[Phase, ...] = (
    # gen secrets, sops encrypt/verify, gen config, validate: a few one-shot commands.
    Phase("config", "secrets bundle and machine configs", _config, lambda t: 4 * t.command),
    Phase(
        "wait-maintenance",
        "wait for every node's Talos API",
        _wait_maintenance,
        lambda t: t.maintenance + t.command,
    ),
    Phase("apply", "apply the machine configs", _apply, lambda t: t.apply + t.command),
    Phase("bootstrap-etcd", "bootstrap etcd", _bootstrap_etcd, lambda t: t.bootstrap + t.command),
    Phase(
        "kubeconfig",
        "admin kubeconfig and the Kubernetes API",
        _kubeconfig,
        lambda t: t.kubernetes_api + t.command,
    ),
    Phase(
        "gateway-api-crds",
        "Gateway API CRDs",
        _gateway_api_crds,
        lambda t: t.kubernetes_api + t.command,
    ),
    # helm repo add, then the install wait (its own --wait bound is t.cilium).
    Phase("cilium", "Cilium", _cilium, lambda t: t.cilium + 2 * t.command),
    Phase(
        "nodes-ready",
        "Cilium healthy and nodes Ready",
        _nodes_ready,
        lambda t: t.cilium + t.nodes_ready + t.command,
    ),
    Phase("gitops", "hand over to GitOps", _gitops),
)


@dataclass(frozen=True)
class Flow:
    """Resumable phases run in order (:mod:`tasks.core.phases`): each finished one is recorded in
    the state dir, a re-run skips those, and ``--from``/``--only`` force phases to run again."""

    name: str
    #: The command that runs the flow, for the resume hint in an error.
    command: str
    phases: tuple[Phase, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.phases)

    def selected(self, from_: str | None, only: str | None) -> list[str]:
        """The phases a run considers (done ones are still skipped unless forced)."""
        return core_phases.selected(self.names, from_, only)

    def run(self, env: ops.Env, *, from_: str | None = None, only: str | None = None) -> Op[None]:
        yield from core_phases.run(
            self.phases,
            flow=self.name,
            command=self.command,
            state=env.settings.state,
            execute=lambda phase: phase.run(env),
            budget=lambda phase: phase.budget(env.settings.timeouts) if phase.budget else None,
            from_=from_,
            only=only,
        )


BOOTSTRAP = Flow(FLOW, "inv talos.bootstrap", PHASES)
NAMES = BOOTSTRAP.names
selected = BOOTSTRAP.selected


def run(env: ops.Env, *, from_: str | None = None, only: str | None = None) -> Op[None]:
    """``talos.bootstrap``: the versions the spec pins are checked first (the cluster does not
    run yet, so only against each other), then the phases."""
    yield from ops.preflight(env, support.Purpose.BOOTSTRAP, offline=True)
    yield from BOOTSTRAP.run(env, from_=from_, only=only)
