"""``dockerfiles``: every Dockerfile in the repository with hadolint (errors and warnings count).

hadolint reads ``.hadolint.yaml`` from the repository root when there is one; ignores go there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core.errors import UserError
from tasks.core.runner import Command
from tasks.validate.registry import register_family

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result

SKIP_DIRS = {".git", ".venv", ".nox", "node_modules", "bin", "obj", ".mypy_cache", ".ruff_cache"}
FAILING_LEVELS = {"error", "warning"}


def is_dockerfile(name: str) -> bool:
    return name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile")


def dockerfiles(ws: Workspace) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(ws.root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        found += [ws.rel(Path(dirpath) / n) for n in sorted(filenames) if is_dockerfile(n)]
    return ws.selection.files(found)


def check_dockerfiles(ws: Workspace, result: Result) -> None:
    files = dockerfiles(ws)
    if not files:
        return
    result.files.update(files)
    result.documents += len(files)
    res = ws.runner.check(
        Command(
            ("hadolint", "--no-color", "-f", "json", *files),
            step="hadolint",
            cwd=ws.root,
            read_only=True,
            timeout=300,
        )
    )
    if not res.observed:
        return
    try:
        findings = json.loads(res.stdout or "[]")
    except json.JSONDecodeError:
        raise UserError(
            f"hadolint failed to run (exit {res.returncode}):\n"
            + (res.stderr or res.stdout).strip()[-2000:]
        ) from None
    for item in findings:
        if item.get("level") not in FAILING_LEVELS:
            continue
        result.add(
            ws.rel(item.get("file", "")),
            item.get("line"),
            f"dockerfiles/{item.get('code', 'hadolint')}",
            str(item.get("message", "")),
        )


register_family("dockerfiles", check_dockerfiles, "Dockerfiles with hadolint", external=True)
