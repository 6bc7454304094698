"""Conventional Commit parsing: headers, breaking changes, footers, squashed messages, linting."""

from __future__ import annotations

import pytest

from tasks.release.conventional import lint_message, parse_commits, parse_one, split_messages


def test_header_scope_bang_and_subject() -> None:
    commit = parse_one("a" * 40, "feat(api)!: drop v1")
    assert commit is not None
    assert (commit.type, commit.scope, commit.subject) == ("feat", "api", "drop v1")
    assert commit.breaking and commit.breaking_note == "drop v1"


@pytest.mark.parametrize("footer", ["BREAKING CHANGE: gone", "BREAKING-CHANGE: gone"])
def test_breaking_footers(footer: str) -> None:
    commit = parse_one("a" * 40, f"fix: x\n\nbody\n\n{footer}")
    assert commit is not None and commit.breaking and commit.breaking_note == "gone"


def test_breaking_note_joins_lines_until_a_blank_line() -> None:
    commit = parse_one("a" * 40, "fix: x\n\nBREAKING CHANGE: one\ntwo\n\nthree")
    assert commit is not None and commit.breaking_note == "one two"


def test_release_as_footer_is_case_insensitive() -> None:
    commit = parse_one("a" * 40, "chore: pin\n\nrelease-as: 2.0.0")
    assert commit is not None and commit.release_as == "2.0.0"


def test_references_from_footers() -> None:
    commit = parse_one("a" * 40, "fix: x\n\nFixes #7\nRefs: #9")
    assert commit is not None and commit.references == ("7", "9")


def test_non_conventional_messages_are_skipped() -> None:
    assert parse_one("a" * 40, "Merge branch 'main'") is None
    assert parse_one("a" * 40, "update stuff") is None


def test_one_message_holding_several_commits() -> None:
    assert split_messages("feat: a\n\nfix: b") == ["feat: a", "fix: b"]
    commits = parse_commits([("a" * 40, "feat: a\n\nfix(x): b\n\nnot a commit")])
    assert [(c.type, c.scope, c.subject) for c in commits] == [
        ("feat", None, "a"),
        ("fix", "x", "b"),
    ]


def test_nested_commit_blocks() -> None:
    message = "chore: sync\n\nBEGIN_NESTED_COMMIT\nfix(db): inner\nEND_NESTED_COMMIT\n"
    assert [c.header for c in parse_commits([("a" * 40, message)])] == [
        "chore: sync",
        "fix(db): inner",
    ]


def test_lint_accepts_conventional_messages() -> None:
    assert lint_message("feat(web)!: new portal\n\nbody\n\nRelease-As: 1.0.0") == []


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("update stuff", "'update stuff' is not a Conventional Commit header: expected"),
        ("feature: x", "'feature: x': unknown type 'feature'"),
        ("fix(): x", "'fix(): x': empty scope `()`"),
        ("fix: x\nno blank line", "'fix: x': the second line must be blank"),
        ("fixup! fix: x", "'fixup! fix: x' is an autosquash commit"),
        ("chore: x\n\nRelease-As: next", "'Release-As: next': Release-As needs a version X.Y.Z"),
    ],
)
def test_lint_rejects_with_the_line_and_what_is_expected(message: str, expected: str) -> None:
    problems = lint_message(message)
    assert len(problems) == 1 and problems[0].startswith(expected)
