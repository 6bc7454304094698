"""`inv talos.config`: the committed patches, the per-node patch, the decrypted bundle's life."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_SCHEMAS
from tests.integration.talos.conftest import CP, INSTALLER, VERSIONS, Workspace

pytestmark = pytest.mark.integration


def test_generates_patches_and_validates_every_node(ws: Workspace) -> None:
    ws.encrypt_bundle()
    result = ws.inv("talos.config")
    assert result.returncode == 0, result.output
    cfg = ws.config_dir
    decrypted = ws.cluster_state / "secrets.decrypted.yaml"
    expected = [
        [
            "gen", "config", "propertea-local", f"https://{CP}:6443",
            "--with-secrets", str(decrypted),
            "--install-image", INSTALLER,
            "--install-disk", "/dev/vda",
            "--kubernetes-version", VERSIONS.kubernetes,
            "--talos-version", "v1.13",
            "--config-patch", "@deploy/local-cluster/patches/common.yaml",
            "--config-patch-control-plane", "@deploy/local-cluster/patches/controlplane.yaml",
            "--config-patch-worker", "@deploy/local-cluster/patches/worker.yaml",
            "--with-docs=false", "--with-examples=false",
            "--output", str(cfg), "--force",
        ],
    ]  # fmt: skip
    for name, role in (
        ("talos-cp-01", "controlplane"),
        ("talos-worker-01", "worker"),
        ("talos-worker-02", "worker"),
    ):
        expected += [
            [
                "machineconfig", "patch", str(cfg / f"{role}.yaml"),
                "--patch", f"@deploy/local-cluster/patches/nodes/{name}.yaml",
                "--output", str(cfg / "nodes" / f"{name}.yaml"),
            ],
            ["validate", "--config", str(cfg / "nodes" / f"{name}.yaml"), "--mode", "metal"],
        ]  # fmt: skip
    expected += [
        ["config", "endpoint", CP, "--talosconfig", ws.talosconfig],
        ["config", "node", CP, "--talosconfig", ws.talosconfig],
    ]
    assert ws.calls("talosctl") == expected
    assert not decrypted.exists(), "the decrypted bundle is removed right after gen config"
    assert not (cfg / "patches").exists(), "the committed node patches are applied as they are"
    assert ws.cluster_state.stat().st_mode & 0o777 == 0o700


def test_decrypted_bundle_is_0600_while_gen_config_runs(ws: Workspace) -> None:
    ws.encrypt_bundle()
    # The fake copies what it was given, with its mode, so the test can look after the fact.
    ws.scenario(
        [
            {
                "tool": "talosctl",
                "match": ["gen", "config"],
                "stdout": "",
                "writes": {
                    "{flag:--output}/talosconfig": "context: x\n",
                    "{flag:--output}/controlplane.yaml": "x: 1\n",
                    "{flag:--output}/worker.yaml": "x: 1\n",
                },
            },
        ]
    )
    copier = ws.fake.bin / "talosctl"
    original = copier.read_text()
    copier.write_text(
        original.replace(
            "exec ",
            'mkdir -p "$FAKE_TOOLS_STATE"; for a in "$@"; do case "$prev" in --with-secrets) '
            'stat -c %a "$a" > "$FAKE_TOOLS_STATE/mode"; cp "$a" "$FAKE_TOOLS_STATE/seen";; esac; '
            'prev="$a"; done\nexec ',
            1,
        )
    )
    result = ws.inv("talos.config")
    assert result.returncode == 0, result.output
    assert (ws.fake.state / "mode").read_text().strip() == "600"
    assert "fixture-cluster-secret" in (ws.fake.state / "seen").read_text()
    assert "fixture-cluster-secret" not in result.output


def test_missing_patches_are_named(ws: Workspace) -> None:
    ws.encrypt_bundle()
    (ws.root / "deploy/local-cluster/patches/worker.yaml").unlink()
    result = ws.inv("talos.config")
    assert result.returncode == 1
    assert (
        "Machine-config patches missing: deploy/local-cluster/patches/worker.yaml." in result.stderr
    )
    assert ws.calls() == []


def test_needs_the_secrets_bundle(ws: Workspace) -> None:
    result = ws.inv("talos.config")
    assert result.returncode == 1
    assert "run `inv talos.secrets` first" in result.stderr
    assert ws.calls() == []


def test_wrong_age_key_fails_with_the_sops_hint(ws: Workspace, tmp_path: Path) -> None:
    ws.encrypt_bundle()
    other = tmp_path / "other.txt"
    import subprocess

    subprocess.run(["age-keygen", "-o", str(other)], check=True, capture_output=True)
    result = ws.inv("talos.config", SOPS_AGE_KEY_FILE=str(other))
    assert result.returncode == 1
    assert "decrypt the Talos secrets bundle failed." in result.stderr
    assert "your age key is in SOPS_AGE_KEY_FILE" in result.stderr
    assert ws.calls() == []


def test_patches_checked_against_the_talos_schema_when_configured(ws: Workspace) -> None:
    if not (SHARED_SCHEMAS / "talos").is_dir():
        pytest.skip("no shared Talos schemas")
    ws.encrypt_bundle()
    ok = ws.inv("talos.config", INVOKE_TALOS_SCHEMA_DIR=str(SHARED_SCHEMAS / "talos"))
    assert ok.returncode == 0, ok.output
    missing = ws.inv("talos.config", INVOKE_TALOS_SCHEMA_DIR=str(ws.root))
    assert missing.returncode == 1
    assert (
        f"Talos schema {ws.root}/v{VERSIONS.talos}.config.schema.json unreadable" in missing.stderr
    )


@pytest.mark.parametrize("damage", ["edited", "missing"])
def test_config_applies_only_the_committed_patches_the_spec_makes(
    ws: Workspace, damage: str
) -> None:
    """One source: gitops.generate writes deploy/local-cluster/patches/nodes/*.yaml from the
    spec and talos.config applies exactly those; a patch that drifted stops it before any
    command runs."""
    ws.encrypt_bundle()
    patch = ws.root / "deploy/local-cluster/patches/nodes/talos-worker-01.yaml"
    if damage == "edited":
        patch.write_text(patch.read_text().replace('"worker"', '"controlplane"'))
    else:
        patch.unlink()
    result = ws.inv("talos.config")
    assert result.returncode == 1, result.output
    assert str(patch.relative_to(ws.root)) in result.stderr
    assert "run `inv gitops.generate`" in result.stderr
    assert ws.calls() == []
