"""Read-only probes of the git history, and pure parsers of their output.

Everything goes through the runner as argv. History is read with one ``git log`` per component,
limited to its path and to the commits after its last tag, in a compact NUL/record-separated format
that is parsed line by line: no object per commit, so ten thousand commits take a fraction of a
second.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tasks.core.errors import UserError
from tasks.core.runner import Command, Runner
from tasks.release.versioning import Version

_RECORD = "\x1e"
_FIELD = "\x1f"
#: sha, then the raw message, then (after --name-only) the files the commit touched.
LOG_FORMAT = f"{_RECORD}%H{_FIELD}%B{_FIELD}"


@dataclass(frozen=True)
class RawCommit:
    sha: str
    message: str
    files: tuple[str, ...]


def git(root: Path, *args: str, step: str = "") -> Command:
    return Command(("git", "-C", str(root), *args), step=step or f"git {args[0]}", read_only=True)


def log_command(root: Path, since: str | None, paths: Sequence[str], rev: str = "HEAD") -> Command:
    """Commits reachable from ``rev`` and not from ``since`` that touch ``paths``, newest first.

    ``--full-history`` keeps every commit that changed a path (release-please looks at every
    commit, not git's simplified history); a merge lists the files it changes against its first
    parent, as GitHub reports them; renames count as a delete plus an add.
    """
    revision = f"{since}..{rev}" if since else rev
    return git(
        root,
        "-c",
        "core.quotePath=false",
        "log",
        "--no-color",
        "--full-history",
        "--diff-merges=first-parent",
        "--no-renames",
        "--name-only",
        f"--format={LOG_FORMAT}",
        revision,
        "--",
        *paths,
        step="read the commit history",
    )


def parse_log(output: str) -> Iterator[RawCommit]:
    """Parse :data:`LOG_FORMAT` + ``--name-only`` output."""
    for record in output.split(_RECORD):
        if not record:
            continue
        sha, message, files = record.split(_FIELD, 2)
        yield RawCommit(sha, message, tuple(f for f in files.split("\n") if f))


def attribute(files: Sequence[str], package_paths: Sequence[str]) -> set[str]:
    """The packages a commit belongs to: the longest package path containing each file.

    release-please's CommitSplit: top-level files belong to no package.
    """
    longest_first = sorted(package_paths, key=len, reverse=True)
    owners: set[str] = set()
    for file in files:
        if "/" not in file:
            continue
        owner = next((p for p in longest_first if file.startswith(f"{p}/")), None)
        if owner is not None:
            owners.add(owner)
    return owners


def latest_tag(
    runner: Runner, root: Path, prefix: str, rev: str = "HEAD"
) -> tuple[str, Version] | None:
    """The highest ``<prefix>X.Y.Z`` tag reachable from ``rev``."""
    out = runner.capture(git(root, "tag", "--list", f"{prefix}*", "--merged", rev))
    best: tuple[str, Version] | None = None
    for tag in out.split():
        version = Version.try_parse(tag.removeprefix(prefix))
        if version is None or not tag.startswith(prefix):
            continue
        if best is None or version.sort_key > best[1].sort_key:
            best = (tag, version)
    return best


def commits_since(
    runner: Runner,
    root: Path,
    since: str | None,
    path: str,
    *,
    package_paths: Sequence[str],
    rev: str = "HEAD",
) -> list[RawCommit]:
    """Commits after ``since`` (a tag, or None for all history) attributed to ``path``."""
    out = runner.capture(log_command(root, since, [path], rev))
    # Drops merges that change nothing here against their first parent, and files that belong
    # to a package nested inside this one.
    return [c for c in parse_log(out) if path in attribute(c.files, package_paths)]


def ensure_repo(runner: Runner, root: Path) -> None:
    result = runner.check(git(root, "rev-parse", "--verify", "HEAD"))
    if result.dry:
        return
    if not result.ok:
        raise UserError(
            f"{root} is not a git repository with commits: {result.stderr.strip()}\n"
            "release tasks read the history of the repository they run in."
        )


def short_sha(runner: Runner, root: Path, rev: str = "HEAD") -> str:
    return runner.capture(git(root, "rev-parse", "--short=7", rev)).strip()


def full_sha(runner: Runner, root: Path, rev: str = "HEAD") -> str:
    return runner.capture(git(root, "rev-parse", rev)).strip()


def changed_files(runner: Runner, root: Path, base: str, rev: str = "HEAD") -> list[str]:
    """Files changed between the merge base of ``base`` and ``rev``, and ``rev``."""
    out = runner.capture(git(root, "diff", "--name-only", "--no-renames", f"{base}...{rev}"))
    return [line for line in out.splitlines() if line]


def range_messages(runner: Runner, root: Path, revision_range: str) -> list[RawCommit]:
    """Non-merge commits in ``revision_range`` (for the commit linter)."""
    out = runner.capture(
        git(root, "log", "--no-color", "--no-merges", f"--format={LOG_FORMAT}", revision_range)
    )
    return list(parse_log(out))


def origin_url(runner: Runner, root: Path) -> str | None:
    result = runner.check(git(root, "remote", "get-url", "origin"))
    return result.stdout.strip() if result.ok and not result.dry and result.stdout.strip() else None
