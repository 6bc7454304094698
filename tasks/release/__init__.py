"""``inv release.*``: what release-please will do, computed on this machine.

``release.config`` generates release-please's config and manifest from ``apps/``;
``release.next`` and ``release.changelog`` read the git history the way release-please does;
``release.lint-commits`` and ``release.lint-pr-title`` keep messages Conventional.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.tasks import task

from tasks.core import console
from tasks.core.errors import UserError

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.runner import Runner
    from tasks.release.changelog import Repo
    from tasks.release.releases import Release
    from tasks.release.settings import PackageSettings


def repo_root() -> Path:
    """Release tasks work on the repository they run in (Invoke runs them from its root)."""
    return Path.cwd()


def _is_date(text: str) -> bool:
    import re
    from datetime import date

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _today() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d")


def resolve_repo(runner: Runner, root: Path, explicit: str | None) -> Repo:
    """--repo, then GITHUB_REPOSITORY (CI), then apps/Directory.Build.props, then origin."""
    from tasks.release import facts
    from tasks.release.components import repository_url
    from tasks.release.releases import parse_repo

    candidates = [
        ("--repo", explicit),
        ("GITHUB_REPOSITORY", os.environ.get("GITHUB_REPOSITORY")),
        ("RepositoryUrl in apps/Directory.Build.props", repository_url(root)),
    ]
    for source, value in candidates:
        if value:
            repo = parse_repo(value)
            if repo is None:
                raise UserError(f"{source}: {value!r} is not owner/name or a GitHub URL")
            return repo
    origin = facts.origin_url(runner, root)
    repo = parse_repo(origin) if origin else None
    if repo is None:
        raise UserError(
            "Cannot tell which GitHub repository the changelog links to: pass --repo OWNER/NAME "
            "or set RepositoryUrl in apps/Directory.Build.props."
        )
    return repo


def _settings(root: Path, names: list[str] | None) -> list[PackageSettings]:
    from tasks.release import settings as rs
    from tasks.release.components import discover, select

    components = select(discover(root), names)
    config = rs.read_json(root / rs.CONFIG_FILE)
    if config is None:
        raise UserError(f"{rs.CONFIG_FILE} is missing: run `inv release.config` first.")
    manifest = rs.read_json(root / rs.MANIFEST_FILE) or {}
    return rs.package_settings(config, manifest, components)


def compute_releases(
    runner: Runner,
    root: Path,
    names: list[str] | None,
    *,
    repo: Repo,
    date: str,
    rev: str = "HEAD",
) -> list[Release]:
    from tasks.release import facts
    from tasks.release.releases import next_release

    facts.ensure_repo(runner, root)
    packages = _settings(root, names)
    all_paths = [p.path for p in _settings(root, None)]
    commits = facts.history(runner, root, rev)
    owners = [facts.attribute(c.files, all_paths) for c in commits]
    reachable = {c.sha for c in commits}
    all_tags = facts.tags(runner, root)
    releases = []
    for package in packages:
        latest = facts.latest_tag(all_tags, package.tag_prefix, reachable)
        excluded = facts.ancestors(all_tags[latest[0]], commits) if latest else set()
        raw = facts.commits_since(commits, owners, package.path, excluded)
        releases.append(next_release(package, raw, latest, repo=repo, date=date))
    return releases


@task(help={"check": "fail when the committed files are out of date instead of writing them"})
def config(c: Context, check: bool = False) -> None:
    """Generate release-please-config.json and .release-please-manifest.json from apps/."""
    from tasks.core.runner import Runner
    from tasks.release import facts
    from tasks.release.components import discover
    from tasks.release.plan import config_plan
    from tasks.release.settings import CONFIG_FILE, MANIFEST_FILE, drift

    root = repo_root()
    components = discover(root)
    if check:
        problems = drift(root, components)
        if problems:
            raise UserError("release-please files are out of date:\n  " + "\n  ".join(problems))
        console.ok(f"release-please config matches apps/ ({len(components)} components)")
        return
    current = facts.file_texts([root / CONFIG_FILE, root / MANIFEST_FILE])
    plan = config_plan(root, components, current)
    if not plan:
        console.ok("release-please config already matches apps/: nothing to do")
        return
    Runner.from_context(c).execute(plan)
    for step in plan:
        console.info(f"wrote {step.path.relative_to(root)}")


@task(
    name="next",
    iterable=["component"],
    help={
        "component": "only this component (repeatable; default: all)",
        "json": "print JSON: {component: {path, current, next, tag, commits, release}}",
        "rev": "the commit to release from (default HEAD)",
    },
)
def next_(
    c: Context, component: list[str] | None = None, json: bool = False, rev: str | None = None
) -> None:
    """The next version of each component by release-please's rules."""
    from tasks.core.runner import Runner
    from tasks.release.changelog import Repo

    runner = Runner.from_context(c)
    releases = compute_releases(
        runner,
        repo_root(),
        component or None,
        # Links do not matter for versions: skip looking the repository up.
        repo=Repo("owner", "repo"),
        date=_today(),
        rev=rev or "HEAD",
    )
    if json:
        console.print_json({r.component: r.summary() for r in releases})
        return
    console.table(
        ["component", "current", "next", "tag", "commits", "release"],
        [
            (r.component, r.current or "-", r.next, r.tag, r.commits, "yes" if r.release else "no")
            for r in releases
        ],
    )


