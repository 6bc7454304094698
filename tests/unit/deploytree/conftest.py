"""A private copy of the repository's deploy/ tree and cluster spec for each test."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from invoke.config import Config
from invoke.context import Context
from ruamel.yaml import YAML

from tasks.core.config import ClusterSpec, load_spec
from tasks.deploytree import tree

REPO = Path(__file__).resolve().parents[3]
SPEC = "deploy/local-cluster/cluster.yaml"

#: Versions verified upstream (the report lists the sources); the committed tree pins these.
VERIFIED_VERSIONS = {
    "talos": "1.13.9",
    "kubernetes": "1.36.3",
    "cilium": "1.20.2",
    "gateway_api": "1.6.1",
    "argocd_chart": "10.3.3",
}

#: Files this part of the tree owns (others' components may legitimately lag behind a spec edit).
OWNED = (
    "deploy/local-cluster/",
    "deploy/infrastructure/",
    "deploy/bootstrap/",
)


def set_versions(text: str, versions: dict[str, str]) -> str:
    """The spec text with ``versions.<key>`` lines replaced (comments and layout untouched)."""
    lines = text.splitlines(keepends=True)
    in_versions = False
    for i, line in enumerate(lines):
        if line.startswith("versions:"):
            in_versions = True
        elif in_versions and line and not line.startswith((" ", "#")):
            in_versions = False
        if in_versions and line.startswith("  ") and not line.startswith("    "):
            key = line.strip().split(":", 1)[0]
            if key in versions:
                lines[i] = f"  {key}: {versions[key]}\n"
    return "".join(lines)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository root holding a copy of deploy/ whose spec carries the verified versions."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "deploy", root / "deploy")
    spec_file = root / SPEC
    spec_file.write_text(set_versions(spec_file.read_text(), VERIFIED_VERSIONS))
    return root


@pytest.fixture
def edit_spec(repo: Path) -> Callable[[Callable[[str], str]], ClusterSpec]:
    """Edit the copy's cluster.yaml as text and return the reloaded (validated) spec."""

    def edit(change: Callable[[str], str]) -> ClusterSpec:
        spec_file = repo / SPEC
        spec_file.write_text(change(spec_file.read_text()))
        return load_spec(spec_file).spec

    return edit


@pytest.fixture
def context(repo: Path) -> Callable[..., Context]:
    """An Invoke context pointing at the copy's spec; ``dry=True`` acts like ``inv --dry``."""

    def make(*, dry: bool = False) -> Context:
        return Context(
            Config(overrides={"cluster": {"file": str(repo / SPEC)}, "run": {"dry": dry}})
        )

    return make


def docs(path: Path) -> list[Any]:
    return list(YAML(typ="safe").load_all(path.read_text()))


def write_changes(root: Path, changes: list[tree.FileChange]) -> list[tree.FileChange]:
    """Write (or delete) what a generation returned, as the gitops tasks do."""
    for change in changes:
        target = root / change.path
        if change.after is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(change.after)
    return changes
