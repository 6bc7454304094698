"""``workflows``: GitHub Actions workflows against the GitHub workflow schema.

Schema: check-jsonschema's built-in ``vendor.github-workflows`` (offline, through the runner).
Also ``workflows/action-pin``: every ``uses:`` names a ref (a tag or a commit), never a branch.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from tasks.core.errors import UserError
from tasks.core.runner import Command
from tasks.validate.registry import register_family
from tasks.validate.toolcache import open_cache
from tasks.validate.yamlio import line_of, load_all

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result

BRANCH_REFS = {"main", "master", "HEAD", "latest", "develop", "trunk"}
_SEGMENT = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\[\"((?:[^\"\\]|\\.)*)\"\]|\['([^']*)'\]")


def json_path(text: str) -> list[str | int]:
    """``$.jobs.build.steps[0]`` -> ["jobs", "build", "steps", 0]."""
    out: list[str | int] = []
    for m in _SEGMENT.finditer(text.removeprefix("$")):
        if m.group(2) is not None:
            out.append(int(m.group(2)))
        else:
            out.append(next(g for g in (m.group(1), m.group(3), m.group(4)) if g is not None))
    return out


def workflow_files(ws: Workspace) -> list[str]:
    base = ws.root / ".github" / "workflows"
    if not base.is_dir():
        return []
    files = sorted(p for p in base.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    return ws.selection.files(ws.rel(p) for p in files)


def check_workflows(ws: Workspace, result: Result) -> None:
    files = workflow_files(ws)
    if not files:
        return
    result.files.update(files)
    nodes: dict[str, Any] = {}
    contents: list[str | bytes] = []
    for rel in files:
        try:
            raw = (ws.root / rel).read_bytes()
            loaded = load_all((ws.root / rel).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            result.add(rel, None, "io/unreadable", f"cannot read: {exc}")
            continue
        contents += [rel, raw]
        for line, col, message in loaded.errors:
            result.add(rel, line, "yaml/syntax", f"{message} (column {col})")
        if loaded.docs:
            data, node, _ = loaded.docs[0]
            result.documents += 1
            nodes[rel] = node
            _action_pins(rel, data, node, result)
    argv = ("check-jsonschema", "--builtin-schema", "vendor.github-workflows", "-o", "json")
    # Its verdict depends on the tool and the files only: a warm run need not start it.
    cache = open_cache(ws.settings.cache_dir, "check-jsonschema")
    key = None
    if cache is not None and len(contents) == 2 * len(files):
        key = cache.key(*argv, *contents)
    stdout = cache.get(key) if cache is not None and key is not None else None
    if stdout is None:
        res = ws.runner.check(
            Command(
                (*argv, *files),
                step="check workflows",
                cwd=ws.root,
                read_only=True,
                timeout=300,
            )
        )
        if not res.observed:
            return
        stdout = res.stdout
        try:
            json.loads(stdout)
        except json.JSONDecodeError:
            raise UserError(
                f"check-jsonschema failed to run (exit {res.returncode}):\n"
                f"{res.stderr.strip()[-2000:]}"
            ) from None
        if cache is not None and key is not None and res.returncode in (0, 1):
            cache.put(key, stdout)
    report = json.loads(stdout)
    for error in report.get("errors", []):
        rel = ws.rel(error.get("filename", ""))
        best = error.get("best_deep_match") or error
        path = json_path(str(best.get("path", "$")))
        where = ".".join(map(str, path)) or "(top level)"
        result.add(
            rel,
            line_of(nodes.get(rel), path),
            "workflows/schema",
            f"{where}: {best.get('message', '')}"[:300],
        )


def _action_pins(rel: str, data: Any, node: Any, result: Result) -> None:
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, dict):
        return
    for job_name, job in jobs.items():
        if not isinstance(job, dict):
            continue
        uses: list[tuple[list[str | int], Any]] = []
        if "uses" in job:
            uses.append((["jobs", job_name, "uses"], job["uses"]))
        steps = job.get("steps")
        # Anything but a list is the schema check's to report.
        for i, step in enumerate(steps if isinstance(steps, list) else []):
            if isinstance(step, dict) and "uses" in step:
                uses.append((["jobs", job_name, "steps", i, "uses"], step["uses"]))
        for path, ref in uses:
            if not isinstance(ref, str) or ref.startswith("./") or ref.startswith("docker://"):
                continue
            name, _, version = ref.partition("@")
            if not version or version in BRANCH_REFS:
                result.add(
                    rel,
                    line_of(node, path),
                    "workflows/action-pin",
                    f"{ref}: pin {name} to a release tag or a commit SHA",
                )


register_family(
    "workflows", check_workflows, "GitHub workflows (schema, pinned actions)", external=True
)