@task(
    iterable=["component"],
    help={
        "component": "only this component (repeatable; default: every component with a release)",
        "write": "prepend the entry to the component's CHANGELOG.md instead of printing it",
        "repo": "GitHub OWNER/NAME for links (default: GITHUB_REPOSITORY, apps/, origin)",
        "date": "release date YYYY-MM-DD (default: today, UTC)",
    },
)
def changelog(
    c: Context,
    component: list[str] | None = None,
    write: bool = False,
    repo: str | None = None,
    date: str | None = None,
) -> None:
    """The CHANGELOG entry release-please would write, printed or prepended."""
    from tasks.core.runner import Runner
    from tasks.release import facts
    from tasks.release.plan import changelog_plan

    if date is not None and not _is_date(date):
        raise UserError(f"--date {date!r}: expected a calendar date YYYY-MM-DD", code=2)
    runner = Runner.from_context(c)
    root = repo_root()
    releases = compute_releases(
        runner,
        root,
        component or None,
        repo=resolve_repo(runner, root, repo),
        date=date or _today(),
    )
    chosen = [r for r in releases if r.release]
    if not chosen:
        names = ", ".join(r.component for r in releases)
        console.info(f"no user-facing changes since the last release of {names}: nothing to do")
        return
    if not write:
        print("\n\n".join(r.notes for r in chosen))
        return
    packages = _settings(root, [r.component for r in chosen])
    files = {p.component: root / p.path / p.changelog_path for p in packages}
    current = facts.file_texts(files.values())
    runner.execute(
        [changelog_plan(files[r.component], current.get(files[r.component], ""), r) for r in chosen]
    )
    for r in chosen:
        console.info(f"{r.component}: CHANGELOG entry for {r.next}")


@task(
    name="lint-commits",
    positional=["revisions"],
    help={"revisions": "git revision range to check (default: origin/main..HEAD)"},
)
def lint_commits(c: Context, revisions: str | None = None) -> None:
    """Reject commits whose message is not a Conventional Commit (merge commits are skipped)."""
    from tasks.core.runner import Runner
    from tasks.core.taskhelp import asked_for_help
    from tasks.release import facts
    from tasks.release.conventional import lint_message

    if asked_for_help(revisions, "release", lint_commits):
        return
    runner = Runner.from_context(c)
    root = repo_root()
    revision_range = revisions or "origin/main..HEAD"
    commits = facts.range_messages(runner, root, revision_range)
    problems = [f"{raw.sha[:7]}: {p}" for raw in commits for p in lint_message(raw.message)]
    if problems:
        raise UserError(
            f"{len(problems)} problem(s) in {revision_range}:\n  "
            + "\n  ".join(problems)
            + "\nReword with `git rebase -i` (or squash-merge with a conventional PR title)."
        )
    console.ok(f"{len(commits)} commit(s) in {revision_range} are Conventional Commits")


@task(
    name="lint-pr-title",
    help={"title": "the pull request title (default: $PR_TITLE, as the workflow passes it)"},
)
def lint_pr_title(c: Context, title: str | None = None) -> None:  # noqa: ARG001
    """Reject a PR title that is not a Conventional Commit header (it becomes the squash commit)."""
    from tasks.release.conventional import lint_message

    text = title if title is not None else os.environ.get("PR_TITLE")
    if text is None:
        raise UserError("no title: pass --title or set PR_TITLE", code=2)
    if "\n" in text.strip():
        raise UserError(f"PR title {text!r} spans several lines: use one line", code=1)
    problems = lint_message(text)
    if problems:
        raise UserError("PR title rejected:\n  " + "\n  ".join(problems))
    console.ok(f"PR title is a Conventional Commit header: {text}")


ns = Collection("release", config, next_, changelog, lint_commits, lint_pr_title)
