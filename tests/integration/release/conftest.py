"""Fixtures: a fresh git repository per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.release.gitrepo import GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[GitRepo]:
    root = tmp_path / "mono"
    root.mkdir()
    yield GitRepo(root)
