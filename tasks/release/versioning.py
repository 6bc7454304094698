"""Versions and the next-version rules of release-please's DefaultVersioningStrategy."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tasks.release.conventional import ConventionalCommit

_VERSION_RE = re.compile(
    r"^v?(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: str = ""
    build: str = ""

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION_RE.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a version X.Y.Z[-pre][+build]")
        return cls(
            int(match["major"]),
            int(match["minor"]),
            int(match["patch"]),
            match["pre"] or "",
            match["build"] or "",
        )

    @classmethod
    def try_parse(cls, text: str) -> Version | None:
        try:
            return cls.parse(text)
        except ValueError:
            return None

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        text += f"-{self.pre}" if self.pre else ""
        return text + (f"+{self.build}" if self.build else "")

    @property
    def sort_key(self) -> tuple[int, int, int, int, str]:
        """SemVer precedence, near enough for picking the latest tag: a pre-release sorts first."""
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, self.pre)

    # release-please keeps the pre-release and build parts on every bump.
    def bump_major(self) -> Version:
        return Version(self.major + 1, 0, 0, self.pre, self.build)

    def bump_minor(self) -> Version:
        return Version(self.major, self.minor + 1, 0, self.pre, self.build)

    def bump_patch(self) -> Version:
        return Version(self.major, self.minor, self.patch + 1, self.pre, self.build)


@dataclass(frozen=True)
class BumpRules:
    bump_minor_pre_major: bool = False
    bump_patch_for_minor_pre_major: bool = False


def bump(current: Version, commits: Sequence[ConventionalCommit], rules: BumpRules) -> Version:
    """The next version after ``current`` for ``commits`` (newest first).

    The newest ``Release-As`` footer wins; then a breaking change bumps major (minor before 1.0
    with bump-minor-pre-major); a feature bumps minor (patch before 1.0 with
    bump-patch-for-minor-pre-major); anything else bumps patch.
    """
    breaking = features = 0
    for commit in commits:
        if commit.release_as:
            return Version.parse(commit.release_as)
        if commit.breaking:
            breaking += 1
        elif commit.type in {"feat", "feature"}:
            features += 1
    pre_major = current.major < 1
    if breaking:
        if pre_major and rules.bump_minor_pre_major:
            return current.bump_minor()
        return current.bump_major()
    if features:
        if pre_major and rules.bump_patch_for_minor_pre_major:
            return current.bump_patch()
        return current.bump_minor()
    return current.bump_patch()
