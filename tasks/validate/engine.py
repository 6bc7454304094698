"""Validation engine: check families produce problems; one report prints them."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core.errors import UserError
from tasks.core.runner import Command, Runner

if TYPE_CHECKING:
    from invoke.context import Context


@dataclass(frozen=True)
class Finding:
    path: str
    line: int | None
    check: str
    message: str
    obj: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        who = f" {self.obj}:" if self.obj else ""
        return f"{where}:{who} [{self.check}] {self.message}"


@dataclass
class Result:
    files: set[str] = field(default_factory=set)
    documents: int = 0
    problems: list[Finding] = field(default_factory=list)


def check_cluster(c: Context, result: Result) -> None:
    from tasks.core.config import problems_in, spec_path

    path = spec_path(c)
    result.files.add(str(path))
    try:
        _, problems = problems_in(path)
    except UserError as exc:
        result.problems.append(Finding(str(path), None, "cluster", exc.text))
        return
    result.documents += 1
    for p in problems:
        msg = f"{p.field}: {p.message}" if p.field else p.message
        result.problems.append(Finding(str(p.path), p.line, "cluster", msg))


def check_yaml(c: Context, result: Result) -> None:
    """yamllint over deploy/ with the repository's .yamllint."""
    runner = Runner.from_context(c)
    targets = [p for p in (Path("deploy"), Path(".github")) if p.exists()]
    if not targets:
        return
    res = runner.check(
        Command(("yamllint", "-f", "parsable", *map(str, targets)), step="yamllint", read_only=True)
    )
    for line in res.stdout.splitlines():
        # path:line:col: [level] message (rule)
        parts = line.split(":", 3)
        if len(parts) == 4:
            result.files.add(parts[0])
            result.problems.append(Finding(parts[0], int(parts[1]), "yaml", parts[3].strip()))
    if res.returncode not in (0, 1) and not res.dry:
        raise UserError(f"yamllint failed to run (exit {res.returncode}):\n{res.stderr.strip()}")


FAMILIES: dict[str, Callable[[Context, Result], None]] = {
    "cluster": check_cluster,
    "yaml": check_yaml,
}


def run_families(c: Context, families: list[str]) -> Result:
    result = Result()
    for name in families:
        FAMILIES[name](c, result)
    return result


def report(result: Result, *, as_json: bool) -> None:
    if as_json:
        print(
            jsonlib.dumps(
                {
                    "files": len(result.files),
                    "documents": result.documents,
                    "problems": [asdict(p) for p in result.problems],
                },
                indent=2,
            )
        )
        return
    by_file: dict[str, list[Finding]] = {}
    for p in result.problems:
        by_file.setdefault(p.path, []).append(p)
    for path in sorted(by_file):
        for p in sorted(by_file[path], key=lambda f: f.line or 0):
            print(p)
    print(
        f"{len(result.files)} files, {result.documents} documents, {len(result.problems)} problems"
    )
