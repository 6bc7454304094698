"""``gitops.generate`` and ``gitops.set-repo``: keep deploy/ derived from the cluster spec.

The gitops namespace imports these two tasks; the logic is in :mod:`tasks.deploytree.tree`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from invoke.tasks import task

from tasks.core.errors import ConfigError, UserError

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.operation import Op
    from tasks.deploytree.tree import FileChange


@task(
    help={
        "check": "change nothing: list every file that differs from the spec and exit 1 if any",
    }
)
def generate(c: Context, check: bool = False) -> None:
    """Rewrite everything in deploy/ that derives from cluster.yaml (patches, pool, Gateway...)."""
    from tasks.core import config
    from tasks.deploytree import tree

    loaded = config.load_spec(config.spec_path(c))
    changes = tree.generate(loaded.spec, tree.Workspace(_root(loaded.path)))
    if check:
        _report_drift(changes)
        return
    _apply(c, changes, "deploy/ already matches the cluster spec")


@task(
    name="set-repo",
    help={
        "repo_url": "the Git repository Argo CD pulls: https://, ssh:// or git@ (required)",
        "branch": "the branch Argo CD follows (default: keep gitops.branch)",
        "domain": "the public base domain, services are <name>.<domain> (default: keep it)",
    },
)
def set_repo(
    c: Context, repo_url: str | None = None, branch: str | None = None, domain: str | None = None
) -> None:
    """Point cluster.yaml and everything in deploy/ at another repository, branch or domain."""
    from pydantic import ValidationError

    from tasks.core import config
    from tasks.deploytree import tree

    if not repo_url:
        raise UserError(
            "gitops.set-repo needs --repo-url URL (e.g. https://github.com/me/propertea.git).",
            code=2,
        )
    if branch is not None and not _is_branch_name(branch):
        raise UserError(
            f"--branch {branch!r} is not a valid Git branch name (no spaces, '..', '~^:?*[\\', "
            "leading '-' or '/', trailing '/', '.' or '.lock'; see git check-ref-format).",
            code=2,
        )
    loaded = config.load_spec(config.spec_path(c))
    root = _root(loaded.path)
    try:
        _, changes = tree.set_repo(
            loaded.spec,
            tree.Workspace(root),
            repo_url=repo_url,
            branch=branch,
            domain=domain,
            spec_file=loaded.path.resolve().relative_to(root).as_posix(),
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"{loaded.path}: the new gitops settings are invalid: {problems}"
        ) from None
    _apply(c, changes, "cluster.yaml and deploy/ already use that repository")


def _is_branch_name(name: str) -> bool:
    """What ``git check-ref-format --branch`` accepts (Argo CD's targetRevision must resolve)."""
    import re

    if not name or name == "@" or name.startswith(("-", "/")) or name.endswith(("/", ".", ".lock")):
        return False
    if re.search(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//", name):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


def _root(spec_file: Path) -> Path:
    """The repository root: the spec lives at <root>/deploy/local-cluster/cluster.yaml."""
    resolved = spec_file.resolve()
    parents = resolved.parents
    if len(parents) >= 3 and resolved.parent.name == "local-cluster":
        return parents[2]
    raise ConfigError(
        f"{spec_file}: expected the cluster spec at <repository>/deploy/local-cluster/cluster.yaml "
        "so that deploy/ can be found beside it."
    )


def _report_drift(changes: list[FileChange]) -> None:
    if not changes:
        print("deploy/ matches the cluster spec: no drift.")
        return
    lines = "\n".join(f"  {change.describe()}" for change in changes)
    raise UserError(
        f"deploy/ has drifted from the cluster spec ({len(changes)} file(s)):\n{lines}\n"
        "Run `inv gitops.generate` to rewrite them."
    )


def _apply(c: Context, changes: list[FileChange], nothing: str) -> None:
    from tasks.core.runner import Runner

    Runner.from_context(c).converge(apply_changes(_root_of(c), changes, nothing))


def apply_changes(root: Path, changes: list[FileChange], nothing: str) -> Op[None]:
    """Each changed file written (or removed) and reported; ``nothing`` when none differ."""
    from tasks.core import operation as op
    from tasks.core.runner import Remove, WriteFile

    if not changes:
        yield op.Say(nothing)
        return
    for change in changes:
        path = root / change.path
        if change.after is None:
            yield Remove(path, step=change.describe())
        else:
            yield WriteFile(path, change.after, step=change.describe())
        yield op.Report(change.describe())


def _root_of(c: Context) -> Path:
    from tasks.core import config

    return _root(config.spec_path(c))
