"""release.config --check, release.lint-commits and release.lint-pr-title, run as a person would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.core.errors import UserError
from tests.conftest import Inv
from tests.integration.release.gitrepo import COMPANY, GitRepo, csproj, run_task, scaffold


def test_config_check_passes_then_catches_a_new_service(repo: GitRepo, inv: Inv) -> None:
    scaffold(repo)
    ok = inv("release.config", "--check", cwd=repo.root)
    assert ok.returncode == 0 and "matches apps/ (3 components)" in ok.stdout

    repo.write("apps/services/ProperTea.User/ProperTea.User.csproj", csproj("user"))
    repo.write("apps/services/ProperTea.User/version.txt", "0.1.0\n")
    stale = inv("release.config", "--check", cwd=repo.root)
    assert stale.returncode == 1
    assert "release-please-config.json: out of date with apps/; run `inv release.config`" in (
        stale.stderr
    )
    assert ".release-please-manifest.json: differs from the version.txt files" in stale.stderr

    fixed = inv("release.config", cwd=repo.root)
    assert fixed.returncode == 0, fixed.output
    config = json.loads((repo.root / "release-please-config.json").read_text())
    assert config["packages"]["apps/services/ProperTea.User"] == {
        "component": "user",
        "package-name": "user",
        "release-type": "simple",
        "version-file": "version.txt",
        "changelog-path": "CHANGELOG.md",
        "extra-files": [
            {
                "type": "xml",
                "path": "ProperTea.User.csproj",
                "xpath": "//Project/PropertyGroup/Version",
            }
        ],
    }
    manifest = json.loads((repo.root / ".release-please-manifest.json").read_text())
    assert manifest["apps/services/ProperTea.User"] == "0.1.0"
    again = inv("release.config", cwd=repo.root)
    assert "nothing to do" in again.stdout
    assert inv("release.config", "--check", cwd=repo.root).returncode == 0


def test_config_keeps_repository_wide_options(repo: GitRepo) -> None:
    scaffold(repo)
    path = repo.root / "release-please-config.json"
    config = json.loads(path.read_text())
    config["bump-minor-pre-major"] = False
    config["packages"].pop(COMPANY)
    path.write_text(json.dumps(config))
    run_task("release.config", repo.root)
    regenerated = json.loads(path.read_text())
    assert regenerated["bump-minor-pre-major"] is False
    assert regenerated["packages"][COMPANY]["component"] == "company"


def test_config_check_catches_csproj_version_drift(repo: GitRepo) -> None:
    scaffold(repo)
    repo.write(f"{COMPANY}/ProperTea.Company.csproj", csproj("company", "0.2.0"))
    with pytest.raises(UserError) as info:
        run_task("release.config", repo.root, check=True)
    assert info.value.text == (
        "release-please files are out of date:\n"
        f"  {COMPANY}/ProperTea.Company.csproj: <Version> 0.2.0 differs from version.txt 0.1.0;"
        " set both to the released version"
    )


def test_obsolete_container_image_name_is_rejected(repo: GitRepo) -> None:
    scaffold(repo)
    repo.write(
        f"{COMPANY}/ProperTea.Company.csproj",
        "<Project><PropertyGroup><ContainerImageName>x</ContainerImageName>"
        "</PropertyGroup></Project>",
    )
    with pytest.raises(UserError, match=r"ContainerImageName is obsolete \(CONTAINER003"):
        run_task("release.config", repo.root, check=True)


def test_lint_commits_names_the_offending_commit(repo: GitRepo, inv: Inv) -> None:
    scaffold(repo)
    base = repo.git("rev-parse", "HEAD")
    repo.commit("feat(api): fine", f"{COMPANY}/A.cs")
    bad = repo.commit("Updated some stuff", f"{COMPANY}/B.cs")
    result = inv("release.lint-commits", f"{base}..HEAD", cwd=repo.root)
    assert result.returncode == 1
    assert f"1 problem(s) in {base}..HEAD:" in result.stderr
    assert (
        f"{bad[:7]}: 'Updated some stuff' is not a Conventional Commit header: expected "
        "`<type>[(scope)][!]: <description>`" in result.stderr
    )
    good = inv("release.lint-commits", f"{base}..HEAD~1", cwd=repo.root)
    assert good.returncode == 0 and "1 commit(s)" in good.stdout


def test_lint_commits_bad_range(repo: GitRepo) -> None:
    scaffold(repo)
    with pytest.raises(UserError) as info:
        run_task("release.lint-commits", repo.root, revisions="nope..HEAD")
    assert info.value.text.startswith("read the commits in nope..HEAD failed.")
    assert "`git fetch origin --tags`" in info.value.text and "fetch-depth: 0" in info.value.text


def test_next_from_an_unknown_revision_says_what_to_fetch(repo: GitRepo) -> None:
    scaffold(repo)
    with pytest.raises(UserError) as info:
        run_task("release.next", repo.root, rev="no-such-tag")
    assert info.value.text.startswith("read the commit history failed.")
    assert "try: is it a commit, branch or tag of this clone?" in info.value.text


@pytest.mark.parametrize("date", ["2024-13-45", "2024-02-30", "yesterday"])
def test_changelog_rejects_a_date_that_is_not_a_calendar_date(repo: GitRepo, date: str) -> None:
    scaffold(repo)
    with pytest.raises(UserError) as info:
        run_task("release.changelog", repo.root, date=date)
    assert info.value.text == f"--date {date!r}: expected a calendar date YYYY-MM-DD"
    assert info.value.code == 2


def test_lint_pr_title_from_the_environment(inv: Inv) -> None:
    bad = inv("release.lint-pr-title", env={"PR_TITLE": "WIP dashboard"})
    assert bad.returncode == 1
    assert "PR title rejected:\n  'WIP dashboard' is not a Conventional Commit header" in bad.stderr


def test_lint_pr_title(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_task("release.lint-pr-title", tmp_path, title="feat(web): tenant dashboard")
    with pytest.raises(UserError, match="spans several lines"):
        run_task("release.lint-pr-title", tmp_path, title="feat: a\nb")
    monkeypatch.delenv("PR_TITLE", raising=False)
    with pytest.raises(UserError) as info:
        run_task("release.lint-pr-title", tmp_path)
    assert (info.value.code, info.value.text) == (2, "no title: pass --title or set PR_TITLE")


def test_dry_run_writes_nothing(repo: GitRepo, inv: Inv) -> None:
    scaffold(repo, {"company": "1.0.0"})
    repo.tag("company-v1.0.0")
    repo.commit("fix: x", f"{COMPANY}/X.cs")
    changelog = repo.root / COMPANY / "CHANGELOG.md"
    result = inv("--dry", "release.changelog", "--component", "company", "--write", cwd=repo.root)
    assert result.returncode == 0, result.output
    assert f"# write {changelog}" in result.stdout
    assert not changelog.exists()


def test_bad_repo_option(repo: GitRepo) -> None:
    scaffold(repo)
    repo.commit("fix: x", f"{COMPANY}/X.cs")
    with pytest.raises(UserError) as info:
        run_task("release.changelog", repo.root, repo="not a repo")
    assert info.value.text == "--repo: 'not a repo' is not owner/name or a GitHub URL"
