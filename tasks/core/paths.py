"""Paths the toolkit reads or rewrites inside the repository: regular files, inside it, no links.

``secrets.encrypt`` rewriting a symlink would rewrite whatever it points at, possibly outside the
repository; ``secrets.init`` writing through a dangling link would create a file somewhere else;
reading a FIFO blocks forever. So such paths are refused, naming the path.
"""

from __future__ import annotations

import stat
from pathlib import Path

from tasks.core.errors import UserError


def irregularity(path: Path) -> str | None:
    """Why ``path`` is not a plain file we may read or replace ("a symlink", "a FIFO"...), or None
    when it is a regular file or does not exist."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "a symlink"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device or socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return None


def require_inside(root: Path, path: Path, what: str) -> Path:
    """``path`` (absolute or relative to the working directory) as a regular file inside ``root``,
    with no symlink on the way from ``root``; else a UserError naming the path."""
    candidate = path if path.is_absolute() else Path.cwd() / path
    candidate = Path(*candidate.parts)  # normalised spelling, links not followed
    root = root.resolve()
    try:
        inside = candidate.relative_to(root)
    except ValueError:
        try:
            inside = candidate.resolve().relative_to(root)
        except ValueError:
            raise UserError(
                f"{path}: outside the repository {root}; {what} are under deploy/."
            ) from None
    current = root
    for part in inside.parts:
        current = current / part
        why = irregularity(current)
        if why is not None and not (why == "a directory" and current != root / inside):
            raise UserError(
                f"{root.joinpath(inside)}: {current} is {why}; {what} must be regular files in "
                "the repository (replace it with the file itself)."
            )
    return root / inside
