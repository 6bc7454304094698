"""A build with pinned remote resources: not rendered, yet its pin, patches and CRDs count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CRDS_DIR = "deploy/infrastructure/gateway-api-crds"
RELEASE = (
    "https://github.com/kubernetes-sigs/gateway-api/releases/download/{}/standard-install.yaml"
)


def _remote_crds(root: Path, url: str, wave: int = -3) -> None:
    """The base tree's vendored Gateway API CRDs replaced by a reference to the release bundle."""
    directory = root / CRDS_DIR
    (directory / "crds.yaml").unlink()
    (directory / "kustomization.yaml").write_text(
        f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {url}\n"
    )
    (directory / "component.yaml").write_text(
        f"name: gateway-api-crds\nnamespace: kube-system\nwave: {wave}\nserverSideApply: true\n"
    )


def _found(result: Any) -> list[tuple[str, str]]:
    return sorted((p.check, p.path) for p in result.problems)


def test_a_pinned_release_bundle_provides_its_crds(base_tree: Path, validate: Any) -> None:
    _remote_crds(base_tree, RELEASE.format("v1.3.0"))
    result = validate(base_tree, ["manifests", "policies"])
    assert [str(p) for p in result.problems] == []
    assert any(CRDS_DIR in n and "validated by Argo CD at sync" in n for n in result.notes)


def test_the_provider_wave_still_orders_the_sync(base_tree: Path, validate: Any) -> None:
    _remote_crds(base_tree, RELEASE.format("v1.3.0"), wave=50)
    result = validate(base_tree, ["policies"])
    waves = [p for p in result.problems if p.check == "policy/sync-wave"]
    assert waves, [str(p) for p in result.problems]
    assert all(f"comes from {CRDS_DIR} in wave 50" in p.message for p in waves)


def test_a_tag_other_than_the_spec_is_reported(base_tree: Path, validate: Any) -> None:
    _remote_crds(base_tree, RELEASE.format("v1.2.0"))
    result = validate(base_tree, ["manifests"])
    assert [(p.check, p.path, p.line) for p in result.problems] == [
        ("manifests/remote-version", f"{CRDS_DIR}/kustomization.yaml", 4)
    ]
    assert "versions.gateway_api in the cluster spec is 1.3.0" in result.problems[0].message


@pytest.mark.parametrize("ref", ["?ref=main", ""])
def test_a_floating_reference_is_reported_and_provides_nothing(
    base_tree: Path, validate: Any, ref: str
) -> None:
    _remote_crds(base_tree, f"https://github.com/kubernetes-sigs/gateway-api//config/crd{ref}")
    result = validate(base_tree, ["manifests", "policies"])
    found = _found(result)
    assert ("manifests/remote-resource", f"{CRDS_DIR}/kustomization.yaml") in found
    assert ("policy/crd-installed", "deploy/services/demo/httproute.yaml") in found
    (remote,) = [p for p in result.problems if p.check == "manifests/remote-resource"]
    assert "pin it: append ?ref=<version tag or 40-hex commit>" in remote.message


def test_configured_remote_crds_extend_the_table(base_tree: Path, validate: Any) -> None:
    url = "https://example.com/gateway/releases/download/v9.9.9/bundle.yaml"
    _remote_crds(base_tree, url)
    without = validate(base_tree, ["policies"])
    assert ("policy/crd-installed", "deploy/services/demo/httproute.yaml") in _found(without)
    pattern = "https://example.com/gateway/releases/download/*/bundle.yaml"
    configured = validate(
        base_tree, ["policies"], remote_crds={pattern: ["gateway.networking.k8s.io"]}
    )
    assert [str(p) for p in configured.problems] == []


def test_local_files_of_an_unrendered_build_are_still_validated(
    base_tree: Path, validate: Any
) -> None:
    _remote_crds(base_tree, RELEASE.format("v1.3.0"))
    directory = base_tree / CRDS_DIR
    (directory / "extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\nspec: {}\n"
    )
    text = (directory / "kustomization.yaml").read_text()
    (directory / "kustomization.yaml").write_text(text + "  - extra.yaml\n")
    result = validate(base_tree, ["manifests"])
    assert [(p.check, p.path) for p in result.problems] == [
        ("manifests/schema", f"{CRDS_DIR}/extra.yaml")
    ]
