"""``inv validate``: offline validation of the monorepo (behind ``nox -s validate``).

Paths: Invoke tasks take no variadic positional arguments, so paths come either as repeated
``--path`` options or after a standalone ``--`` (Invoke's parser remainder, ``c.remainder``):
``inv validate -- deploy/services/user/rollout.yaml apps/x/Dockerfile``. Paths are split on
whitespace there, so a path containing a space must be given with ``--path``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from invoke.tasks import task

from tasks.core.errors import UserError

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.validate.engine import Workspace
    from tasks.validate.replay import Verdicts

FAMILY_NAMES = "cluster, manifests, values, talos, policies, secrets, workflows, dockerfiles, yaml"


@task(
    name="validate",
    iterable=["path"],
    help={
        "path": "validate only what this file or directory affects (repeatable); paths may also "
        "follow a standalone `--`, as pre-commit passes them",
        "only": f"comma-separated check families to run (default: all): {FAMILY_NAMES}, plus any "
        "registered by a tasks/<namespace>/validation.py module",
        "json": "print the findings as JSON (files, documents, problems, notes)",
        "refresh_schemas": "download the pinned CRD, Talos and chart values schemas into the user "
        "cache (validate.cache_dir) before validating",
    },
)
def validate(
    c: Context,
    path: list[str] | None = None,
    only: str | None = None,
    json: bool = False,
    refresh_schemas: bool = False,
) -> None:
    """Validate the cluster spec, the deploy/ tree, workflows and Dockerfiles offline.

    Exit codes: 0 clean, 1 problems found, 2 usage error (unknown family, missing path or schema
    directory, malformed setting).
    """
    from pathlib import Path

    from tasks.validate.replay import Verdicts

    requested = [f.strip() for f in only.split(",") if f.strip()] if only else None
    root = Path.cwd().resolve()
    paths = [*(path or []), *getattr(c, "remainder", "").split()]
    selected: list[str] = []
    for raw in paths:
        p = Path(raw)
        absolute = (p if p.is_absolute() else root / p).resolve()
        if not absolute.exists():
            raise UserError(f"{raw}: no such file or directory", code=2)
        try:
            selected.append(absolute.relative_to(root).as_posix())
        except ValueError:
            raise UserError(f"{raw}: outside the repository ({root})", code=2) from None
    verdicts = Verdicts(c, root, {"only": requested, "paths": selected, "json": json})
    key = verdicts.key() if verdicts.enabled and not refresh_schemas else None
    stored = verdicts.get(key) if key is not None else None
    if stored is not None:
        # Nothing a family reads changed since a run printed this: its report stands.
        output, problems = stored
        sys.stdout.write(output)
        if problems:
            raise UserError(f"validation failed: {problems} problem(s)")
        return

    from tasks.validate.engine import Workspace, available, fewer_collections

    names = available()
    families = names if requested is None else requested
    unknown = [f for f in families if f not in names]
    if unknown or not families:
        raise UserError(
            f"--only: unknown check family {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(names)}",
            code=2,
        )
    ws = Workspace(c, root=root, paths=selected)
    with fewer_collections():
        _fetch_and_run(
            ws,
            families,
            refresh_schemas=refresh_schemas,
            json=json,
            verdicts=verdicts if key is not None else None,
        )


def _fetch_and_run(
    ws: Workspace,
    families: list[str],
    *,
    refresh_schemas: bool,
    json: bool,
    verdicts: Verdicts | None = None,
) -> None:
    from tasks.validate.engine import format_report, run

    if refresh_schemas:
        from tasks.validate.refresh import refresh

        for line in refresh(ws):
            print(line)
    elif ws.settings.fetch_missing:
        from tasks.validate.refresh import fetch_missing

        for line in fetch_missing(ws):
            print(f"note: {line}", file=sys.stderr if json else sys.stdout)
    if verdicts is not None:
        verdicts.begin()  # the inputs as the families read them (a fetch may have added some)
    result = run(ws, families)
    output = format_report(result, as_json=json)
    sys.stdout.write(output)
    if verdicts is not None:
        verdicts.put(output, len(result.problems))
    if result.problems:
        raise UserError(f"validation failed: {len(result.problems)} problem(s)")
