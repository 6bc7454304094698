"""capacity_report on small synthetic trees, with a render that returns prepared manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.core.config import ClusterSpec, load_spec
from tasks.deploytree.capacity import (
    STRATEGY_BUDGET,
    capacity_report,
    parse_cpu_millicores,
    parse_memory_mib,
)
from tests.conftest import REPO


@pytest.fixture(scope="session")
def spec() -> ClusterSpec:
    return load_spec(REPO / "deploy" / "local-cluster" / "cluster.yaml").spec


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))


def rollout(name: str, memory: str, replicas: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "template": {
            "spec": {"containers": [{"name": "app", "resources": {"requests": {"memory": memory}}}]}
        }
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name},
        "spec": spec,
    }


class Renders:
    """Prepared manifests per component directory; records what was rendered."""

    def __init__(self, docs: dict[str, list[dict[str, Any]]]) -> None:
        self.docs = docs
        self.calls: list[str] = []

    def __call__(self, path: Path) -> list[dict[str, Any]]:
        self.calls.append(path.name)
        return self.docs[path.name]


def kustomize_component(
    deploy: Path, layer: str, name: str, resources: list[str] | None = None
) -> None:
    write(deploy / layer / name / "component.yaml", {"name": name, "namespace": "x", "wave": 40})
    write(deploy / layer / name / "kustomization.yaml", {"resources": resources or ["r.yaml"]})


def chart_component(
    deploy: Path, layer: str, name: str, values: dict[str, Any], secrets: bool = False
) -> None:
    files = ["values.yaml", *(["secrets://secrets.yaml"] if secrets else [])]
    write(
        deploy / layer / name / "component.yaml",
        {"name": name, "namespace": "x", "wave": 30, "valueFiles": files},
    )
    write(
        deploy / layer / name / "Chart.yaml", {"apiVersion": "v2", "name": name, "version": "1.0.0"}
    )
    write(deploy / layer / name / "values.yaml", {name: values})


def test_quantities():
    assert parse_memory_mib("128Mi") == 128
    assert parse_memory_mib("1Gi") == 1024
    assert parse_memory_mib("536870912") == 512
    assert parse_memory_mib("1G") == pytest.approx(953.674, rel=1e-4)
    assert parse_cpu_millicores("50m") == 50
    assert parse_cpu_millicores("0.5") == 500
    assert parse_cpu_millicores(2) == 2000


@pytest.mark.parametrize("bad", ["12x", "100m", "", "Mi"])
def test_bad_memory_quantity_is_rejected(bad: str):
    with pytest.raises(ValueError, match="is not a memory quantity"):
        parse_memory_mib(bad)


def test_bad_cpu_quantity_is_rejected():
    with pytest.raises(ValueError, match="'1Gi' is not a CPU quantity"):
        parse_cpu_millicores("1Gi")


def test_a_tree_that_fits_is_summed_per_layer_category_and_role(tmp_path: Path, spec: ClusterSpec):
    deploy = tmp_path / "deploy"
    kustomize_component(deploy, "services", "shop")
    chart_component(
        deploy,
        "observability",
        "collector",
        {"mode": "daemonset", "resources": {"requests": {"memory": "100Mi", "cpu": "50m"}}},
    )
    chart_component(
        deploy,
        "platform",
        "redis",
        {
            "replicaCount": 2,
            "resources": {"requests": {"memory": "64Mi"}},
            "initJob": {"resources": {"requests": {"memory": "4Gi"}}},
            "storage": {"resources": {"requests": {"storage": "10Gi"}}},
        },
        secrets=True,
    )
    report = capacity_report(
        deploy, spec, Renders({"shop": [rollout("shop", "128Mi", replicas=2)]})
    )
    assert report.problems == []
    assert report.fits
    assert report.by_layer == {"services": 256, "observability": 200, "platform": 128}
    assert report.by_category == {"apps": 256, "observability": 200, "stateful": 128}
    assert report.by_role == {"worker": 584, "controlplane": 0}
    assert report.allocatable == {"worker": 2 * (8192 - 410), "controlplane": 4096 - 410}
    assert report.skipped == []


def test_a_tree_that_does_not_fit_names_every_overrun(tmp_path: Path, spec: ClusterSpec):
    deploy = tmp_path / "deploy"
    kustomize_component(deploy, "services", "shop")
    report = capacity_report(
        deploy,
        spec,
        Renders({"shop": [rollout("shop", "900Mi"), rollout("big", "8Gi", replicas=2)]}),
    )
    assert not report.fits
    assert report.problems == [
        "apps: requests 17284 MiB exceed the budget of 819 MiB "
        "(largest: services/shop Rollout/big 16384 MiB)",
        "worker nodes: requests 17284 MiB exceed the 15564 MiB allocatable "
        "(410 MiB overhead per node)",
        "services/shop Rollout/big: one pod requests 8192 MiB, "
        "more than a worker's 7782 MiB allocatable",
    ]


def test_rollout_without_replicas_counts_one_pod(tmp_path: Path, spec: ClusterSpec):
    deploy = tmp_path / "deploy"
    kustomize_component(deploy, "services", "shop")
    report = capacity_report(deploy, spec, Renders({"shop": [rollout("shop", "128Mi")]}))
    assert report.by_category == {"apps": 128}


def test_daemonset_tolerating_the_control_plane_counts_there_too(tmp_path: Path, spec: ClusterSpec):
    deploy = tmp_path / "deploy"
    kustomize_component(deploy, "infrastructure", "agent")
    daemonset = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "template": {
                "spec": {
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [{"name": "a", "resources": {"requests": {"memory": "50Mi"}}}],
                    "initContainers": [
                        {
                            "name": "sidecar",
                            "restartPolicy": "Always",
                            "resources": {"requests": {"memory": "10Mi"}},
                        },
                        {"name": "once", "resources": {"requests": {"memory": "1Gi"}}},
                    ],
                }
            }
        },
    }
    report = capacity_report(deploy, spec, Renders({"agent": [daemonset]}))
    assert report.by_role == {"worker": 120, "controlplane": 60}
    assert report.by_category == {"operators": 180}


def test_cnpg_cluster_counts_its_instances(tmp_path: Path, spec: ClusterSpec):
    deploy = tmp_path / "deploy"
    kustomize_component(deploy, "platform", "postgres")
    cluster = {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "pg"},
        "spec": {"instances": 3, "resources": {"requests": {"memory": "1Gi"}}},
    }
    report = capacity_report(deploy, spec, Renders({"postgres": [cluster]}))
    assert report.by_category == {"stateful": 3072}
    assert report.problems == [
        "stateful: requests 3072 MiB exceed the budget of 1536 MiB "
        "(largest: platform/postgres Cluster/pg 3072 MiB)"
    ]


def test_remote_kustomizations_are_skipped_without_rendering(tmp_path: Path, spec: ClusterSpec):
    deploy = tmp_path / "deploy"
    kustomize_component(deploy, "infrastructure", "crds", ["https://example.com/crds.yaml"])
    renders = Renders({})
    report = capacity_report(deploy, spec, renders)
    assert renders.calls == []
    assert report.skipped == ["infrastructure/crds"]
    assert report.fits


def test_a_platform_component_without_category_is_a_problem(tmp_path: Path, spec: ClusterSpec):
    deploy = tmp_path / "deploy"
    chart_component(deploy, "platform", "mystery", {"resources": {"requests": {"memory": "1Mi"}}})
    report = capacity_report(deploy, spec, Renders({}))
    assert report.problems == ["platform/mystery: no budget category for component 'mystery'"]


def test_a_bad_quantity_names_file_and_key(tmp_path: Path, spec: ClusterSpec):
    deploy = tmp_path / "deploy"
    chart_component(
        deploy, "observability", "loki", {"single": {"resources": {"requests": {"memory": "lots"}}}}
    )
    report = capacity_report(deploy, spec, Renders({}))
    assert report.problems == [
        "observability/loki: values.yaml: loki.single.resources: "
        "'lots' is not a memory quantity (e.g. 128Mi, 1Gi)"
    ]


def test_report_lines_show_budget_and_allocatable(tmp_path: Path, spec: ClusterSpec):
    deploy = tmp_path / "deploy"
    kustomize_component(deploy, "services", "shop")
    lines = capacity_report(deploy, spec, Renders({"shop": [rollout("shop", "128Mi")]})).lines()
    assert "  apps                 128 / 819" in lines
    assert "  worker               128 / 15564" in lines
    assert set(STRATEGY_BUDGET.categories) <= {line.split()[0] for line in lines[1:6]}
