"""Kustomize builds rendered in parallel batches: same objects whatever the worker count,
each build's own objects, and a failing build's error on that build."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.core.runner import Command, Result, Runner
from tasks.validate.tree import _batches, _split_batch, read_tree


def write_build(root: Path, name: str, *, namespace: str = "apps", broken: bool = False) -> None:
    directory = root / "deploy" / "services" / name
    directory.mkdir(parents=True)
    (directory / "component.yaml").write_text(f"name: {name}\nnamespace: {namespace}\n")
    (directory / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        f"namespace: {namespace}\n"
        f"namePrefix: {name}-\n"
        f"resources:\n  - {'missing.yaml' if broken else 'objects.yaml'}\n"
    )
    (directory / "objects.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n"
        f"  owner: {name}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n"
        "  ports:\n    - port: 80\n"
    )


def renders(root: Path, workers: int, cache: Path | None = None) -> dict[str, list[Any]]:
    tree = read_tree(root, Runner(), spec_path="", cache_dir=cache, workers=workers)
    return {d: [doc.data for doc in docs] for d, docs in tree.renders.items()}


def alone(root: Path, directory: str) -> list[Any]:
    out = subprocess.run(
        ["kubectl", "kustomize", directory], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    return list(yaml.safe_load_all(out))


def by_identity(objects: list[Any]) -> list[Any]:
    return sorted(objects, key=lambda o: (o["kind"], o["metadata"]["name"]))


@pytest.fixture
def tree_of_builds(tmp_path: Path) -> Path:
    for i in range(7):
        write_build(tmp_path, f"svc{i}")
    return tmp_path


def test_same_objects_whatever_the_worker_count(tree_of_builds: Path) -> None:
    one = renders(tree_of_builds, 1)
    assert len(one) == 7
    assert renders(tree_of_builds, 2) == one
    assert renders(tree_of_builds, 4) == one
    assert list(one) == sorted(one)  # builds in a stable order
    for directory, objects in one.items():
        # Each build gets exactly its own objects, as kubectl renders it alone.
        assert by_identity(objects) == by_identity(alone(tree_of_builds, directory))
        name = directory.rsplit("/", 1)[1]
        assert {o["metadata"]["name"] for o in objects} == {f"{name}-settings", f"{name}-web"}


def test_cached_renders_equal_fresh_ones(tree_of_builds: Path, tmp_path_factory: Any) -> None:
    cache = tmp_path_factory.mktemp("cache")
    fresh = renders(tree_of_builds, 2, cache)
    assert len(list((cache / "kustomize").glob("*.yaml"))) == 7
    assert renders(tree_of_builds, 2, cache) == fresh


class CountingRunner(Runner):
    """The real runner, counting kubectl runs."""

    def __init__(self) -> None:
        super().__init__()
        self.kubectl = 0

    def check(self, command: Command) -> Result:
        self.kubectl += command.argv[0] == "kubectl"
        return super().check(command)


def test_a_failing_build_is_reported_on_itself(tree_of_builds: Path) -> None:
    write_build(tree_of_builds, "broken", broken=True)
    runner = CountingRunner()
    tree = read_tree(tree_of_builds, runner, spec_path="", cache_dir=None, workers=1)
    # One batch of 8 fails; halving isolates the broken build in 2 * log2(8) - 1 more runs.
    assert runner.kubectl == 1 + 2 + 2 + 2
    problems = [p for p in tree.problems if p.check == "manifests/kustomize"]
    assert [p.path for p in problems] == ["deploy/services/broken/kustomization.yaml"]
    assert "missing.yaml" in problems[0].message
    assert "kubectl kustomize failed" in problems[0].message
    assert len(tree.renders) == 7  # the others still rendered, with their own objects
    assert all(len(objects) == 2 for objects in tree.renders.values())


def test_builds_defining_the_same_object_render_apart(tmp_path: Path) -> None:
    # Same namespace and names: one kubectl over both would refuse the duplicate id.
    for name in ("a", "b"):
        write_build(tmp_path, name)
        kustomization = tmp_path / "deploy/services" / name / "kustomization.yaml"
        kustomization.write_text(kustomization.read_text().replace(f"namePrefix: {name}-\n", ""))
    rendered = renders(tmp_path, 1)
    assert [len(v) for v in rendered.values()] == [2, 2]


def test_batches_use_every_worker_and_keep_order() -> None:
    dirs = [f"d{i:03}" for i in range(100)]
    for workers in (1, 2, 3):
        batches = _batches(dirs, workers)
        assert [d for b in batches for d in b] == dirs
        assert len(batches) >= min(workers, len(dirs))
        assert max(len(b) for b in batches) <= 32
    assert _batches(["a"], 4) == [["a"]]
    assert _batches([], 2) == []


def test_split_refuses_output_without_its_markers() -> None:
    marker = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: propertea-validate-batch-{}\n"
    good = f"kind: A\n---\n{marker.format(0)}---\n{marker.format(1)}---\nkind: C\n---\n"
    good += marker.format(2)
    assert _split_batch(good, 3) == ["kind: A\n", "", "kind: C\n"]
    assert _split_batch(good, 4) is None
    assert _split_batch("kind: A\n", 1) is None
