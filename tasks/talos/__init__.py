"""``talos``: bootstrap and day-2 operations of the Talos cluster, from the dev VM.

Thin tasks: options and config in, then ``runner.converge`` of an operation of ``ops``,
``phases`` or ``recovery`` (generators yielding steps; the runner does them or prints them). Heavy
modules (pydantic, jsonschema) load inside the task bodies so ``inv --list`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.tasks import task

from tasks.core.lock import cluster_locked
from tasks.talos.settings import DEFAULTS

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.talos.ops import Env

NODE_HELP = "node name from the cluster spec (default: {})"


def _lines(value: str | None) -> int | None:
    """Invoke passes an option without a typed default as text."""
    from tasks.core.errors import UserError

    if value is None:
        return None
    if not value.isdigit():
        raise UserError(f"--tail {value!r}: expected a number of lines (0 or more).", code=2)
    return int(value)


def _env(c: Context) -> Env:
    from tasks.talos.ops import Env

    return Env.load(c)


@task(help={})
@cluster_locked
def secrets(c: Context) -> None:
    """Generate the Talos secrets bundle once; commit it sops-encrypted (never plaintext)."""
    from tasks.talos import ops

    env = _env(c)
    env.runner.converge(ops.secrets(env))


@task(help={})
@cluster_locked
def config(c: Context) -> None:
    """Generate per-node machine configs into the state dir (committed patches + spec)."""
    from tasks.talos import ops

    env = _env(c)
    env.runner.converge(ops.config(env))


@task(help={"node": NODE_HELP.format("every node")})
@cluster_locked
def apply(c: Context, node: str | None = None) -> None:
    """Apply the machine configs: insecure in maintenance mode, mTLS after; nodes in parallel."""
    from tasks.talos import ops

    env = _env(c)
    env.runner.converge(ops.apply(env, env.nodes(node)))


@task(
    help={
        "from_": "start at this phase (one of the Phases above), re-running it and every later "
        "one (default: every phase not finished yet)",
        "only": "run just this phase (one of the Phases above), even if it finished before",
    }
)
@cluster_locked
def bootstrap(c: Context, from_: str | None = None, only: str | None = None) -> None:
    """Resumable bring-up: configs, apply, etcd, kubeconfig, Gateway API CRDs, Cilium, GitOps.

    Phases: config, wait-maintenance, apply, bootstrap-etcd, kubeconfig, gateway-api-crds,
    cilium, nodes-ready, gitops.
    """
    from tasks.talos import phases

    phases.selected(from_, only)  # bad phase names fail before the spec is even read
    env = _env(c)
    env.runner.converge(phases.run(env, from_=from_, only=only))


@task(help={})
def health(c: Context) -> None:
    """Check cluster health (talosctl health: etcd, control plane, nodes, Kubernetes)."""
    from tasks.talos import ops

    env = _env(c)
    env.runner.converge(ops.health(env))


@task(
    help={
        "offline": "compare only the versions the spec pins (do not ask the running cluster)",
    }
)
def preflight(c: Context, offline: bool = False) -> None:
    """Check every version pair (talosctl/Talos/Kubernetes/Cilium/Gateway API/Argo CD).

    Spec pins against each other and against what the cluster runs, from the support table in
    tasks/talos/support.py (upstream sources named there). talos.upgrade, talos.upgrade-k8s and
    talos.bootstrap run it first.
    """
    from tasks.talos import ops, support

    env = _env(c)
    env.runner.converge(ops.preflight(env, support.Purpose.CHECK, offline=offline))


@task(help={})
@cluster_locked
def snapshot(c: Context) -> None:
    """Take an etcd snapshot into <state>/backups (0600, keeps talos.snapshot_keep)."""
    from tasks.talos import ops

    env = _env(c)
    env.runner.converge(ops.snapshot(env))


@task(
    help={
        "renew": "issue again the client certificates the toolkit owns (talosconfig, "
        "kubeconfig) when they expire within --days; each is proven before it replaces the old",
        "days": "warn (and with --renew, renew) under this many days left (default: 30)",
        "json": "print the certificates as JSON instead of a table",
    }
)
def certs(c: Context, renew: bool = False, days: str = "30", json: bool = False) -> None:
    """Certificate expiry: talosconfig and kubeconfig clients, the CAs, API server, Hubble.

    Exits 1 when any has expired. Talos issues client certificates for one year.
    """
    from tasks.core.errors import UserError
    from tasks.talos import ops

    try:
        warn_days = float(days)
    except ValueError:
        raise UserError(f"--days {days!r}: expected a number of days.", code=2) from None
    env = _env(c)
    if not renew:
        env.runner.converge(ops.show_certs(env, days=warn_days, as_json=json, renew=False))
        return
    from tasks.core.lock import cluster_held

    env.runner.converge(ops.require_talosconfig(env))
    with cluster_held(c, env.settings.state):
        env.runner.converge(ops.show_certs(env, days=warn_days, as_json=json, renew=True))


@task(
    help={
        "json": "print the checks as JSON instead of a table",
        "junit": "also write the checks as JUnit XML to this file (for CI reports)",
        "telemetry": "send a trace, a log and a metric through the OTel Collector and find "
        "them in Tempo, Loki and VictoriaMetrics (default: on; --no-telemetry skips it)",
    }
)
def verify(
    c: Context, json: bool = False, junit: str | None = None, telemetry: bool = True
) -> None:
    """Check the platform works: nodes, Cilium, Hubble, the Gateway, TLS, data, GitOps.

    Nodes Ready, Cilium on every node, Hubble Relay, the Gateway's L2 address answering TLS,
    the wildcard certificate, CNPG primary and databases, Redis/RabbitMQ/ZITADEL/OpenFGA
    endpoints, platform workloads, the OTel Collector on every node, every Argo CD Application
    Synced and Healthy, and a trace, log and metric sent through the collector found in Tempo,
    Loki and VictoriaMetrics. Exits 1 if any check fails.
    """
    from tasks.talos import ops

    env = _env(c)
    env.runner.converge(ops.verify(env, as_json=json, junit=junit, telemetry=telemetry))


@task(
    help={
        "snapshot": "snapshot file, or its name in <state>/backups (see `inv talos.snapshot`)",
        "yes": "do not ask for confirmation (required without a terminal)",
        "from_": "re-run from this phase on: wipe-etcd, wait-etcd, recover, health",
        "only": "re-run just this phase",
    }
)
@cluster_locked
def restore(
    c: Context, snapshot: str, yes: bool = False, from_: str | None = None, only: str | None = None
) -> None:
    """Bring etcd back from a snapshot (wipes etcd on the control planes; resumable).

    Phases: wipe-etcd, wait-etcd, recover, health. Talos's documented disaster recovery:
    EPHEMERAL wiped, etcd bootstrapped with --recover-from.
    """
    from tasks.talos import recovery

    env = _env(c)
    env.runner.converge(recovery.restore(env, snapshot, yes=yes, from_=from_, only=only))


@task(
    help={
        "node": NODE_HELP.format("every node, control planes first"),
        "force": "upgrade even nodes that already run the pinned version (new schematic)",
    }
)
@cluster_locked
def upgrade(c: Context, node: str | None = None, force: bool = False) -> None:
    """Rolling Talos upgrade to the pinned version: etcd snapshot, one node at a time, health."""
    from tasks.talos import ops

    env = _env(c)
    env.runner.converge(ops.upgrade(env, env.nodes(node), force=force))


@task(name="upgrade-k8s", help={"preview": "only show what would change (talosctl --dry-run)"})
@cluster_locked
def upgrade_k8s(c: Context, preview: bool = False) -> None:
    """Upgrade Kubernetes to the version pinned in the cluster spec."""
    from tasks.talos import ops

    env = _env(c)
    env.runner.converge(ops.upgrade_k8s(env, preview=preview))


@task(
    help={
        "yes": "do not ask for confirmation (required without a terminal)",
        "node": NODE_HELP.format("every node"),
    }
)
@cluster_locked
def reset(c: Context, yes: bool = False, node: str | None = None) -> None:
    """Wipe nodes back to maintenance mode (destroys the cluster's data)."""
    from tasks.talos import ops

    env = _env(c)
    env.runner.converge(ops.reset(env, env.nodes(node), yes=yes))


@task(help={"path": "kubeconfig file to merge into (default: talos.kubeconfig or the state dir)"})
@cluster_locked
def kubeconfig(c: Context, path: str | None = None) -> None:
    """Fetch the admin kubeconfig, merged, with a context named after the cluster."""
    from tasks.talos import ops

    env = _env(c)
    env.runner.converge(ops.kubeconfig(env, path))


@task(help={"node": NODE_HELP.format("every node")})
def dashboard(c: Context, node: str | None = None) -> None:
    """The talosctl dashboard."""
    from tasks.talos import ops, plan

    env = _env(c)
    nodes = env.nodes(node)
    env.runner.converge(
        ops.passthrough(env, plan.dashboard(env.settings, env.spec, nodes), terminal=True)
    )


@task(
    help={
        "service": "service name (machined, etcd, kubelet, apid, ...), or a container id with -k",
        "node": NODE_HELP.format("the first control plane"),
        "kubernetes": "the service is a Kubernetes container (k8s.io namespace)",
        "follow": "keep streaming new lines (Ctrl-C stops)",
        "tail": "only the last N lines (default: every line)",
    }
)
def logs(  # noqa: PLR0917 (Invoke maps positional parameters to options)
    c: Context,
    service: str,
    node: str | None = None,
    kubernetes: bool = False,
    follow: bool = False,
    tail: str | None = None,
) -> None:
    """Logs of a Talos service on a node."""
    from tasks.core.taskhelp import asked_for_help
    from tasks.talos import ops, plan

    if asked_for_help(service, "talos", logs):
        return
    lines = _lines(tail)
    env = _env(c)
    target = env.one_node(node)
    env.runner.converge(
        ops.passthrough(
            env,
            plan.logs(
                env.settings, target, service, kubernetes=kubernetes, follow=follow, tail=lines
            ),
        )
    )


@task(
    help={
        "node": NODE_HELP.format("the first control plane"),
        "follow": "keep streaming new messages (Ctrl-C stops)",
        "tail": "with --follow: only new messages, not the buffer so far",
    }
)
def dmesg(c: Context, node: str | None = None, follow: bool = False, tail: bool = False) -> None:
    """Kernel messages of a node."""
    from tasks.talos import ops, plan

    env = _env(c)
    target = env.one_node(node)
    env.runner.converge(
        ops.passthrough(env, plan.dmesg(env.settings, target, follow=follow, tail=tail))
    )


@task(
    help={
        "node": NODE_HELP.format("the first control plane"),
        "kubernetes": "Kubernetes containers instead of system services",
    }
)
def stats(c: Context, node: str | None = None, kubernetes: bool = False) -> None:
    """Container resource usage on a node."""
    from tasks.talos import ops, plan

    env = _env(c)
    target = env.one_node(node)
    env.runner.converge(
        ops.passthrough(env, plan.stats(env.settings, target, kubernetes=kubernetes))
    )


ns = Collection(
    "talos",
    secrets,
    config,
    apply,
    bootstrap,
    preflight,
    health,
    snapshot,
    restore,
    certs,
    verify,
    upgrade,
    upgrade_k8s,
    reset,
    kubeconfig,
    dashboard,
    logs,
    dmesg,
    stats,
)
ns.configure({"talos": DEFAULTS})
