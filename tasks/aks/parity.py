"""``gitops.parity``: only the declared backends differ between the local and the AKS tree.

The gitops namespace adds this task; the logic is :mod:`tasks.validate.families.parity`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from invoke.tasks import task

from tasks.core import console
from tasks.core.errors import UserError

if TYPE_CHECKING:
    from invoke.context import Context


@task(help={"json": "print every difference (covered or not) and stale rule as JSON"})
def parity(c: Context, json: bool = False) -> None:
    """Render deploy/ for local and aks; fail on any difference no backend contract covers.

    The contracts are deploy/aks/contracts.yaml; each uncovered difference is named by its
    Application, object and field.
    """
    from tasks.validate.engine import Workspace
    from tasks.validate.families import parity as family

    report = family.parity(Workspace(c, root=Path.cwd()))
    if json:
        console.print_json(report.as_json())
    else:
        console.table(
            ["contract", "application", "object", "field", "difference"],
            [
                (contract.id, d.app, d.obj or d.what, d.field or "(whole)", d.detail)
                for d, contract in report.covered
            ],
        )
        for note in report.notes:
            console.warn(note)
    problems = [family.uncovered_message(d, report) for d in report.uncovered]
    problems += [
        f"contract {cid}: rule `{rule}` covers no difference any more: remove it"
        for cid, rule in report.stale
    ]
    if problems:
        raise UserError("\n".join(problems), code=1)
    if not json:
        console.ok(
            f"{report.second} differs from {report.first} only by backend contracts "
            f"({len(report.covered)} difference(s), {len({c.id for _, c in report.covered})} "
            "contract(s))"
        )
