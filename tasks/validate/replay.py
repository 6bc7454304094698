"""Whole-run verdicts: ``inv validate`` on an unchanged repository replays its last report.

The key is a fingerprint of everything a family can read, taken without importing any family:
every file of the repository and of the ``tasks`` package (path, size, mtime, ctime, inode, mode;
VCS, virtualenv and tool caches left out, but nothing under ``deploy/`` or ``.github/``), the
schema directories and fetched schemas outside it, the cluster spec when it lives elsewhere, the
sops key file, the linters' configuration in the home directory, the Invoke config, the
environment, the tools a family runs (path, size, mtime) and the Python installation; plus the
command line (families, paths, ``--json``). Any change gives a new key (the make rule: cheap,
never stale); a hit prints the stored report and exits as that run did. A verdict is stored only
when the fingerprint is the same after the run as before it and nothing changed in the 2 s
before it (``RACY_NS``), so a file edited while or just before validating is validated again
next time. ``validate.replay: false`` (``INVOKE_VALIDATE_REPLAY=0``) always validates.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.validate.toolcache import write_atomic

if TYPE_CHECKING:
    from invoke.context import Context

#: Bumped when the fingerprint or the stored verdict changes shape.
_VERSION = "1"
#: How recent a change may be for a run to be stored (coarser than any file system's timestamps).
RACY_NS = 2_000_000_000
#: Verdicts kept (other checkouts, branches, path selections sharing the cache).
KEEP = 64
#: Directories no family reads (outside deploy/ and .github/, which are fingerprinted whole).
SKIP_DIRS = frozenset(
    {
        ".git",
        ".venv",
        ".nox",
        "node_modules",
        "bin",
        "obj",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)
#: Top-level directories read whole by some family (tree, secrets scan, yamllint, workflows).
WHOLE = frozenset({"deploy", ".github"})
_GIT = frozenset({".git"})
#: Tools a family runs (kubectl, linters, sops and age for the sops family).
TOOLS = ("kubectl", "yamllint", "hadolint", "check-jsonschema", "sops", "age", "helm", "git")
#: Environment variables that change between shells without changing what a run reads.
VOLATILE_ENV = frozenset({"_", "OLDPWD", "PWD", "SHLVL", "COLUMNS", "LINES", "TERM_SESSION_ID"})


class _Inputs:
    """Entries of the fingerprint, and the newest change time among the files they stat."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.newest = 0

    def add(self, path: str, st: os.stat_result) -> None:
        self.newest = max(self.newest, st.st_mtime_ns, st.st_ctime_ns)
        self.lines.append(
            f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\0{st.st_mode}"
        )

    def walk(
        self,
        top: str,
        *,
        skip: frozenset[str],
        exclude: Path | None,
        whole: frozenset[str] = frozenset(),
    ) -> None:
        """Every file and directory under ``top`` (a symlink by itself and its target), leaving
        out directories named in ``skip`` and ``exclude``; of those directly in ``top``, the
        ones named in ``whole`` leave out only ``.git``."""
        pending = [(top, skip)]
        while pending:
            directory, skipping = pending.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                self.lines.append(f"{directory}\0unreadable")
                continue
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if entry.name in skipping or Path(entry.path) == exclude:
                        continue  # caches: tools write there while no input changes
                    # Its entries are listed: its own times change with every cache file.
                    self.lines.append(f"{entry.path}\0dir")
                    inner = _GIT if directory == top and entry.name in whole else skipping
                    pending.append((entry.path, inner))
                    continue
                self.add(entry.path, st)
                if stat.S_ISLNK(st.st_mode):
                    self.link(entry.path)

    def link(self, path: str) -> None:
        try:
            self.lines.append(f"{path}\0->{Path(path).readlink()}")
            self.add(path + "\0target", Path(path).stat())
        except OSError:
            self.lines.append(f"{path}\0dangling")

    def repository(self, root: Path, exclude: Path | None) -> None:
        """Top-level directories in ``WHOLE`` entirely, the rest without ``SKIP_DIRS``."""
        self.walk(str(root), skip=SKIP_DIRS, exclude=exclude, whole=WHOLE)

    def outside(self, paths: Iterable[Path]) -> None:
        """Files and directories (walked whole) outside the repository that a run reads."""
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                self.lines.append(f"{path}\0missing")
                continue
            if stat.S_ISDIR(st.st_mode):
                self.lines.append(f"{path}\0dir")
                self.walk(str(path), skip=frozenset(), exclude=None)
            else:
                self.add(str(path), st)


def _plain(value: Any) -> Any:
    """An Invoke config (DataProxy) as plain JSON-able data."""
    if hasattr(value, "items") and callable(value.items):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _config(c: Context | None) -> dict[str, Any]:
    if c is None:
        return {}
    try:
        return dict(_plain(c.config))
    except Exception:  # an odd config only costs the replay: hashed as its repr
        return {"repr": repr(c.config)}


def _raw(section: dict[str, Any], key: str) -> Any:
    value = section.get(key)
    if value in (None, "", {}, []):
        text = os.environ.get(f"INVOKE_VALIDATE_{key.upper()}")
        if text:
            try:
                return json.loads(text)
            except ValueError:
                return text
    return value


