"""The last bootstrap phase hands over to the gitops namespace (or says what to run next)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.core.config import ClusterSpec
from tasks.core.errors import UserError
from tasks.core.runner import Runner
from tasks.talos import facts, ops, phases
from tasks.talos.settings import Settings
from tests.unit.talos.conftest import make_context


def env_for(tmp_path: Path, spec: ClusterSpec, **talos: Any) -> ops.Env:
    c = make_context(tmp_path / "state", talos)
    return ops.Env(c, spec, Settings.from_context(c, spec), Runner(out=lambda _: None))


def test_hands_over_to_gitops_install_then_bootstrap(
    tmp_path: Path, spec: ClusterSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_for(tmp_path, spec)
    called: list[tuple[str, object]] = []
    steps = [
        ("gitops.install", lambda c: called.append(("install", c))),
        ("gitops.bootstrap", lambda c: called.append(("bootstrap", c))),
    ]
    monkeypatch.setattr(facts, "gitops_handover", lambda: steps)
    assert phases._gitops(env) is True
    assert called == [("install", env.c), ("bootstrap", env.c)]


def test_without_gitops_bootstrap_the_next_step_is_printed(
    tmp_path: Path,
    spec: ClusterSpec,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(facts, "gitops_handover", list)
    assert phases._gitops(env_for(tmp_path, spec)) is False
    assert "Next: `inv gitops.bootstrap`" in capsys.readouterr().out


def test_handover_can_be_switched_off(
    tmp_path: Path, spec: ClusterSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts, "gitops_handover", lambda: pytest.fail("must not be asked"))
    assert phases._gitops(env_for(tmp_path, spec, gitops_handover=False)) is False


def test_the_gitops_namespace_provides_install_and_bootstrap() -> None:
    steps = facts.gitops_handover()
    assert [name for name, _ in steps] == ["gitops.install", "gitops.bootstrap"]
    assert all(callable(fn) for _, fn in steps)


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
