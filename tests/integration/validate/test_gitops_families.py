"""The families tasks/gitops/validation.py registers, on copies of the real deploy/ tree."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def real_deploy(tmp_path: Path) -> Path:
    if not (REPO / "deploy").is_dir():
        pytest.skip("no deploy/ tree in the repository")
    root = tmp_path / "repo"
    shutil.copytree(REPO / "deploy", root / "deploy")
    return root


def test_the_real_tree_has_no_drift_and_fits(real_deploy: Path, validate: Any) -> None:
    result = validate(real_deploy, ["generated", "capacity"])
    assert [str(p) for p in result.problems] == []


def test_a_drifting_tree_fails_with_the_file(real_deploy: Path, validate: Any) -> None:
    chart = real_deploy / "deploy/infrastructure/argocd/Chart.yaml"
    text = chart.read_text()
    assert "version: 10.3.3" in text
    chart.write_text(text.replace("version: 10.3.3", "version: 10.3.2"))
    result = validate(real_deploy, ["generated"])
    assert [(p.check, p.path, p.line) for p in result.problems] == [
        ("generated/drift", "deploy/infrastructure/argocd/Chart.yaml", 1)
    ]
    message = result.problems[0].message
    assert "versions.argocd_chart 10.3.3" in message
    assert "run `inv gitops.generate`" in message


def test_a_tree_over_budget_fails(real_deploy: Path, validate: Any) -> None:
    cluster = real_deploy / "deploy/platform/postgres/cluster.yaml"
    cluster.write_text(cluster.read_text().replace("memory: 384Mi", "memory: 2Gi"))
    result = validate(real_deploy, ["capacity"])
    assert [(p.check, p.path) for p in result.problems] == [("capacity/budget", "deploy")]
    message = result.problems[0].message
    assert message.startswith("stateful: requests ")
    assert "exceed the budget of 1536 MiB (largest: platform/postgres Cluster/pg" in message
