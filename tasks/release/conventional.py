"""Conventional Commits as release-please 17 reads them (``src/commit.ts``).

Pure functions, no I/O. A raw message may hold several commits (release-please splits on a blank
line followed by a ``type:`` header, and on ``BEGIN_NESTED_COMMIT`` blocks); each becomes a
:class:`ConventionalCommit`. A message whose header does not parse is not a release note, exactly as
release-please skips it.

Not reproduced: commit-like footers turned into extra commits (they carry hidden types only, so
they change neither the version nor the changelog) and ``BEGIN_COMMIT_OVERRIDE`` in pull-request
bodies (the PR body is not in git).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: The types release-please's splitter and the commit linter know.
KNOWN_TYPES = (
    "feat",
    "fix",
    "docs",
    "style",
    "refactor",
    "perf",
    "test",
    "build",
    "ci",
    "chore",
    "revert",
)

HEADER_RE = re.compile(
    r"^(?P<type>[A-Za-z][\w-]*)(?:\((?P<scope>[^()\r\n]*)\))?(?P<bang>!)?:[ \t]*(?P<subject>\S.*)$"
)
_SPLIT_RE = re.compile(
    r"\r?\n\r?\n(?=(?:feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert)(?:\(.*?\))?: )"
)
_BREAKING_RE = re.compile(r"^BREAKING[ -]CHANGE: ?(?P<text>.*)$")
_RELEASE_AS_RE = re.compile(r"^release-as: *(?P<value>\S.*?)\s*$", re.IGNORECASE)
#: Footers ``Fixes #12`` / ``Refs: #12`` become references (", refs #12" in the changelog).
_REFERENCE_RE = re.compile(r"^(?P<action>[A-Za-z][\w-]*)(?:: #| #)(?P<issue>\d+)\s*$")


@dataclass(frozen=True)
class ConventionalCommit:
    sha: str
    type: str
    scope: str | None
    subject: str
    header: str
    breaking: bool
    #: BREAKING CHANGE notes (release-please keeps at most one per commit).
    breaking_note: str | None = None
    release_as: str | None = None
    references: tuple[str, ...] = field(default_factory=tuple)


def split_messages(message: str) -> list[str]:
    """One raw message -> the commit messages it holds (release-please ``splitMessages``)."""
    if "BEGIN_NESTED_COMMIT" not in message and "\n\n" not in message.replace("\r", ""):
        return [message] if message else []
    parts = message.split("BEGIN_NESTED_COMMIT")
    main = parts[0]
    nested: list[str] = []
    for part in parts[1:]:
        inner, *rest = part.split("END_NESTED_COMMIT")
        nested.append(inner)
        main += "END_NESTED_COMMIT".join(rest)
    return [m for m in _SPLIT_RE.split(main) if m] + nested


def parse_header(line: str) -> re.Match[str] | None:
    return HEADER_RE.match(line.strip("\r"))


def _note_text(lines: list[str]) -> str:
    """Join a note's lines the way release-please's postProcessCommits does.

    Lines join with spaces up to the first blank line; a later line starting with ``#### ``,
    ``* `` or ``- `` switches to markdown context, kept on its own indented lines.
    """
    text = ""
    extended = False
    for i, chunk in enumerate(lines):
        if i > 0 and not extended and re.match(r"^#### |^[*-] ", chunk):
            text = text.strip() + "\n"
            extended = True
        if chunk == "":
            break
        text += f"    {chunk}\n" if extended else f"{chunk} "
    return text.strip()


def parse_one(sha: str, message: str) -> ConventionalCommit | None:
    lines = message.strip("\r\n").split("\n")
    lines = [line.rstrip("\r") for line in lines]
    match = parse_header(lines[0]) if lines else None
    if match is None:
        return None
    body = lines[1:]
    note: str | None = None
    release_as: str | None = None
    references: list[str] = []
    for i, line in enumerate(body):
        breaking = _BREAKING_RE.match(line)
        if breaking and note is None:
            note = _note_text([breaking.group("text"), *body[i + 1 :]])
            continue
        release = _RELEASE_AS_RE.match(line)
        if release and release_as is None:
            release_as = release.group("value")
            continue
        reference = _REFERENCE_RE.match(line)
        if reference:
            references.append(reference.group("issue"))
    subject = match.group("subject").strip()
    bang = match.group("bang") is not None
    if note is None and bang:
        note = subject
    scope = match.group("scope")
    header = match.group("type") + (f"({scope})" if scope is not None else "")
    header += ("!" if bang else "") + f": {subject}"
    return ConventionalCommit(
        sha=sha,
        type=match.group("type"),
        scope=scope or None,
        subject=subject,
        header=header,
        breaking=note is not None,
        breaking_note=note or None,
        release_as=release_as,
        references=tuple(references),
    )


def parse_commits(commits: list[tuple[str, str]]) -> list[ConventionalCommit]:
    """(sha, raw message) pairs, newest first -> conventional commits, same order."""
    parsed: list[ConventionalCommit] = []
    for sha, message in commits:
        for part in split_messages(message):
            commit = parse_one(sha, part)
            if commit is not None:
                parsed.append(commit)
    return parsed


# -- linting ----------------------------------------------------------------------------------

EXPECTED = (
    "expected `<type>[(scope)][!]: <description>` with type one of "
    + ", ".join(KNOWN_TYPES)
    + " (https://www.conventionalcommits.org/en/v1.0.0/)"
)


def lint_message(message: str) -> list[str]:
    """Problems with one commit message or PR title; empty when it is a Conventional Commit."""
    lines = message.strip("\r\n").split("\n")
    header = lines[0].rstrip("\r") if lines else ""
    match = parse_header(header)
    if match is None:
        if re.match(r"^(fixup|squash|amend)! ", header):
            return [f"{header!r} is an autosquash commit: squash it before merging"]
        return [f"{header!r} is not a Conventional Commit header: {EXPECTED}"]
    problems: list[str] = []
    if match.group("type") not in KNOWN_TYPES:
        problems.append(f"{header!r}: unknown type {match.group('type')!r}: {EXPECTED}")
    if match.group("scope") is not None and not match.group("scope").strip():
        problems.append(f"{header!r}: empty scope `()`: drop the parentheses or name a scope")
    if len(lines) > 1 and lines[1].strip():
        problems.append(f"{header!r}: the second line must be blank (header, blank line, body)")
    for line in lines[1:]:
        release = _RELEASE_AS_RE.match(line.rstrip("\r"))
        if release and not re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", release["value"]):
            problems.append(f"{line.strip()!r}: Release-As needs a version X.Y.Z")
    return problems
