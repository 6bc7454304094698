"""The real deploy/ tree (and workflows, Dockerfiles) must pass every built-in family."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]


def test_real_tree_passes(tmp_path: Path, validate: Any) -> None:
    if not (REPO / "deploy").is_dir():
        pytest.skip("no deploy/ tree in the repository")
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("deploy", ".github", "apps", ".yamllint", ".hadolint.yaml"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(
                src, root / name, ignore=shutil.ignore_patterns("node_modules", "bin", "obj")
            )
        elif src.is_file():
            shutil.copy2(src, root / name)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    result = validate(root)
    assert [str(p) for p in result.problems] == []
