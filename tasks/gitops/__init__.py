"""``inv gitops.*``: Argo CD install, bootstrap and day-to-day operations.

Cluster-bound commands use the cluster's kubeconfig from the state directory (see
:mod:`tasks.gitops.kube`). ``status`` and the bootstrap wait read Application objects with
``kubectl get applications -o json``: the CRD status is exactly what ``argocd app list`` shows,
without needing the argocd CLI or its ``--core`` namespace set-up for a read. ``sync``, ``wait``
and ``diff`` need Argo CD's own logic and use ``argocd --core``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.tasks import task

from tasks.aks.parity import parity
from tasks.core import console, taskhelp
from tasks.core.errors import UserError
from tasks.core.lock import cluster_locked
from tasks.core.runner import Runner
from tasks.gitops import tree_tasks
from tasks.gitops.defaults import (
    BOOTSTRAP_INTERVAL,
    BOOTSTRAP_TIMEOUT,
    INSTALL_TIMEOUT,
    WAIT_TIMEOUT,
)

if TYPE_CHECKING:
    from invoke.context import Context

ENV_HELP = "environment overlay: also values-<env>.yaml of the argocd component (default local)"


def _port(value: object) -> int:
    if value is None:
        return 8080
    text = str(value)
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise UserError(f"--port {value!r}: expected a TCP port, 1-65535.", code=2)
    return int(text)


@task(
    help={
        "env": ENV_HELP,
        "chart": "a local argo-cd chart (.tgz or directory) instead of the argo repository",
        "timeout": f"seconds helm waits for Argo CD to be ready (default {INSTALL_TIMEOUT})",
    }
)
@cluster_locked
def install(
    c: Context, env: str | None = None, chart: str | None = None, timeout: str | None = None
) -> None:
    """Install or upgrade Argo CD with helm and the committed values (idempotent)."""
    from tasks.core import config
    from tasks.gitops import kube, ops

    seconds = taskhelp.seconds("timeout", timeout, INSTALL_TIMEOUT)
    if chart is not None and not Path(chart).exists():
        raise UserError(
            f"--chart {chart}: no such file or directory (a packaged argo-cd chart .tgz or an "
            "unpacked chart directory; leave it out to use the argo repository).",
            code=2,
        )
    spec = config.load(c)
    files = ops.values_files(Path.cwd(), spec.gitops.path, env or ops.DEFAULT_ENV)
    runner = Runner.from_context(c)
    access = runner.converge(kube.resolve(c))
    runner.converge(
        ops.install(
            access,
            version=spec.versions.argocd_chart,
            files=files,
            chart=chart,
            timeout=seconds,
        )
    )


@task(
    help={
        "env": ENV_HELP,
        "timeout": f"seconds to wait for the infrastructure layer (default {BOOTSTRAP_TIMEOUT})",
        "interval": f"seconds between status polls (default {BOOTSTRAP_INTERVAL})",
    }
)
@cluster_locked
def bootstrap(
    c: Context, env: str | None = None, timeout: str | None = None, interval: str | None = None
) -> None:
    """Helm-secrets key, the root Application, then wait for the infrastructure layer."""
    from tasks.core import config
    from tasks.gitops import kube, ops
    from tasks.secrets.keys import default_key_file

    wait_for = taskhelp.seconds("timeout", timeout, BOOTSTRAP_TIMEOUT)
    poll = taskhelp.seconds("interval", interval, BOOTSTRAP_INTERVAL)
    spec = config.load(c)
    root = Path.cwd()
    clusters = ops.clusters(root, spec.gitops.path, env)
    runner = Runner.from_context(c)
    access = runner.converge(kube.resolve(c))
    runner.converge(
        ops.bootstrap(
            access,
            root=root,
            gitops_path=spec.gitops.path,
            key_file=default_key_file(),
            clusters=clusters,
            timeout=wait_for,
            interval=poll,
        )
    )


@task(help={"json": "print the applications as JSON"})
def status(c: Context, json: bool = False) -> None:
    """Every Argo CD application with its sync and health status."""
    from tasks.gitops import kube, ops

    runner = Runner.from_context(c)
    rows = runner.converge(ops.statuses(runner.converge(kube.resolve(c))))
    if json:
        console.print_json([r.as_dict() for r in rows])
        return
    if not rows:
        console.info("no applications yet (inv gitops.bootstrap)")
        return
    console.table(
        ["application", "wave", "sync", "health", "operation", "revision", "message"],
        [(r.name, r.wave, r.sync, r.health, r.operation, r.revision, r.message) for r in rows],
    )


@task(
    help={
        "app": "the application to sync",
        "prune": "delete resources that are no longer in git (default: keep them)",
        "timeout": "seconds to wait for the sync to finish (default 300)",
    }
)
def sync(c: Context, app: str, prune: bool = False, timeout: str | None = None) -> None:
    """Sync one application now (argocd app sync --core)."""
    from tasks.core.taskhelp import asked_for_help
    from tasks.gitops import kube, ops

    if asked_for_help(app, "gitops", sync):
        return
    seconds = taskhelp.seconds("timeout", timeout, 300)
    runner = Runner.from_context(c)
    access = runner.converge(kube.resolve(c))
    runner.converge(ops.sync(access, app, prune=prune, timeout=seconds))


@task(
    iterable=["app"],
    help={
        "app": "application to wait for (repeatable; default: every application)",
        "timeout": f"seconds to wait (default {WAIT_TIMEOUT})",
    },
)
def wait(c: Context, app: list[str] | None = None, timeout: str | None = None) -> None:
    """Wait until applications are Synced and Healthy (argocd app wait --core)."""
    from tasks.gitops import kube, ops

    seconds = taskhelp.seconds("timeout", timeout, WAIT_TIMEOUT)
    runner = Runner.from_context(c)
    access = runner.converge(kube.resolve(c))
    runner.converge(ops.wait(access, list(app or []), seconds))


@task(help={"app": "one application (default: every application)"})
def diff(c: Context, app: str | None = None) -> None:
    """Show the drift between git and the cluster; exit 1 when anything drifts."""
    from tasks.gitops import kube, ops

    runner = Runner.from_context(c)
    access = runner.converge(kube.resolve(c))
    runner.converge(ops.drift(access, [app] if app else []))


@task(
    help={
        "port": "local port for the UI (default 8080)",
        "show": "print the initial admin password instead of masking it",
    }
)
def ui(c: Context, port: str | None = None, show: bool = False) -> None:
    """Port-forward the Argo CD UI and print the initial admin password (masked)."""
    from tasks.gitops import kube, ops

    local_port = _port(port)
    runner = Runner.from_context(c)
    access = runner.converge(kube.resolve(c))
    runner.converge(ops.ui(access, local_port, show=show))


@task(
    help={
        "json": "print the applications as JSON",
        "env": ENV_HELP + "; selects the cluster labels the clusters generator sees",
    }
)
def render(c: Context, json: bool = False, env: str | None = None) -> None:
    """Expand the ApplicationSets offline: every Application, source, destination, wave."""
    from tasks.core import config
    from tasks.deploytree import appset
    from tasks.gitops import ops

    gitops_path = config.load(c).gitops.path
    root = Path.cwd()
    clusters = ops.clusters(root, gitops_path, env)
    apps = appset.render_tree(root, ops.bootstrap_dir(gitops_path), clusters)
    if json:
        console.print_json([appset.as_json(a) for a in apps])
        return
    console.table(
        ["wave", "application", "destination", "source", "from"],
        [
            (
                a.wave,
                a.name,
                f"{a.dest_namespace} @ {a.dest_server}",
                "; ".join(s.describe() for s in a.sources),
                a.generated_by,
            )
            for a in apps
        ],
    )


@task(help={"json": "print the simulation as JSON (every Application, its step and blockers)"})
def simulate(c: Context, json: bool = False) -> None:
    """Simulate the bring-up offline: can every Application turn Healthy at its RollingSync step?

    Exit 1 when one cannot, naming the component, the object and what it waits for.
    """
    from tasks.deploytree import syncsim as sim_mod
    from tasks.validate.engine import Workspace

    sim = sim_mod.simulate(Workspace(c, root=Path.cwd()))
    if json:
        console.print_json(sim.as_json())
    else:
        console.table(["step", "application", "health", "why"], sim_mod.rows(sim))
        for directory in sim.undeployed:
            console.warn(f"{directory}: no layer's ApplicationSet deploys it")
    if sim.stalled_at is not None:
        raise UserError(sim_mod.summary(sim), code=1)
    if not json:
        console.ok(sim_mod.summary(sim))


ns = Collection("gitops", install, bootstrap, status, sync, wait, diff, ui, render, simulate)

ns.add_task(tree_tasks.generate)
ns.add_task(tree_tasks.set_repo)
ns.add_task(parity)
