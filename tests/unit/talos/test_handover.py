"""The last bootstrap phase hands over to the gitops namespace; node patches and their schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.core import operation as op
from tasks.core.config import ClusterSpec
from tasks.core.errors import UserError
from tasks.core.runner import Runner
from tasks.talos import ops, phases
from tasks.talos.settings import Settings
from tests.unit.talos.conftest import make_context


def env_for(tmp_path: Path, spec: ClusterSpec, **talos: Any) -> ops.Env:
    c = make_context(tmp_path / "state", talos)
    return ops.Env(c, spec, Settings.from_context(c, spec), Runner(out=lambda _: None))


def test_hands_over_to_gitops_install_then_bootstrap(
    tmp_path: Path, spec: ClusterSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.gitops import kube
    from tasks.gitops import ops as gitops_ops

    env = env_for(tmp_path, spec)
    access = kube.Kube(tmp_path / "kubeconfig", tmp_path / "state")
    called: list[tuple[str, object, dict[str, Any]]] = []

    def recorded(name: str) -> Any:
        def operation(kube: object, **options: Any) -> op.Op[None]:
            called.append((name, kube, options))
            return (yield from op.just(None))

        return operation

    # setattr fails when the gitops operations lack either one.
    monkeypatch.setattr(kube, "resolve", lambda c: op.just(access))
    monkeypatch.setattr(gitops_ops, "install", recorded("install"))
    monkeypatch.setattr(gitops_ops, "bootstrap", recorded("bootstrap"))
    assert env.runner.converge(phases._gitops(env)) is True
    assert [(name, kube) for name, kube, _ in called] == [
        ("install", access),
        ("bootstrap", access),
    ]
    install, bootstrap = called[0][2], called[1][2]
    # What `inv gitops.install` and `inv gitops.bootstrap` run with when given no options.
    assert install["version"] == spec.versions.argocd_chart
    assert install["chart"] is None and install["timeout"] == 600
    assert install["files"] == gitops_ops.values_files(Path.cwd(), spec.gitops.path, "local")
    assert bootstrap["gitops_path"] == spec.gitops.path
    assert (bootstrap["timeout"], bootstrap["interval"]) == (1200, 10)


def test_handover_can_be_switched_off(
    tmp_path: Path, spec: ClusterSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.gitops import ops as gitops_ops

    monkeypatch.setattr(gitops_ops, "install", lambda *_, **__: pytest.fail("must not be run"))
    env = env_for(tmp_path, spec, gitops_handover=False)
    assert env.runner.converge(phases._gitops(env)) is False


def test_a_derived_schema_dir_without_the_file_is_skipped(
    tmp_path: Path, spec: ClusterSpec
) -> None:
    from invoke.config import Config
    from invoke.context import Context

    c = Context(Config(overrides={"validate": {"shared_schemas": str(tmp_path)}}))
    env = ops.Env(c, spec, Settings.from_context(c, spec), Runner(out=lambda _: None))
    assert sorted(ops.node_patches(env)) == sorted(n.name for n in spec.nodes)
    required = ops.Env(
        c,
        spec,
        env.settings.__class__(**{**env.settings.__dict__, "schema_required": True}),
        env.runner,
    )
    with pytest.raises(UserError, match=r"Talos schema .*/talos/v.*unreadable"):
        ops.node_patches(required)
