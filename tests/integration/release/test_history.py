"""release.next / release.changelog over real git histories, asserted exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tasks.core.errors import UserError
from tasks.core.runner import Runner
from tasks.release import compute_releases
from tasks.release.changelog import Repo
from tasks.release.releases import Release
from tests.conftest import Inv
from tests.integration.release.gitrepo import (
    COMPANY,
    PROPERTY,
    PROPS,
    WEB,
    GitRepo,
    run_task,
    scaffold,
)

URL = "https://github.com/propertea/propertea"


def releases(repo: GitRepo, *names: str) -> dict[str, Release]:
    found = compute_releases(
        Runner(),
        repo.root,
        list(names) or None,
        repo=Repo("propertea", "propertea"),
        date="2026-01-15",
    )
    return {r.component: r for r in found}


def link(sha: str) -> str:
    return f"([{sha[:7]}]({URL}/commit/{sha}))"


def set_options(repo: GitRepo, **options: bool) -> None:
    path = repo.root / "release-please-config.json"
    config = json.loads(path.read_text())
    config.update({k.replace("_", "-"): v for k, v in options.items()})
    path.write_text(json.dumps(config, indent=2) + "\n")


@pytest.fixture
def tagged(repo: GitRepo) -> GitRepo:
    scaffold(repo, {"company": "1.1.0", "property": "1.1.0"})
    repo.tag("company-v1.1.0")
    repo.tag("property-v1.1.0")
    return repo


def test_several_paths_and_a_commit_touching_two_components(tagged: GitRepo) -> None:
    c1 = tagged.commit("feat(api): add leases (#42)", f"{COMPANY}/Leases.cs")
    c2 = tagged.commit("fix: shared validation", f"{COMPANY}/V.cs", f"{PROPERTY}/V.cs")
    tagged.commit("docs: portal readme", f"{WEB}/README.md")
    tagged.commit("fix: top-level file belongs to nobody", "README.md")

    found = releases(tagged)
    assert {k: r.summary() for k, r in found.items()} == {
        "company": {
            "path": COMPANY,
            "current": "1.1.0",
            "next": "1.2.0",
            "tag": "company-v1.2.0",
            "commits": 2,
            "release": True,
        },
        "landlord-web": {
            # No tag: release-please starts from the manifest's version over all history.
            "path": WEB,
            "current": "0.1.0",
            "next": "0.1.1",
            "tag": "landlord-web-v0.1.1",
            "commits": 2,
            "release": False,
        },
        "property": {
            "path": PROPERTY,
            "current": "1.1.0",
            "next": "1.1.1",
            "tag": "property-v1.1.1",
            "commits": 1,
            "release": True,
        },
    }
    assert found["company"].notes == (
        f"## [1.2.0]({URL}/compare/company-v1.1.0...company-v1.2.0) (2026-01-15)\n\n\n"
        "### Features\n\n"
        f"* **api:** add leases ([#42]({URL}/issues/42)) {link(c1)}\n\n\n"
        "### Bug Fixes\n\n"
        f"* shared validation {link(c2)}"
    )


def test_breaking_changes_bump_major_after_1_0(tagged: GitRepo) -> None:
    c1 = tagged.commit("feat(api)!: remove v1 endpoints", f"{COMPANY}/Api.cs")
    c2 = tagged.commit(
        "fix: rename setting\n\nBREAKING CHANGE: Db:Url is now Db:Uri", f"{COMPANY}/S.cs"
    )
    company = releases(tagged, "company")["company"]
    assert (company.current, company.next) == ("1.1.0", "2.0.0")
    assert company.notes == (
        f"## [2.0.0]({URL}/compare/company-v1.1.0...company-v2.0.0) (2026-01-15)\n\n\n"
        "### ⚠ BREAKING CHANGES\n\n"
        "* Db:Url is now Db:Uri\n"
        "* **api:** remove v1 endpoints\n\n"
        "### Features\n\n"
        f"* **api:** remove v1 endpoints {link(c1)}\n\n\n"
        "### Bug Fixes\n\n"
        f"* rename setting {link(c2)}"
    )


def test_pre_1_0_rules_come_from_the_config(repo: GitRepo) -> None:
    scaffold(repo, {"company": "0.3.0"})
    repo.tag("company-v0.3.0")
    repo.commit("feat!: rename tenants to organizations", f"{COMPANY}/T.cs")
    # Generated default: bump-minor-pre-major on -> a breaking change bumps minor.
    assert releases(repo, "company")["company"].next == "0.4.0"
    set_options(repo, bump_minor_pre_major=False)
    assert releases(repo, "company")["company"].next == "1.0.0"

    repo.git("tag", "-d", "company-v0.3.0")
    repo.tag("company-v0.4.0")
    repo.commit("feat: add search", f"{COMPANY}/Search.cs")
    assert releases(repo, "company")["company"].next == "0.5.0"
    set_options(repo, bump_patch_for_minor_pre_major=True)
    assert releases(repo, "company")["company"].next == "0.4.1"


def test_release_as_footer_wins_and_shows_the_commit(tagged: GitRepo) -> None:
    tagged.commit("feat!: big thing", f"{COMPANY}/B.cs")
    sha = tagged.commit("chore: prepare 3.0\n\nRelease-As: 3.0.0", f"{COMPANY}/P.cs")
    company = releases(tagged, "company")["company"]
    assert (company.next, company.tag, company.release) == ("3.0.0", "company-v3.0.0", True)
    assert company.notes.endswith(f"### Miscellaneous Chores\n\n* prepare 3.0 {link(sha)}")


def test_bad_release_as_names_the_commit(tagged: GitRepo) -> None:
    sha = tagged.commit("chore: pin\n\nRelease-As: soon", f"{COMPANY}/P.cs")
    with pytest.raises(
        UserError, match=rf"Release-As in {sha[:7]} \(company\): 'soon' is not a version"
    ):
        releases(tagged, "company")


def test_merges_count_for_the_paths_they_change(tagged: GitRepo) -> None:
    tagged.git("checkout", "-q", "-b", "feature")
    tagged.commit("feat: portfolio view", f"{COMPANY}/Portfolio.cs")
    tagged.git("checkout", "-q", "main")
    tagged.commit("fix: rounding", f"{PROPERTY}/R.cs")
    tagged.git("merge", "-q", "--no-ff", "feature", "-m", "Merge branch 'feature'")
    found = releases(tagged, "company", "property")
    assert (found["company"].next, found["company"].commits) == ("1.2.0", 2)
    assert (found["property"].next, found["property"].commits) == ("1.1.1", 1)


def test_tags_on_unmerged_branches_are_ignored(tagged: GitRepo) -> None:
    tagged.git("checkout", "-q", "-b", "experiment")
    tagged.commit("feat: experiment", f"{COMPANY}/E.cs")
    tagged.tag("company-v9.0.0")
    tagged.git("checkout", "-q", "main")
    tagged.commit("fix: real fix", f"{COMPANY}/F.cs")
    company = releases(tagged, "company")["company"]
    assert (company.current, company.next, company.commits) == ("1.1.0", "1.1.1", 1)


def test_first_release_without_tag_or_manifest_version(repo: GitRepo) -> None:
    scaffold(repo, {"landlord-web": "0.0.0"})
    sha = repo.commit("feat(web): dashboard", f"{WEB}/src/dashboard.ts")
    web = releases(repo, "landlord-web")["landlord-web"]
    assert (web.current, web.next, web.previous_tag) == (None, "1.0.0", None)
    assert (
        web.notes == f"## 1.0.0 (2026-01-15)\n\n\n### Features\n\n* **web:** dashboard {link(sha)}"
    )


def test_nothing_since_the_tag(tagged: GitRepo) -> None:
    company = releases(tagged, "company")["company"]
    assert (company.commits, company.release) == (0, False)


def test_inv_release_next_json(tagged: GitRepo, inv: Inv) -> None:
    tagged.commit("feat: x", f"{COMPANY}/X.cs")
    result = inv("release.next", "--json", "--component", "company", cwd=tagged.root)
    assert result.returncode == 0, result.output
    assert json.loads(result.stdout) == {
        "company": {
            "path": COMPANY,
            "current": "1.1.0",
            "next": "1.2.0",
            "tag": "company-v1.2.0",
            "commits": 1,
            "release": True,
        }
    }


def test_inv_release_changelog_write_prepends(tagged: GitRepo, inv: Inv) -> None:
    (tagged.root / COMPANY / "CHANGELOG.md").write_text(
        "# Changelog\n\n## [1.1.0](old) (2025-12-01)\n\n\n### Features\n\n* older\n"
    )
    sha = tagged.commit("fix(db): retry on deadlock", f"{COMPANY}/Db.cs")
    result = inv(
        "release.changelog",
        "--component",
        "company",
        "--write",
        "--date",
        "2026-01-15",
        cwd=tagged.root,
    )
    assert result.returncode == 0, result.output
    assert (tagged.root / COMPANY / "CHANGELOG.md").read_text() == (
        "# Changelog\n\n"
        f"## [1.1.1]({URL}/compare/company-v1.1.0...company-v1.1.1) (2026-01-15)\n\n\n"
        f"### Bug Fixes\n\n* **db:** retry on deadlock {link(sha)}\n\n"
        "## [1.1.0](old) (2025-12-01)\n\n\n### Features\n\n* older\n"
    )


def test_changelog_with_nothing_to_release(
    tagged: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    tagged.commit("chore: tidy", f"{COMPANY}/T.cs")
    run_task("release.changelog", tagged.root, component=["company"])
    assert "no user-facing changes since the last release of company" in capsys.readouterr().out


def test_unknown_component(tagged: GitRepo) -> None:
    with pytest.raises(UserError) as info:
        run_task("release.next", tagged.root, component=["nope"])
    assert info.value.text == "unknown component nope; known: company, landlord-web, property"


def test_bad_date(tagged: GitRepo) -> None:
    with pytest.raises(UserError) as info:
        run_task("release.changelog", tagged.root, date="15/01/2026")
    assert info.value.code == 2
    assert info.value.text == "--date '15/01/2026': expected a calendar date YYYY-MM-DD"


def test_outside_a_git_repository(repo: GitRepo, inv: Inv) -> None:
    scaffold(repo)
    shutil.rmtree(repo.root / ".git")
    result = inv("release.next", cwd=repo.root)
    assert result.returncode == 1
    assert f"{repo.root} is not a git repository with commits" in result.stderr


def test_no_components(tmp_path: Path) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "Directory.Build.props").write_text(PROPS)
    with pytest.raises(UserError) as info:
        run_task("release.config", tmp_path)
    assert info.value.text == (
        f"{tmp_path / 'apps'}: no components (apps/services/*/*.csproj, "
        "apps/portals/*/web/Dockerfile). Run the release and images tasks from the repository root."
    )
