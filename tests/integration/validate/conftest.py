"""Fixtures for the validation engine: a copy of a tree, run with the shared reference schemas."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.core.runner import Runner
from tasks.validate.engine import Workspace, run
from tasks.validate.model import Result
from tasks.validate.registry import BUILTIN
from tasks.validate.settings import Settings

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "validate"
#: Every built-in family (plugins registered by other namespaces are not this suite's business).
MY_FAMILIES = list(BUILTIN)


@pytest.fixture(scope="session")
def render_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("validate-cache")


def settings_for(shared: Path, cache: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "shared_schemas": shared,
        "schema_dir": shared / "crds",
        "talos_schema_dir": shared / "talos",
        "cache_dir": cache,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


Validate = Callable[..., Result]


@pytest.fixture
def validate(shared_schemas: Path, render_cache: Path) -> Validate:
    """Run families over a tree: ``validate(root, ["manifests"], paths=[...], **settings)``."""

    def _run(
        root: Path,
        families: list[str] | None = None,
        paths: list[str] | None = None,
        **overrides: object,
    ) -> Result:
        ws = Workspace(
            None,
            root=root,
            settings=settings_for(shared_schemas, render_cache, **overrides),
            runner=Runner(),
            paths=paths,
        )
        return run(ws, families or MY_FAMILIES)

    return _run


@pytest.fixture
def base_tree(tmp_path: Path) -> Path:
    """A copy of the valid fixture tree, as a git repository (yamllint and friends expect one)."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "base", root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def real_deploy(tmp_path: Path) -> Path:
    """A copy of the repository's deploy/ tree (tests plant changes in it)."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "deploy", root / "deploy")
    return root
