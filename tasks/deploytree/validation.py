"""Check families the gitops namespace adds to ``inv validate``.

- ``generated``: the drift check behind ``inv gitops.generate --check``; each file that differs
  from what the cluster spec derives is one ``generated/drift`` finding.
- ``capacity``: the resource requests in ``deploy/`` against the nodes of the spec and the
  strategy's memory budget (:mod:`tasks.deploytree.capacity`); each problem is one
  ``capacity/budget`` finding.

Both need a valid cluster spec; when it is not, the ``cluster`` family says why and these stay
quiet.

- ``sync``: the offline bring-up simulation behind ``inv gitops.simulate``
  (:mod:`tasks.deploytree.syncsim`); each object that keeps its Application from turning Healthy at
  its RollingSync step is one ``sync/stall`` finding, and a component no layer deploys is one
  ``sync/undeployed`` finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tasks.validate.registry import register_family

if TYPE_CHECKING:
    from tasks.deploytree.capacity import Manifest, Render
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result


def check_generated(ws: Workspace, result: Result) -> None:
    from tasks.deploytree import tree

    if ws.spec is None:
        return
    for change in tree.generate(ws.spec.spec, tree.Workspace(ws.root)):
        line = 1 if change.before is not None else None
        result.add(
            change.path.as_posix(),
            line,
            "generated/drift",
            f"differs from what {ws.spec_rel} derives ({change.describe()}): run "
            "`inv gitops.generate`",
        )


def check_capacity(ws: Workspace, result: Result) -> None:
    from tasks.deploytree.capacity import capacity_report, kustomize_renderer

    if ws.spec is None:
        return
    deploy = ws.root / "deploy"
    report = capacity_report(
        deploy, ws.spec.spec, _reusing_renders(ws, kustomize_renderer(ws.runner))
    )
    if report.skipped:
        result.notes.append(
            "capacity: not counted (remote resources, not rendered offline): "
            + ", ".join(report.skipped)
        )
    for problem in report.problems:
        # "<layer>/<dir>: ..." names a component; anything else is about the tree as a whole.
        where = problem.split(":", 1)[0]
        component = deploy / where / "component.yaml"
        path = ws.rel(component) if "/" in where and component.is_file() else ws.rel(deploy)
        result.add(path, None, "capacity/budget", problem)


def _reusing_renders(ws: Workspace, render: Render) -> Render:
    """``render``, except that a build ``inv validate`` already rendered is not run again."""

    def cached(path: Path) -> list[Manifest]:
        docs = ws.tree.renders.get(ws.rel(path))
        if docs is None:
            return render(path)
        return [d.data for d in docs if isinstance(d.data, dict)]

    return cached


def check_sync(ws: Workspace, result: Result) -> None:
    from tasks.deploytree.syncsim import simulate

    sim = simulate(ws)
    for app in sim.apps:
        for b in app.blockers:
            result.add(
                b.path,
                b.line,
                "sync/stall",
                f"{app.name} ({app.step}) cannot turn Healthy: {b.reason}",
                b.obj,
            )
    for directory in sim.undeployed:
        result.add(
            f"{directory}/component.yaml",
            1,
            "sync/undeployed",
            "no layer's ApplicationSet deploys this component (its layer directory is not "
            "listed by a files generator under deploy/bootstrap/apps)",
        )


register_family(
    "generated", check_generated, "deploy/ files derived from the cluster spec have not drifted"
)
register_family(
    "capacity", check_capacity, "resource requests fit the nodes and the strategy's memory budget"
)
register_family(
    "sync",
    check_sync,
    "offline bring-up simulation: every Application can turn Healthy at its RollingSync step",
)
