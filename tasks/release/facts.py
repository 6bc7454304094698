"""Read-only probes of the git history, and pure parsers of their output.

Everything goes through the runner as argv. The whole history is read with ONE ``git log`` in a
compact record/field-separated format (sha, parents, message, files) and parsed line by line: no
object per commit and no walk per component, so ten thousand commits take well under a second.
Which commits follow a component's last tag is then decided from the parent links in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tasks.core.errors import UserError
from tasks.core.runner import Command, Runner
from tasks.release.versioning import Version

_RECORD = "\x1e"
_FIELD = "\x1f"
#: sha, parents, then the raw message, then (after --name-only) the files the commit touched.
LOG_FORMAT = f"{_RECORD}%H{_FIELD}%P{_FIELD}%B{_FIELD}"


@dataclass(frozen=True)
class RawCommit:
    sha: str
    message: str
    files: tuple[str, ...]
    parents: tuple[str, ...] = ()


#: What to try when git does not know a revision the person named.
UNKNOWN_REVISION_HINT = (
    "is it a commit, branch or tag of this clone? `git fetch origin --tags` brings the "
    "remote ones; in GitHub Actions check out with `fetch-depth: 0`"
)


def git(root: Path, *args: str, step: str = "", hint: str = "") -> Command:
    return Command(
        ("git", "-C", str(root), *args),
        step=step or f"git {args[0]}",
        hint=hint,
        read_only=True,
    )


def log_command(root: Path, rev: str = "HEAD") -> Command:
    """Every commit reachable from ``rev``, newest first, with the files each one changed.

    A merge lists the files it changes against its first parent, as GitHub reports them to
    release-please; renames count as a delete plus an add.
    """
    return git(
        root,
        *("-c", "core.quotePath=false", "log", "--no-color", f"--format={LOG_FORMAT}"),
        *("--no-renames", "--diff-merges=first-parent", "--name-only"),
        rev,
        "--",
        step="read the commit history",
        hint=UNKNOWN_REVISION_HINT,
    )


def parse_log(output: str) -> Iterator[RawCommit]:
    """Parse :data:`LOG_FORMAT` (+ ``--name-only``) output."""
    for record in output.split(_RECORD):
        if not record:
            continue
        sha, parents, message, files = record.split(_FIELD, 3)
        yield RawCommit(
            sha, message, tuple(f for f in files.split("\n") if f), tuple(parents.split())
        )


def history(runner: Runner, root: Path, rev: str = "HEAD") -> list[RawCommit]:
    return list(parse_log(runner.capture(log_command(root, rev))))


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


def ancestors(start: str, commits: Iterable[RawCommit]) -> set[str]:
    """``start`` and every commit reachable from it, from the parent links of ``commits``."""
    parents: Mapping[str, tuple[str, ...]] = {c.sha: c.parents for c in commits}
    seen: set[str] = set()
    stack = [start]
    while stack:
        sha = stack.pop()
        if sha in seen:
            continue
        seen.add(sha)
        stack.extend(parents.get(sha, ()))
    return seen


def tags(runner: Runner, root: Path) -> dict[str, str]:
    """Every tag -> the commit it points at (annotated tags peeled)."""
    out = runner.capture(
        git(
            root,
            "for-each-ref",
            "--format=%(refname:strip=2)%09%(objectname)%09%(*objectname)",
            "refs/tags",
        )
    )
    found: dict[str, str] = {}
    for line in out.splitlines():
        name, obj, peeled = [*line.split("\t"), "", ""][:3]
        found[name] = peeled or obj
    return found


def latest_tag(
    all_tags: Mapping[str, str], prefix: str, reachable: set[str]
) -> tuple[str, Version] | None:
    """The highest ``<prefix>X.Y.Z`` tag on a commit in ``reachable`` (the released history)."""
    best: tuple[str, Version] | None = None
    for tag, sha in all_tags.items():
        if not tag.startswith(prefix) or sha not in reachable:
            continue
        version = Version.try_parse(tag.removeprefix(prefix))
        if version is None:
            continue
        if best is None or version.sort_key > best[1].sort_key:
            best = (tag, version)
    return best


def commits_since(
    commits: Sequence[RawCommit],
    owners: Sequence[set[str]],
    path: str,
    excluded: set[str],
) -> list[RawCommit]:
    """The commits attributed to ``path`` that its last release does not contain."""
    return [
        c for c, own in zip(commits, owners, strict=True) if path in own and c.sha not in excluded
    ]


def ensure_repo(runner: Runner, root: Path) -> None:
    result = runner.check(git(root, "rev-parse", "--verify", "HEAD"))
    if not result.observed:
        return
    if not result.ok:
        raise UserError(
            f"{root} is not a git repository with commits: {result.stderr.strip()}\n"
            "release tasks read the history of the repository they run in."
        )


def full_sha(runner: Runner, root: Path, rev: str = "HEAD") -> str:
    return runner.capture(git(root, "rev-parse", rev)).strip()


def changed_files(runner: Runner, root: Path, base: str, rev: str = "HEAD") -> list[str]:
    """Files changed between the merge base of ``base`` and ``rev``, and ``rev``."""
    out = runner.capture(
        git(
            root,
            *("diff", "--name-only", "--no-renames", f"{base}...{rev}"),
            step=f"list the files changed since {base}",
            hint=UNKNOWN_REVISION_HINT,
        )
    )
    return [line for line in out.splitlines() if line]


def range_messages(runner: Runner, root: Path, revision_range: str) -> list[RawCommit]:
    """Non-merge commits in ``revision_range`` (for the commit linter)."""
    out = runner.capture(
        git(
            root,
            *("log", "--no-color", "--no-merges", f"--format={LOG_FORMAT}", revision_range),
            step=f"read the commits in {revision_range}",
            hint=UNKNOWN_REVISION_HINT,
        )
    )
    return list(parse_log(out))


def file_texts(paths: Iterable[Path]) -> dict[Path, str]:
    """The text of each of ``paths`` that exists: what a plan compares its output with."""
    return {path: path.read_text() for path in paths if path.exists()}


def origin_url(runner: Runner, root: Path) -> str | None:
    result = runner.check(git(root, "remote", "get-url", "origin"))
    found = result.stdout.strip() if result.observed and result.ok else ""
    return found or None
