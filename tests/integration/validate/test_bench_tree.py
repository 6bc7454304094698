"""The validate benchmark's large trees: copies differ in content and still validate clean."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from benchmarks._treecopy import build_tree, renamer
from tests.integration.validate.conftest import Validate

REPO = Path(__file__).resolve().parents[3]
FAMILIES = ["cluster", "manifests", "values", "talos", "policies", "secrets"]


def test_renamer_renames_whole_names_only() -> None:
    rename = renamer({"user", "propertea"}, "-x1")
    assert rename("user") == "user-x1"
    assert rename("user-") == "user-x1-"  # a namePrefix
    assert rename("value: user\n") == "value: user-x1\n"  # inside an inline patch
    for kept in ("user-client-cert", "ghcr.io/propertea/user", "users", "user.yaml", "superuser"):
        assert rename(kept) == kept


def rendered(root: Path, directory: str) -> str:
    return subprocess.run(
        ["kubectl", "kustomize", directory], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def test_copies_differ_in_content_and_validate_clean(tmp_path: Path, validate: Validate) -> None:
    build_tree(REPO, tmp_path, 2)
    deploy = tmp_path / "deploy"
    copies = sorted(p.parent for p in deploy.glob("*/*-x1/component.yaml"))
    originals = sorted(p.parent for p in deploy.glob("*/*/component.yaml") if "-x1" not in str(p))
    assert len(copies) == len(originals) > 10
    for copy in copies:
        original = copy.with_name(copy.name.removesuffix("-x1"))
        component = yaml.safe_load((copy / "component.yaml").read_text())
        assert (
            component["name"]
            == yaml.safe_load((original / "component.yaml").read_text())["name"] + "-x1"
        )
        for path in original.rglob("*.yaml"):
            if path.name.startswith("secrets") and path.name != "secrets.template.yaml":
                continue
            twin = copy / path.relative_to(original)
            if "metadata:" in path.read_text():
                # Every manifest names something, and that name is renamed in the copy.
                assert twin.read_text() != path.read_text(), twin
    # Renders differ (the content-keyed render cache cannot share them): names and hostnames.
    user = rendered(tmp_path, "deploy/services/user")
    user_copy = rendered(tmp_path, "deploy/services/user-x1")
    assert "name: user-x1-" in user_copy and "namespace: propertea-x1" in user_copy
    assert user_copy != user
    route = rendered(tmp_path, "deploy/infrastructure/argocd-route-x1")
    assert "argocd-x1.lab.propertea.dev" in route
    # A Service another component's chart creates is still the backend.
    assert "name: argocd-server\n" in route
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = validate(tmp_path, FAMILIES)
    assert [str(p) for p in result.problems] == []
    # Twice the components, so about twice the documents (bootstrap and Talos are not copied).
    build_tree(REPO, tmp_path / "single", 1)
    single = validate(tmp_path / "single", FAMILIES)
    assert result.documents > 1.5 * single.documents
