"""``inv validate``: offline validation of the monorepo (behind ``nox -s validate``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.tasks import task

from tasks.core.errors import UserError

if TYPE_CHECKING:
    from invoke.context import Context


@task(
    name="validate",
    help={
        "only": "comma-separated check families to run (default: all): cluster, yaml",
        "json": "print problems as JSON",
    },
)
def validate(c: Context, only: str | None = None, json: bool = False) -> None:
    """Validate the cluster spec and the deploy/ tree offline."""
    from tasks.validate.engine import FAMILIES, report, run_families

    families = [f.strip() for f in only.split(",")] if only else list(FAMILIES)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise UserError(
            f"--only: unknown check family {', '.join(unknown)}; choose from {', '.join(FAMILIES)}",
            code=2,
        )
    result = run_families(c, families)
    report(result, as_json=json)
    if result.problems:
        raise UserError(f"validation failed: {len(result.problems)} problem(s)")
