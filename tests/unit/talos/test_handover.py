"""The last bootstrap phase hands over to the gitops namespace; node patches and their schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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
    import tasks.gitops

    env = env_for(tmp_path, spec)
    called: list[tuple[str, object]] = []
    # setattr fails when the gitops namespace lacks either task.
    monkeypatch.setattr(tasks.gitops, "install", lambda c: called.append(("install", c)))
    monkeypatch.setattr(tasks.gitops, "bootstrap", lambda c: called.append(("bootstrap", c)))
    assert env.runner.converge(phases._gitops(env)) is True
    assert called == [("install", env.c), ("bootstrap", env.c)]


def test_handover_can_be_switched_off(
    tmp_path: Path, spec: ClusterSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tasks.gitops

    monkeypatch.setattr(tasks.gitops, "install", lambda _: pytest.fail("must not be run"))
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
