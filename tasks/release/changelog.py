"""The CHANGELOG entry release-please 17 writes.

DefaultChangelogNotes with the conventionalcommits preset of conventional-changelog-writer 6:

Same sections, order, blank lines and line format::

    ## [1.2.0](https://github.com/O/R/compare/company-v1.1.0...company-v1.2.0) (2026-01-31)


    ### ⚠ BREAKING CHANGES

    * **api:** v1 removed

    ### Features

    * **api:** drop v1 ([abc1234](https://github.com/O/R/commit/abc1234...))

Pure functions; the date is an argument.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tasks.release.conventional import ConventionalCommit

HOST = "https://github.com"


@dataclass(frozen=True)
class Section:
    type: str
    section: str
    hidden: bool = False
    scope: str | None = None


#: The preset's defaults (conventional-changelog-conventionalcommits 6).
DEFAULT_SECTIONS: tuple[Section, ...] = (
    Section("feat", "Features"),
    Section("feature", "Features"),
    Section("fix", "Bug Fixes"),
    Section("perf", "Performance Improvements"),
    Section("revert", "Reverts"),
    Section("docs", "Documentation", hidden=True),
    Section("style", "Styles", hidden=True),
    Section("chore", "Miscellaneous Chores", hidden=True),
    Section("refactor", "Code Refactoring", hidden=True),
    Section("test", "Tests", hidden=True),
    Section("build", "Build System", hidden=True),
    Section("ci", "Continuous Integration", hidden=True),
)


def sections_from_config(raw: Any) -> tuple[Section, ...]:
    """``changelog-sections`` from release-please-config.json (None -> the defaults)."""
    if raw is None:
        return DEFAULT_SECTIONS
    return tuple(
        Section(str(s["type"]), str(s["section"]), bool(s.get("hidden", False)), s.get("scope"))
        for s in raw
    )


@dataclass(frozen=True)
class Repo:
    owner: str
    name: str
    host: str = HOST

    @property
    def url(self) -> str:
        return f"{self.host}/{self.owner}/{self.name}"


def _html_escape(message: str) -> str:
    """``<`` and ``>`` outside backticks become entities (release-please ``htmlEscape``)."""

    def repl(match: re.Match[str]) -> str:
        text = match.group(0)
        if len(text) > 1:
            return text
        return "&lt;" if text == "<" else "&gt;"

    return re.sub(r"``[^`].*[^`]``|`[^`]*`|<|>", repl, message)


def _locale_key(text: str) -> tuple[str, str]:
    """Near enough to JavaScript's localeCompare for commit subjects: case-insensitive first,
    lower case before upper case on a tie."""
    return (text.casefold(), text.swapcase())


def _section_for(commit: ConventionalCommit, sections: Sequence[Section]) -> Section | None:
    for entry in sections:
        if entry.type == commit.type.lower() and (entry.scope in (None, commit.scope)):
            return entry
    return None


def _shown(commit: ConventionalCommit, sections: Sequence[Section]) -> bool:
    """The preset shows breaking changes and Release-As commits of any type, else visible types."""
    if commit.breaking or commit.release_as is not None:
        return True
    entry = _section_for(commit, sections)
    return entry is not None and not entry.hidden


def user_facing(commits: Sequence[ConventionalCommit], sections: Sequence[Section]) -> bool:
    """Whether the notes would hold more than their heading: release-please releases only then."""
    return any(_shown(c, sections) for c in commits)


def render(
    commits: Sequence[ConventionalCommit],
    *,
    version: str,
    current_tag: str,
    previous_tag: str | None,
    repo: Repo,
    date: str,
    sections: Sequence[Section] = DEFAULT_SECTIONS,
) -> str:
    """The release notes for ``commits`` (newest first), without a trailing newline."""
    issue_url = f"{repo.url}/issues/"
    notes: list[str] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for commit in commits:
        if not _shown(commit, sections):
            continue
        entry = _section_for(commit, sections)
        scope = None if commit.scope == "*" else commit.scope
        if commit.breaking_note is not None:
            text = re.sub(r"\(#(\d+)\)", rf"([#\1]({issue_url}\1))", commit.breaking_note, count=1)
            notes.append(f"* **{scope}:** {text}" if scope else f"* {text}")
        subject = _html_escape(commit.subject)
        linked: set[str] = set()

        def issue(match: re.Match[str], linked: set[str] = linked) -> str:
            linked.add(match.group(1))
            return f"[#{match.group(1)}]({issue_url}{match.group(1)})"

        subject = re.sub(r"#([0-9]+)", issue, subject)
        subject = re.sub(
            r"\B@([a-z0-9](?:-?[a-z0-9/]){0,38})",
            lambda m: m.group(0) if "/" in m.group(1) else f"[@{m.group(1)}]({HOST}/{m.group(1)})",
            subject,
        )
        title = entry.section if entry is not None else commit.type
        groups.setdefault(title, []).append(
            {
                "scope": scope,
                "subject": subject,
                "sha": commit.sha,
                "refs": [r for r in commit.references if r not in linked],
            }
        )

    if previous_tag:
        compare = f"{repo.url}/compare/{previous_tag}...{current_tag}"
        out = f"## [{version}]({compare}) ({date})\n\n"
    else:
        out = f"## {version} ({date})\n\n"
    if notes:
        out += "\n### ⚠ BREAKING CHANGES\n\n" + "".join(f"{n}\n" for n in notes)
    order = [s.section for s in sections]
    for title in sorted(groups, key=lambda t: order.index(t) if t in order else -1):
        out += f"\n### {title}\n\n"
        # conventional-changelog-writer 6 sorts by scope + subject, concatenated.
        ordered = sorted(
            groups[title], key=lambda i: _locale_key((i["scope"] or "") + i["subject"])
        )
        for item in ordered:
            line = "* " + (f"**{item['scope']}:** " if item["scope"] else "") + item["subject"]
            line += f" ([{item['sha'][:7]}]({repo.url}/commit/{item['sha']}))"
            if item["refs"]:
                line += ", refs" + "".join(f" [#{r}]({issue_url}{r})" for r in item["refs"])
            out += line + "\n"
        out += "\n"
    return out.strip()


_VERSION_HEADER_RE = re.compile(r"\n###? v?[0-9\[]")


def prepend(existing: str, entry: str) -> str:
    """CHANGELOG.md with ``entry`` added on top (release-please's Changelog updater)."""
    index = _VERSION_HEADER_RE.search(existing)
    if index is None:
        if existing:
            adjusted = re.sub(r"^#(\s)", r"##\1", existing, flags=re.MULTILINE).strip()
            return f"# Changelog\n\n{entry}\n\n{adjusted}\n"
        return f"# Changelog\n\n{entry}\n"
    before, after = existing[: index.start()], existing[index.start() :]
    return f"{before}\n{entry}\n{after}".strip() + "\n"
