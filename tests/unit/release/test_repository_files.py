"""The monorepo's own apps/ and release-please files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.release.components import discover
from tasks.release.releases import parse_repo
from tasks.release.settings import drift
from tasks.release.validation import check_release, unpinned_base

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


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("mcr.microsoft.com/dotnet/aspnet:10.0", None),
        ("nginxinc/nginx-unprivileged@sha256:abc", None),
        (
            "localhost:5000/nginx",
            "base image localhost:5000/nginx has no tag: pin one (e.g. :10.0)",
        ),
        ("node:latest", "base image node:latest uses :latest: pin a version tag"),
        ("", "no base image set (ContainerBaseImage or FROM): pin one by tag"),
    ],
)
def test_unpinned_base_images(image: str, problem: str | None) -> None:
    assert unpinned_base(image) == problem


def test_validate_family_on_the_monorepo() -> None:
    from tasks.validate.model import Result

    class Workspace:
        root = REPO

    result = Result()
    check_release(Workspace(), result)  # type: ignore[arg-type]
    assert result.problems == []
    assert result.files == {"release-please-config.json", ".release-please-manifest.json"}
