"""The changelog entry, byte for byte what release-please 17.11.2 writes.

``release_please_goldens.json`` holds entries produced by release-please's own code
(parseConventionalCommits + DefaultChangelogNotes, node) for the same commit messages, sha N = the
hex digit (N mod 15) + 1 repeated 40 times, and the date pinned to 2026-01-15.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.release.changelog import (
    DEFAULT_SECTIONS,
    Repo,
    Section,
    prepend,
    render,
    sections_from_config,
    user_facing,
)
from tasks.release.conventional import parse_commits

GOLDENS = json.loads(Path(__file__).with_name("release_please_goldens.json").read_text())
REPO = Repo("propertea", "propertea")


def _render(messages: list[str], previous: str | None, **kwargs: object) -> str:
    commits = parse_commits([(f"{j % 15 + 1:x}" * 40, m) for j, m in enumerate(messages)])
    return render(
        commits,
        version="1.2.0",
        current_tag="company-v1.2.0",
        previous_tag=previous,
        repo=REPO,
        date="2026-01-15",
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("case", sorted(GOLDENS))
def test_matches_release_please(case: str) -> None:
    golden = GOLDENS[case]
    assert _render(golden["messages"], golden["previous"]) == golden["notes"]


def test_sections_order_and_blank_lines() -> None:
    notes = _render(["fix(db): retry", "feat!: new api\n\nBREAKING CHANGE: old api gone"], None)
    sha1, sha2 = "1" * 40, "2" * 40
    assert notes == (
        "## 1.2.0 (2026-01-15)\n"
        "\n\n### ⚠ BREAKING CHANGES\n\n"
        "* old api gone\n"
        "\n### Features\n\n"
        f"* new api ([2222222](https://github.com/propertea/propertea/commit/{sha2}))\n"
        "\n\n### Bug Fixes\n\n"
        f"* **db:** retry ([1111111](https://github.com/propertea/propertea/commit/{sha1}))"
    )


@pytest.mark.parametrize("case", sorted(GOLDENS))
def test_user_facing_means_more_than_the_heading(case: str) -> None:
    golden = GOLDENS[case]
    commits = parse_commits([("a" * 40, m) for m in golden["messages"]])
    assert user_facing(commits, DEFAULT_SECTIONS) == (len(golden["notes"].split("\n")) > 1)


def test_only_hidden_types_is_not_user_facing() -> None:
    hidden = parse_commits([("a" * 40, "chore: deps"), ("b" * 40, "docs: readme")])
    assert not user_facing(hidden, DEFAULT_SECTIONS)
    assert _render(["chore: deps", "docs: readme"], "company-v1.1.0").count("\n") == 0


def test_changelog_sections_from_config_unhide_a_type() -> None:
    sections = sections_from_config(
        [{"type": "feat", "section": "Features"}, {"type": "chore", "section": "Chores"}]
    )
    assert sections == (Section("feat", "Features"), Section("chore", "Chores"))
    notes = _render(["chore: tidy"], "company-v1.1.0", sections=sections)
    assert notes.splitlines()[3:5] == ["### Chores", ""]


def test_prepend_to_an_existing_changelog() -> None:
    existing = "# Changelog\n\n## [1.1.0](x) (2020-01-01)\n\n\n### Features\n\n* old\n"
    assert prepend(existing, "## 1.2.0 (2026-01-15)\n\n\n### Bug Fixes\n\n* new") == (
        "# Changelog\n\n## 1.2.0 (2026-01-15)\n\n\n### Bug Fixes\n\n* new\n\n"
        "## [1.1.0](x) (2020-01-01)\n\n\n### Features\n\n* old\n"
    )


def test_prepend_creates_the_file_content() -> None:
    assert prepend("", "## 1.0.0 (2026-01-15)") == "# Changelog\n\n## 1.0.0 (2026-01-15)\n"


def test_prepend_demotes_foreign_headings_like_release_please() -> None:
    # No version heading to anchor on: release-please keeps the old text below, H1 -> H2.
    assert prepend("# Notes\nfree text\n", "## 1.0.0 (d)") == (
        "# Changelog\n\n## 1.0.0 (d)\n\n## Notes\nfree text\n"
    )
