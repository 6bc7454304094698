"""Version bumps as release-please computes them, version parsing and ordering."""

from __future__ import annotations

import pytest

from tasks.release.conventional import parse_commits
from tasks.release.versioning import BumpRules, Version, bump


def _next(
    current: str, messages: list[str], minor_pre: bool = False, patch_pre: bool = False
) -> str:
    commits = parse_commits([(f"{i:040x}", m) for i, m in enumerate(messages)])
    return str(bump(Version.parse(current), commits, BumpRules(minor_pre, patch_pre)))


@pytest.mark.parametrize(
    ("current", "messages", "minor_pre", "patch_pre", "expected"),
    [
        ("1.2.3", ["fix: a"], False, False, "1.2.4"),
        ("1.2.3", ["fix: a", "feat: b"], False, False, "1.3.0"),
        ("1.2.3", ["feat!: b"], False, False, "2.0.0"),
        ("1.2.3", ["chore: only"], False, False, "1.2.4"),
        ("0.3.1", ["feat!: b"], False, False, "1.0.0"),
        ("0.3.1", ["feat!: b"], True, False, "0.4.0"),
        ("0.3.1", ["feat: b"], False, True, "0.3.2"),
        ("0.3.1", ["feat: b"], True, False, "0.4.0"),
        # bump-*-pre-major only apply before 1.0.
        ("1.0.0", ["feat!: b"], True, True, "2.0.0"),
        # The newest Release-As wins over everything.
        (
            "1.2.3",
            ["feat!: x", "chore: y\n\nRelease-As: 5.0.0", "chore: z\n\nRelease-As: 4.0.0"],
            False,
            False,
            "5.0.0",
        ),
        # Pre-release parts are kept, as release-please does.
        ("1.0.0-rc.1", ["fix: a"], False, False, "1.0.1-rc.1"),
    ],
)
def test_bump(
    current: str, messages: list[str], minor_pre: bool, patch_pre: bool, expected: str
) -> None:
    assert _next(current, messages, minor_pre, patch_pre) == expected


def test_version_parse_rejects_garbage() -> None:
    with pytest.raises(ValueError, match=r"'1\.2' is not a version X\.Y\.Z"):
        Version.parse("1.2")


def test_sort_key_puts_prereleases_first() -> None:
    assert Version.parse("1.0.0-rc.1").sort_key < Version.parse("1.0.0").sort_key
