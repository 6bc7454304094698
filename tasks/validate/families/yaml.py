"""``yaml``: yamllint over deploy/, .github/ and the cluster spec.

The repository's ``.yamllint`` is used when present, else yamllint's own lookup. Only errors count
as problems; yamllint warnings (such as long lines) are style advice and are not reported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core.errors import UserError
from tasks.core.runner import Command
from tasks.validate.registry import register_family
from tasks.validate.toolcache import ToolCache, open_cache
from tasks.validate.tree import YAML_SUFFIXES

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result


def yaml_targets(ws: Workspace) -> list[str]:
    """YAML files under deploy/ and .github/ (sops-encrypted ones excepted), as selected."""
    import os

    from tasks.core.paths import irregularity

    found: list[str] = []
    for top in ("deploy", ".github"):
        base = ws.root / top
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") or d == ".github")
            for name in sorted(filenames):
                # sops-encrypted files are machine-written (long ENC[...] lines).
                path = Path(dirpath) / name
                # A symlink or FIFO is reported by the tree (io/not-regular), never opened here.
                regular = irregularity(path) is None
                if regular and name.endswith(YAML_SUFFIXES) and not _encrypted_name(name):
                    found.append(ws.rel(path))
    return ws.selection.files(found)


def _encrypted_name(name: str) -> bool:
    return name.startswith("secrets") and "template" not in name


def check_yaml(ws: Workspace, result: Result) -> None:
    # The cluster spec is linted too, but asking where it is imports the spec model (pydantic),
    # which the in-process families are importing meanwhile; the spec is normally under deploy/,
    # so the tree is linted first and the spec on its own only when it lives elsewhere.
    targets = yaml_targets(ws)
    _lint(ws, result, targets)
    spec = ws.spec_rel
    if spec not in targets and (ws.root / spec).exists():
        _lint(ws, result, ws.selection.files([spec]))


def _lint(ws: Workspace, result: Result, targets: list[str]) -> None:
    if not targets:
        return
    result.files.update(targets)
    config = ws.root / ".yamllint"
    argv = ["yamllint", "-f", "parsable"]
    if config.exists():
        argv += ["-c", ".yamllint"]
    cache, keys = _cache_keys(ws, config, targets)
    lines: list[str] = []
    todo = []
    for target in targets:
        cached = cache.get(keys[target]) if cache is not None else None
        if cached is None:
            todo.append(target)
        else:
            lines += cached.splitlines()
    if todo:
        res = ws.runner.check(
            Command((*argv, *todo), step="yamllint", cwd=ws.root, read_only=True, timeout=300)
        )
        if not res.observed:
            return
        if res.returncode not in (0, 1):
            raise UserError(
                f"yamllint failed to run (exit {res.returncode}):\n{res.stderr.strip()[-2000:]}"
            )
        fresh = res.stdout.splitlines()
        lines += fresh
        if cache is not None:
            said: dict[str, list[str]] = {t: [] for t in todo}
            for line in fresh:
                said.setdefault(line.split(":", 1)[0], []).append(line)
            for target in todo:
                if ":" not in target:  # else its lines cannot be told apart by path
                    cache.put(keys[target], "".join(f"{line}\n" for line in said[target]))
    for line in lines:
        # path:line:col: [level] message (rule)
        parts = line.split(":", 3)
        if len(parts) != 4 or not parts[1].isdigit():
            continue
        text = parts[3].strip()
        if text.startswith("[warning]"):
            continue
        text = text.removeprefix("[error]").strip()
        result.add(ws.rel(parts[0]), int(parts[1]), "yaml/lint", f"{text} (column {parts[2]})")


def _cache_keys(
    ws: Workspace, config: Path, targets: list[str]
) -> tuple[ToolCache | None, dict[str, str]]:
    """The cache and each target's key, or no cache when yamllint's verdict could depend on more
    than the file and the repository's .yamllint (yamllint's own config lookup, another file the
    config extends or ignores from)."""
    try:
        text = config.read_bytes()
    except OSError:
        return None, {}
    extends = re.findall(rb"(?m)^extends:\s*(\S+)", text)
    if b"ignore-from-file" in text or any(e not in (b"default", b"relaxed") for e in extends):
        return None, {}
    cache = open_cache(ws.settings.cache_dir, "yamllint")
    if cache is None:
        return None, {}
    keys = {}
    for target in targets:
        try:
            content = (ws.root / target).read_bytes()
        except OSError:
            return None, {}
        keys[target] = cache.key(text, target, content)
    return cache, keys


register_family("yaml", check_yaml, "YAML style with yamllint", external=True)
