"""Fixtures for the pure parts of the talos namespace: the real spec, settings in tmp."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from invoke.config import Config
from invoke.context import Context

from tasks.core.config import ClusterSpec, load_spec
from tasks.talos.settings import Settings
from tests.conftest import REPO


@pytest.fixture(scope="session")
def spec() -> ClusterSpec:
    return load_spec(REPO / "deploy" / "local-cluster" / "cluster.yaml").spec


def make_context(state_dir: Path, talos: dict[str, Any] | None = None) -> Context:
    return Context(Config(overrides={"state": {"dir": str(state_dir)}, "talos": talos or {}}))


@pytest.fixture
def make_settings(tmp_path: Path, spec: ClusterSpec) -> Callable[..., Settings]:
    def build(**talos: Any) -> Settings:
        return Settings.from_context(make_context(tmp_path / "state", talos), spec)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()
