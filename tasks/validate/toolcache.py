"""Output of the external linters, cached by everything it depends on.

yamllint and check-jsonschema are Python programs that take most of a second each to start, while
their verdict on a file depends only on the tool, its configuration and the file (path and bytes).
A warm ``inv validate`` reuses what they said about unchanged files, as Kustomize renders are
reused. Entries live under ``<cache_dir>/tools``; an unreadable or unwritable cache only costs
speed.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

#: Bumped when the format of an entry changes.
_VERSION = "1"


def tool_identity(tool: str) -> str | None:
    """Path, size and mtime of ``tool`` on PATH (a reinstall invalidates), None when missing."""
    from tasks.core.runner import which

    found = which(tool)
    try:
        stat = Path(found).stat() if found else None
    except OSError:
        stat = None
    if stat is None:
        return None
    return f"{found}:{stat.st_size}:{stat.st_mtime_ns}"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so concurrent readers see the old file or the new one, never a part; an
    unwritable cache only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


class ToolCache:
    """Text results keyed by a hash of their inputs."""

    def __init__(self, cache_dir: Path, tool: str, identity: str) -> None:
        self.directory = cache_dir / "tools" / tool
        self._salt = f"{_VERSION}\0{identity}\0".encode()

    def key(self, *parts: str | bytes) -> str:
        digest = hashlib.sha256(self._salt)
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()

    def get(self, key: str) -> str | None:
        try:
            return (self.directory / key).read_text(encoding="utf-8")
        except OSError:
            return None

    def put(self, key: str, text: str) -> None:
        write_atomic(self.directory / key, text)


def open_cache(cache_dir: Path | None, tool: str) -> ToolCache | None:
    """The cache for ``tool``, or None when there is no cache directory or no such tool."""
    if cache_dir is None:
        return None
    identity = tool_identity(tool)
    return ToolCache(cache_dir, tool, identity) if identity is not None else None
