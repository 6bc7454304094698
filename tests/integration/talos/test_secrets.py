"""`inv talos.secrets`: generated once, encrypted with the real sops and age, never plaintext."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.talos.conftest import BUNDLE, PLAINTEXT_BUNDLE, Workspace

pytestmark = pytest.mark.integration


def test_generates_once_and_commits_it_encrypted(ws: Workspace) -> None:
    result = ws.inv("talos.secrets")
    assert result.returncode == 0, result.output
    generated = ws.cluster_state / "secrets.yaml"
    assert ws.calls() == [
        ["gen", "secrets", "--output-file", str(generated), "--talos-version", "v1.13"]
    ]
    bundle = ws.root / BUNDLE
    text = bundle.read_text()
    assert "fixture-cluster-secret" not in text
    assert "\nsops:" in text
    assert not generated.exists(), "the plaintext copy in the state dir is removed"
    decrypted = ws.sops("--config", ".sops.yaml", "--decrypt", str(BUNDLE))
    assert decrypted.returncode == 0, decrypted.stderr
    assert "fixture-cluster-secret" in decrypted.stdout
    assert "commit it" in result.stdout

    again = ws.inv("talos.secrets")
    assert again.returncode == 0, again.output
    assert "nothing to do" in again.stdout
    assert ws.calls() == [
        ["gen", "secrets", "--output-file", str(generated), "--talos-version", "v1.13"]
    ]
    assert bundle.read_text() == text


def test_reuses_a_bundle_generated_before_an_interrupted_run(ws: Workspace) -> None:
    ws.cluster_state.mkdir(parents=True)
    (ws.cluster_state / "secrets.yaml").write_text(PLAINTEXT_BUNDLE.replace("fixture", "earlier"))
    result = ws.inv("talos.secrets")
    assert result.returncode == 0, result.output
    assert ws.calls() == []
    decrypted = ws.sops("--config", ".sops.yaml", "--decrypt", str(BUNDLE))
    assert "earlier-cluster-secret" in decrypted.stdout


def test_refuses_a_plaintext_bundle(ws: Workspace) -> None:
    bundle = ws.root / BUNDLE
    bundle.parent.mkdir(parents=True)
    bundle.write_text(PLAINTEXT_BUNDLE)
    result = ws.inv("talos.secrets")
    assert result.returncode == 1
    assert f"{BUNDLE} is NOT sops-encrypted" in result.stderr
    assert "Traceback" not in result.output
    assert bundle.read_text() == PLAINTEXT_BUNDLE
    assert ws.calls() == []


def test_needs_sops_creation_rules(ws: Workspace) -> None:
    (ws.root / ".sops.yaml").unlink()
    result = ws.inv("talos.secrets")
    assert result.returncode == 1
    assert ".sops.yaml not found: sops needs a creation rule" in result.stderr
    assert not (ws.root / BUNDLE).exists()


def test_sops_failure_leaves_no_file_in_the_repo(ws: Workspace) -> None:
    (ws.root / ".sops.yaml").write_text(
        "creation_rules:\n  - path_regex: ^elsewhere/.*$\n    age: []\n"
    )
    result = ws.inv("talos.secrets")
    assert result.returncode == 1
    assert "encrypt the Talos secrets bundle failed." in result.stderr
    assert "try: check that .sops.yaml has a creation rule" in result.stderr
    assert not (ws.root / BUNDLE).exists()
    assert "fixture-cluster-secret" not in result.output


def test_dry_run_prints_and_writes_nothing(ws: Workspace) -> None:
    result = ws.inv("--dry", "talos.secrets")
    assert result.returncode == 0, result.output
    generated = ws.cluster_state / "secrets.yaml"
    assert (
        f"$ talosctl gen secrets --output-file {generated} --talos-version v1.13" in result.stdout
    )
    assert (
        f"$ cd {ws.root} && sops encrypt "
        f"--filename-override {BUNDLE} --output {BUNDLE} {generated}" in result.stdout
    )
    assert ws.calls() == []
    assert not ws.state.exists()
    assert not (ws.root / BUNDLE).exists()


def test_unwritable_state_dir_is_named(ws: Workspace, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = ws.inv("talos.secrets", INVOKE_STATE_DIR=str(blocker / "state"))
    assert result.returncode == 1
    assert f"Cannot create the state directory {blocker / 'state'}" in result.stderr
    assert "INVOKE_STATE_DIR to a writable directory" in result.stderr
    assert "Traceback" not in result.output
    assert ws.fake.argvs() == []
