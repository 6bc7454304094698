"""The monorepo's own apps/ and release-please files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.release.components import discover
from tasks.release.releases import parse_repo
from tasks.release.settings import drift

REPO = Path(__file__).resolve().parents[3]


def test_components_of_the_monorepo() -> None:
    found = {c.name: (c.path, c.kind, c.image) for c in discover(REPO)}
    assert found == {
        "company": ("apps/services/ProperTea.Company", "dotnet", "propertea-company"),
        "landlord-bff": (
            "apps/services/ProperTea.Landlord.Bff",
            "dotnet",
            "propertea-landlord-bff",
        ),
        "landlord-web": ("apps/portals/landlord/web", "web", "propertea-landlord-web"),
        "organization": (
            "apps/services/ProperTea.Organization",
            "dotnet",
            "propertea-organization",
        ),
        "property": ("apps/services/ProperTea.Property", "dotnet", "propertea-property"),
        "user": ("apps/services/ProperTea.User", "dotnet", "propertea-user"),
    }
    assert {c.base_image for c in discover(REPO) if c.kind == "dotnet"} == {
        "mcr.microsoft.com/dotnet/aspnet:10.0"
    }


def test_committed_release_please_files_match_apps() -> None:
    assert drift(REPO, discover(REPO)) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("propertea/propertea", ("https://github.com", "propertea", "propertea")),
        (
            "https://github.com/propertea/propertea.git",
            ("https://github.com", "propertea", "propertea"),
        ),
        ("git@github.com:o/r.git", ("https://github.com", "o", "r")),
        ("https://ghe.example.com/o/r", ("https://ghe.example.com", "o", "r")),
    ],
)
def test_parse_repo(value: str, expected: tuple[str, str, str]) -> None:
    repo = parse_repo(value)
    assert repo is not None and (repo.host, repo.owner, repo.name) == expected


def test_parse_repo_rejects_other_text() -> None:
    assert parse_repo("just words") is None