def _paths_of(value: Any) -> list[Path]:
    if isinstance(value, str) and value:
        return [Path(value).expanduser()]
    if isinstance(value, dict):
        return [Path(v).expanduser() for v in value.values() if isinstance(v, str) and v]
    return []


def cache_dir_of(config: dict[str, Any]) -> Path:
    """``validate.cache_dir`` as the settings read it (without validating the other keys)."""
    from tasks.validate.settings import default_cache_dir

    value = _raw(config.get("validate") or {}, "cache_dir")
    return Path(value).expanduser() if isinstance(value, str) and value else default_cache_dir()


def enabled(config: dict[str, Any]) -> bool:
    value = _raw(config.get("validate") or {}, "replay")
    return str(value).strip().lower() not in ("0", "false", "no", "off")


def _tools(inputs: _Inputs) -> None:
    # As engine.tools_of_this_environment sees them: PATH, then this Python's directory.
    path = os.environ.get("PATH", os.defpath) + os.pathsep + str(Path(sys.executable).parent)
    for tool in TOOLS:
        found = shutil.which(tool, path=path)
        try:
            if found is None:
                raise FileNotFoundError(tool)
            inputs.add(f"{tool}={found}", Path(found).stat())
        except OSError:
            inputs.lines.append(f"{tool}\0missing")


def _python(inputs: _Inputs, root: Path) -> None:
    """This interpreter and its package directories (an install or upgrade changes them; the
    repository is walked)."""
    inputs.lines.append(f"python\0{sys.version}\0{sys.executable}")
    for entry in sys.path:
        if not entry or Path(entry).resolve() == root:
            continue
        try:
            st = Path(entry or ".").stat()
        except OSError:
            continue
        inputs.add(f"sys.path={entry}", st)


def _user_configs() -> list[Path]:
    """Configuration the linters read from the user's home when the repository has none."""
    home = Path(os.environ.get("HOME") or "~").expanduser()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [
        config / "hadolint.yaml",
        home / ".hadolint.yaml",
        home / ".hadolint" / "hadolint.yaml",
        config / "yamllint",
    ]


def fingerprint(root: Path, command: dict[str, Any], config: dict[str, Any]) -> tuple[str, int]:
    """The key of a run (the hash of every input a family reads and of the command line), and
    the newest change time (ns) among the files it covers."""
    from tasks.secrets.keys import default_key_file

    validate = config.get("validate") or {}
    cache = cache_dir_of(config)
    outside: list[Path] = [cache / "schemas", default_key_file(), *_user_configs()]
    for key in ("shared_schemas", "schema_dir", "talos_schema_dir", "values_schemas"):
        outside += _paths_of(_raw(validate, key))
    spec = (config.get("cluster") or {}).get("file") or os.environ.get("INVOKE_CLUSTER_FILE")
    if isinstance(spec, str) and spec:
        outside.append((root / Path(spec).expanduser()).resolve())
    environment = {k: v for k, v in os.environ.items() if k not in VOLATILE_ENV}
    inputs = _Inputs()
    inputs.lines += [
        _VERSION,
        str(root),
        json.dumps(command, sort_keys=True, default=repr),
        json.dumps(config, sort_keys=True, default=repr),
        json.dumps(environment, sort_keys=True),
    ]
    _tools(inputs)
    _python(inputs, root)
    inputs.repository(root, exclude=cache)
    inputs.outside(outside)
    package = Path(__file__).resolve().parent.parent
    if not package.is_relative_to(root):
        inputs.walk(str(package), skip=SKIP_DIRS, exclude=None)
    text = "\n".join(sorted(inputs.lines))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest(), inputs.newest


class Verdicts:
    """Stored reports of whole runs, by fingerprint: ``<cache_dir>/runs/<key>.json``."""

    def __init__(self, c: Context | None, root: Path, command: dict[str, Any]) -> None:
        self.root = root
        self.command = command
        self.config = _config(c)
        self.enabled = enabled(self.config)
        self.directory = cache_dir_of(self.config) / "runs"
        self._before: str | None = None
        self._newest = 0
        self._started = 0

    def key(self) -> str:
        return fingerprint(self.root, self.command, self.config)[0]

    def get(self, key: str) -> tuple[str, int] | None:
        """(printed report, number of problems) of a run with these inputs, if one was stored."""
        try:
            data = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        output, problems = data.get("output"), data.get("problems")
        if not isinstance(output, str) or not isinstance(problems, int):
            return None
        return output, problems

    def begin(self) -> None:
        """Fingerprint the inputs as the families are about to read them."""
        self._started = time.time_ns()
        self._before, self._newest = fingerprint(self.root, self.command, self.config)

    def put(self, output: str, problems: int) -> bool:
        """Store the report of the run since :meth:`begin`; False when it cannot stand for
        its inputs: one changed during the run, or so shortly before it that a later edit could
        leave the same timestamps (file systems keep them to a clock tick or coarser)."""
        if self._before is None or self._newest >= self._started - RACY_NS:
            return False
        if self.key() != self._before:
            return False
        write_atomic(
            self.directory / f"{self._before}.json",
            json.dumps({"output": output, "problems": problems}),
        )
        try:
            entries = sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
            for old in entries[:-KEEP]:
                old.unlink(missing_ok=True)
        except OSError:
            pass  # a cache that cannot be tidied only costs disk
        return True
