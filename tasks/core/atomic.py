"""Writes that either land whole or not at all.

A file the toolkit writes (phase markers, generated configs, sops output, .sops.yaml) replaces the
old one only once the new content is complete and on disk: it is written to a temporary file in
the same directory (same filesystem, so the rename is atomic), created with its final mode (a
secret is never readable by others, even briefly), flushed with fsync, then renamed over the
target, and the directory is fsynced so the rename survives a crash. A full disk, a file-size limit,
SIGKILL or Ctrl-C at any point leaves the old file as it was, plus at most a temporary file that
the next write of the same target removes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

#: Temporary files are named ``.<stem>.<random>.tmp<suffix>`` beside their target: the extension
#: stays last, so tools that pick a format by it (sops) read the temporary file as the target.
_TMP = ".tmp"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stale_temporaries(path: Path) -> list[Path]:
    """Temporary files an interrupted write of ``path`` left behind."""
    return sorted(path.parent.glob(f".{path.stem}.*{_TMP}{path.suffix}"))


@contextlib.contextmanager
def temporary_beside(path: Path, mode: int) -> Iterator[Path]:
    """A fresh, empty temporary file beside ``path`` with ``mode``; removed unless renamed.

    For writers that are not Python (sops ``--output``): they fill the file, the caller checks it,
    then :func:`commit` renames it over ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in stale_temporaries(path):
        stale.unlink(missing_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f"{_TMP}{path.suffix}", dir=path.parent
    )
    tmp = Path(name)
    try:
        os.fchmod(fd, mode)
        os.close(fd)
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def commit(tmp: Path, path: Path) -> None:
    """Flush ``tmp`` to disk and rename it over ``path`` (atomically, on the same filesystem)."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    tmp.replace(path)
    _fsync_dir(path.parent)


def write_atomic(
    path: Path,
    content: str | bytes,
    *,
    mode: int = 0o644,
    check: Callable[[Path], None] | None = None,
) -> None:
    """Replace ``path`` with ``content``, whole or not at all.

    ``check`` may inspect the complete temporary file before it replaces ``path`` and raise to
    keep the old file. Raises ``OSError`` as the filesystem does (ENOSPC, EFBIG...).
    """
    data = content.encode() if isinstance(content, str) else content
    with temporary_beside(path, mode) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if check is not None:
            check(tmp)
        commit(tmp, path)
