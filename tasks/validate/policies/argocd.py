"""Argo CD: the spec's repository and branch, paths that exist, unique Application names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tasks.validate.model import Doc
from tasks.validate.policies.base import (
    Context,
    Rule,
    app_specs,
    dig,
    templated,
)

REPO_URL = Rule(
    "policy/repo-url",
    "Argo CD pulls from the spec's repository and branch",
)
APP_PATH = Rule(
    "policy/app-path",
    "Argo CD sources point at paths and values files that exist",
)
APP_UNIQUE = Rule(
    "policy/app-unique",
    "Application names are unique",
)


def _sources(spec: dict[str, Any]) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    if isinstance(spec.get("source"), dict):
        yield ["source"], spec["source"]
    for i, src in enumerate(spec.get("sources") or []):
        if isinstance(src, dict):
            yield ["sources", i], src


def argocd(ctx: Context, objects: list[Doc]) -> None:
    root = ctx.ws.root
    names: dict[str, str] = {}
    for directory, data in ctx.components.items():
        if isinstance(data.get("name"), str):
            names[data["name"]] = f"{directory}/component.yaml"
    for doc in objects:
        if doc.group != "argoproj.io" or doc.kind not in ("Application", "ApplicationSet"):
            continue
        base = ["spec"] if doc.kind == "Application" else ["spec", "template", "spec"]
        if doc.kind == "Application":
            where = f"{doc.path}:{doc.line}"
            if doc.name in names and names[doc.name] != where:
                ctx.report(
                    doc,
                    APP_UNIQUE,
                    f"Application name {doc.name!r} is also used by {names[doc.name]}",
                    ["metadata", "name"],
                )
            names.setdefault(doc.name, where)
        for spec in app_specs(doc):
            for sub, src in _sources(spec):
                _check_source(ctx, doc, [*base, *sub], src, root)
        if doc.kind == "ApplicationSet":
            for g, gen in enumerate(dig(doc.data, "spec", "generators") or []):
                for path, git in _git_generators(gen, ["spec", "generators", g]):
                    _check_git_generator(ctx, doc, path, git, root)


def _git_generators(gen: Any, path: list[Any]) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    if not isinstance(gen, dict):
        return
    if isinstance(gen.get("git"), dict):
        yield [*path, "git"], gen["git"]
    for kind in ("matrix", "merge"):
        for i, inner in enumerate(dig(gen, kind, "generators") or []):
            yield from _git_generators(inner, [*path, kind, "generators", i])


def _check_repo(
    ctx: Context, doc: Doc, path: list[Any], repo: Any, *, revision: Any, revision_key: str
) -> None:
    if ctx.spec is None or templated(repo):
        return
    gitops = ctx.spec.gitops
    if repo != gitops.repo_url:
        ctx.report(
            doc,
            REPO_URL,
            f"repoURL {repo!r} is not the spec's gitops.repo_url {gitops.repo_url!r}",
            [*path, "repoURL"],
        )
    elif (
        revision is not None and not templated(revision) and revision not in (gitops.branch, "HEAD")
    ):
        ctx.report(
            doc,
            REPO_URL,
            f"targetRevision {revision!r} is not the spec's branch {gitops.branch!r}",
            [*path, revision_key],
        )


def _check_source(ctx: Context, doc: Doc, path: list[Any], src: dict[str, Any], root: Path) -> None:
    if "chart" in src:
        return  # a Helm repository source: the chart is pinned by version, not a git path
    _check_repo(
        ctx,
        doc,
        path,
        src.get("repoURL"),
        revision=src.get("targetRevision"),
        revision_key="targetRevision",
    )
    source_path = src.get("path")
    if isinstance(source_path, str) and not templated(source_path):
        if not (root / source_path).is_dir():
            ctx.report(
                doc,
                APP_PATH,
                f"path {source_path!r} does not exist in the repository",
                [*path, "path"],
            )
            return
        for i, vf in enumerate(dig(src, "helm", "valueFiles") or []):
            if not isinstance(vf, str) or templated(vf):
                continue
            target = root / source_path / vf.removeprefix("secrets://")
            template = target.with_name(target.name.replace(".yaml", ".template.yaml"))
            if not target.exists() and not (vf.startswith("secrets://") and template.exists()):
                ctx.report(
                    doc,
                    APP_PATH,
                    f"values file {vf!r} does not exist",
                    [*path, "helm", "valueFiles", i],
                )


def _check_git_generator(
    ctx: Context, doc: Doc, path: list[Any], git: dict[str, Any], root: Path
) -> None:
    _check_repo(
        ctx, doc, path, git.get("repoURL"), revision=git.get("revision"), revision_key="revision"
    )
    for kind, want_dir in (("directories", True), ("files", False)):
        for i, entry in enumerate(git.get(kind) or []):
            pattern = entry.get("path") if isinstance(entry, dict) else None
            if not isinstance(pattern, str) or entry.get("exclude") or templated(pattern):
                continue
            matches = [p for p in root.glob(pattern) if p.is_dir() == want_dir]
            if not matches:
                ctx.report(
                    doc,
                    APP_PATH,
                    f"git generator {kind} path {pattern!r} matches nothing in the repository",
                    [*path, kind, i, "path"],
                )
