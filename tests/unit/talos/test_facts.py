"""Probes and parsers: bundle state, node mode, Talos version, CRD layout, Cilium values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.core.errors import ConfigError, UserError
from tasks.talos import facts
from tasks.talos.settings import Settings


def test_bundle_state(tmp_path: Path) -> None:
    bundle = tmp_path / "secrets.yaml"
    assert facts.bundle_state(bundle) is facts.Bundle.MISSING
    bundle.write_text("cluster:\n  id: x\n")
    assert facts.bundle_state(bundle) is facts.Bundle.PLAINTEXT
    bundle.write_text("cluster:\n    id: ENC[AES256_GCM,data:x]\nsops:\n    age: []\n")
    assert facts.bundle_state(bundle) is facts.Bundle.ENCRYPTED


def test_plaintext_bundle_is_refused_with_the_fix(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(secrets_file=str(tmp_path / "secrets.yaml"))
    settings.secrets_file.write_text("cluster: {}\n")
    with pytest.raises(UserError, match=r"is NOT sops-encrypted.*sops --encrypt --in-place"):
        facts.require_encrypted_bundle(settings)


def test_missing_bundle_points_at_talos_secrets(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(secrets_file=str(tmp_path / "none.yaml"))
    with pytest.raises(UserError, match=r"run `inv talos.secrets` first"):
        facts.require_encrypted_bundle(settings)


def test_missing_patches_are_listed(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "common.yaml").write_text("machine: {}\n")
    settings = make_settings(patches_dir=str(tmp_path / "p"))
    with pytest.raises(ConfigError) as excinfo:
        facts.require_patches(settings)
    text = excinfo.value.text
    missing = text.split("missing: ")[1].split(". ")[0]
    assert missing == f"{tmp_path}/p/controlplane.yaml, {tmp_path}/p/worker.yaml"
    assert "talos.patches_dir" in text


SERVER_OUTPUT = """Client:
\tTag:         v1.13.9
\tSHA:         abc
Server:
\tNODE:        192.168.50.11
\tTag:         v1.13.8
\tSHA:         def
"""


def test_server_version_reads_the_server_not_the_client() -> None:
    assert facts.server_version(SERVER_OUTPUT) == "1.13.8"
    assert facts.server_version("Client:\n\tTalos v1.13.9\nServer:\n\tTalos v1.12.4\n") == "1.12.4"
    assert facts.server_version("Client:\n\tTag: v1.13.9\n") is None


def test_gateway_api_crds_layouts(tmp_path: Path) -> None:
    kustomized = tmp_path / "k"
    kustomized.mkdir()
    (kustomized / "kustomization.yaml").write_text("resources: []\n")
    assert facts.gateway_api_crds(kustomized) == facts.CrdSource(kustomized, ())
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in ("component.yaml", "b.yaml", "a.yml", "notes.txt"):
        (plain / name).write_text("x: 1\n")
    assert facts.gateway_api_crds(plain).files == (plain / "a.yml", plain / "b.yaml")
    single = plain / "b.yaml"
    assert facts.gateway_api_crds(single) == facts.CrdSource(None, (single,))


def test_gateway_api_crds_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"Gateway API CRDs not found at .*talos.gateway_api_crds"
    ):
        facts.gateway_api_crds(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "component.yaml").write_text("name: x\n")
    with pytest.raises(ConfigError, match=r"neither a kustomization.yaml nor manifests"):
        facts.gateway_api_crds(tmp_path / "empty")


def test_upstream_values_from_a_wrapper_chart() -> None:
    chart = {"dependencies": [{"name": "cilium", "version": "1.18.6", "repository": "x"}]}
    assert facts.upstream_values({"cilium": {"ipam": {"mode": "kubernetes"}}}, chart) == (
        {"ipam": {"mode": "kubernetes"}},
        "1.18.6",
    )
    aliased = {"dependencies": [{"name": "cilium", "alias": "cni", "version": "1.18.6"}]}
    assert facts.upstream_values({"cni": {"a": 1}}, aliased) == ({"a": 1}, "1.18.6")
    assert facts.upstream_values({"a": 1}, {"dependencies": [{"name": "other"}]}) == (None, None)


def test_cilium_values_written_for_the_upstream_chart(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    component = tmp_path / "cilium"
    component.mkdir()
    (component / "values.yaml").write_text("cilium:\n  # comment\n  kubeProxyReplacement: true\n")
    (component / "Chart.yaml").write_text(
        "apiVersion: v2\nname: cilium\nversion: 1.0.0\n"
        "dependencies:\n  - name: cilium\n    version: 1.18.6\n    repository: https://helm.cilium.io/\n"
    )
    settings = make_settings(cilium_values=str(component / "values.yaml"))
    values = facts.cilium_values(settings)
    assert values.path == settings.state.path("cilium-values.yaml")
    assert values.content == '{\n  "kubeProxyReplacement": true\n}\n'
    assert values.pinned == "1.18.6"
    (component / "Chart.yaml").unlink()
    assert facts.cilium_values(settings) == facts.CiliumValues(
        component / "values.yaml", None, None
    )


def test_cilium_values_missing(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings(cilium_values=str(tmp_path / "values.yaml"))
    with pytest.raises(ConfigError, match=r"Cilium values not found at .*talos.cilium_values"):
        facts.cilium_values(settings)


# -- node mode through the fake talosctl -------------------------------------------------------
