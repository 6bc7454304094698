"""What release-please would release for one component: pure, from facts already read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tasks.core.errors import UserError
from tasks.release.changelog import Repo, Section, render, user_facing
from tasks.release.conventional import ConventionalCommit, parse_commits
from tasks.release.facts import RawCommit
from tasks.release.settings import PackageSettings
from tasks.release.versioning import Version, bump


@dataclass(frozen=True)
class Release:
    component: str
    path: str
    current: str | None
    next: str
    tag: str
    previous_tag: str | None
    commits: int
    release: bool
    conventional: tuple[ConventionalCommit, ...] = field(default=(), repr=False)
    repo: Repo = field(default=Repo("owner", "repo"), repr=False)
    date: str = field(default="", repr=False)
    sections: tuple[Section, ...] = field(default=(), repr=False)

    @cached_property
    def notes(self) -> str:
        """The CHANGELOG entry (rendered on first use: release.next never needs it)."""
        return render(
            self.conventional,
            version=self.next,
            current_tag=self.tag,
            previous_tag=self.previous_tag,
            repo=self.repo,
            date=self.date,
            sections=self.sections,
        )

    def summary(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "current": self.current,
            "next": self.next,
            "tag": self.tag,
            "commits": self.commits,
            "release": self.release,
        }


def _version(text: str, where: str) -> Version:
    try:
        return Version.parse(text)
    except ValueError as exc:
        raise UserError(f"{where}: {exc}") from None


def next_release(
    settings: PackageSettings,
    raw: Sequence[RawCommit],
    latest: tuple[str, Version] | None,
    *,
    repo: Repo,
    date: str,
) -> Release:
    """release-please's buildReleasePullRequest, minus the pull request.

    The current version is the last tag's, else the manifest's (release-please backfills a
    missing release from it), else there is none and the next is ``initial-version`` (1.0.0).
    """
    conventional = parse_commits([(c.sha, c.message) for c in raw])
    current: Version | None = None
    previous_tag: str | None = None
    if latest is not None:
        previous_tag, current = latest
    elif settings.manifest_version and settings.manifest_version != "0.0.0":
        current = _version(settings.manifest_version, f"manifest version of {settings.path}")
        previous_tag = settings.tag(str(current))

    release_as = settings.release_as or next(
        (c.release_as for c in conventional if c.release_as), None
    )
    if release_as:
        sha = next((c.sha[:7] for c in conventional if c.release_as == release_as), "config")
        nxt = _version(release_as, f"Release-As in {sha} ({settings.component})")
    elif current is not None:
        nxt = bump(current, conventional, settings.rules)
    else:
        nxt = _version(settings.initial_version, f"initial-version of {settings.path}")
    return Release(
        component=settings.component,
        path=settings.path,
        current=str(current) if current is not None else None,
        next=str(nxt),
        tag=settings.tag(str(nxt)),
        previous_tag=previous_tag,
        commits=len(raw),
        release=user_facing(conventional, settings.sections),
        conventional=tuple(conventional),
        repo=repo,
        date=date,
        sections=tuple(settings.sections),
    )


_GITHUB_RE = re.compile(
    r"^(?:https://(?P<host>[^/]+)/|git@(?P<sshhost>[^:]+):|ssh://git@(?P<sshhost2>[^/]+)/)"
    r"(?P<owner>[^/]+)/(?P<name>[^/]+?)(?:\.git)?/?$"
)


def parse_repo(value: str) -> Repo | None:
    """``owner/name`` or a GitHub URL (https or ssh) -> :class:`Repo`."""
    value = value.strip()
    if re.fullmatch(r"[\w.-]+/[\w.-]+", value):
        owner, name = value.split("/")
        return Repo(owner, name)
    match = _GITHUB_RE.match(value)
    if not match:
        return None
    host = match["host"] or match["sshhost"] or match["sshhost2"]
    return Repo(match["owner"], match["name"], f"https://{host}")
