"""The `gitops.generate` and `gitops.set-repo` tasks: drift reports, --dry, messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from invoke.config import Config
from invoke.context import Context

from tasks.core.errors import ConfigError, UserError
from tasks.gitops.tree_tasks import generate, set_repo
from tests.unit.deploytree.conftest import SPEC


def _move_gateway(repo: Path) -> None:
    spec_file = repo / SPEC
    spec_file.write_text(
        spec_file.read_text().replace("gateway_ip: 192.168.50.200", "gateway_ip: 192.168.50.201")
    )


def test_check_passes_on_a_tree_in_step_with_the_spec(
    repo: Path, context: Callable[..., Context], capsys: pytest.CaptureFixture[str]
) -> None:
    generate(context())  # other components' hostnames may need a first pass
    generate(context(), check=True)
    assert "no drift" in capsys.readouterr().out


def test_check_lists_drift_and_exits_1_without_writing(
    repo: Path, context: Callable[..., Context]
) -> None:
    generate(context())
    _move_gateway(repo)
    gateway = repo / "deploy/infrastructure/gateway/gateway.yaml"
    before = gateway.read_text()

    with pytest.raises(UserError) as raised:
        generate(context(), check=True)

    assert raised.value.code == 1
    assert (
        "deploy/infrastructure/gateway/gateway.yaml: update (spec.addresses)" in raised.value.text
    )
    assert "Run `inv gitops.generate`" in raised.value.text
    assert gateway.read_text() == before


def test_generate_writes_and_then_check_passes(
    repo: Path, context: Callable[..., Context], capsys: pytest.CaptureFixture[str]
) -> None:
    _move_gateway(repo)
    generate(context())
    assert "192.168.50.201" in (repo / "deploy/infrastructure/gateway/gateway.yaml").read_text()
    assert "gateway.yaml: update" in capsys.readouterr().out
    generate(context(), check=True)


def test_dry_run_prints_every_write_and_removal_and_changes_nothing(
    repo: Path, context: Callable[..., Context], capsys: pytest.CaptureFixture[str]
) -> None:
    generate(context())
    _move_gateway(repo)
    stale = repo / "deploy/local-cluster/patches/nodes/talos-old.yaml"
    stale.write_text("machine: {}\n")
    gateway = repo / "deploy/infrastructure/gateway/gateway.yaml"
    before = gateway.read_text()

    generate(context(dry=True))

    out = capsys.readouterr().out
    assert f"# write {gateway}" in out
    assert f"# remove {stale}" in out
    assert gateway.read_text() == before
    assert stale.exists()


def test_generate_removes_patches_of_nodes_no_longer_in_the_spec(
    repo: Path, context: Callable[..., Context]
) -> None:
    stale = repo / "deploy/local-cluster/patches/nodes/talos-old.yaml"
    stale.write_text("machine: {}\n")
    generate(context())
    assert not stale.exists()


def test_set_repo_rewrites_spec_and_tree(repo: Path, context: Callable[..., Context]) -> None:
    set_repo(context(), repo_url="git@github.com:me/propertea.git", domain="apps.example.net")
    spec_text = (repo / SPEC).read_text()
    assert "repo_url: git@github.com:me/propertea.git" in spec_text
    assert "base_domain: apps.example.net" in spec_text
    root_app = (repo / "deploy/bootstrap/root-application.yaml").read_text()
    assert "repoURL: git@github.com:me/propertea.git" in root_app
    generate(context(), check=True)


def test_set_repo_dry_run_writes_nothing(
    repo: Path, context: Callable[..., Context], capsys: pytest.CaptureFixture[str]
) -> None:
    before = (repo / SPEC).read_text()
    set_repo(context(dry=True), repo_url="https://github.com/me/propertea.git")
    assert (repo / SPEC).read_text() == before
    assert f"# write {repo / SPEC}" in capsys.readouterr().out


def test_set_repo_without_a_url_says_what_is_missing(context: Callable[..., Context]) -> None:
    with pytest.raises(UserError, match="needs --repo-url URL") as raised:
        set_repo(context())
    assert raised.value.code == 2


def test_set_repo_rejects_an_unusable_url_naming_the_field(
    repo: Path, context: Callable[..., Context]
) -> None:
    before = (repo / SPEC).read_text()
    with pytest.raises(ConfigError, match=r"gitops\.repo_url: String should match pattern"):
        set_repo(context(), repo_url="ftp://example.org/x.git")
    assert (repo / SPEC).read_text() == before


def test_a_spec_outside_the_repository_layout_is_refused(tmp_path: Path, repo: Path) -> None:
    loose = tmp_path / "cluster.yaml"
    loose.write_text((repo / SPEC).read_text())
    ctx = Context(Config(overrides={"cluster": {"file": str(loose)}}))
    with pytest.raises(ConfigError, match="expected the cluster spec at <repository>/deploy"):
        generate(ctx, check=True)
