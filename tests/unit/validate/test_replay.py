"""Whole-run verdicts (tasks/validate/replay.py): every kind of input a family reads changes the
fingerprint, caches and tool droppings do not, and a verdict is stored only when it can stand."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tasks.validate import replay

COMMAND: dict[str, Any] = {"only": None, "paths": [], "json": False}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A repository, shared schemas, a cache and a sops key outside it, a kubectl on PATH."""
    root = tmp_path / "repo"
    files = {
        "deploy/platform/redis/kustomization.yaml": "resources: [deployment.yaml]\n",
        "deploy/platform/redis/deployment.yaml": "kind: Deployment\n",
        "deploy/platform/redis/bin/extra.yaml": "kind: ConfigMap\n",
        "deploy/local-cluster/cluster.yaml": "versions: {kubernetes: 1.36.0}\n",
        ".github/workflows/ci.yml": "on: push\n",
        "apps/web/Dockerfile": "FROM scratch\n",
        ".sops.yaml": "creation_rules: []\n",
        ".yamllint": "extends: default\n",
        "invoke.yaml": "validate: {}\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    shared = tmp_path / "shared"
    (shared / "crds" / "example.com").mkdir(parents=True)
    (shared / "crds" / "example.com" / "thing_v1.json").write_text("{}")
    cache = tmp_path / "cache"
    (cache / "schemas").mkdir(parents=True)
    key = tmp_path / "age" / "keys.txt"
    key.parent.mkdir()
    key.write_text("AGE-SECRET-KEY-1\n")
    key.chmod(0o600)
    tools = tmp_path / "tools"
    tools.mkdir()
    kubectl = tools / "kubectl"
    kubectl.write_text("#!/bin/sh\n")
    kubectl.chmod(0o755)
    config = tmp_path / "config"
    config.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key))
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ.get('PATH', '')}")
    return {
        "root": root,
        "shared": shared,
        "cache": cache,
        "key": key,
        "kubectl": kubectl,
        "config": config,
    }


def config_of(world: dict[str, Path]) -> dict[str, Any]:
    return {"validate": {"shared_schemas": str(world["shared"]), "cache_dir": str(world["cache"])}}


def key_of(world: dict[str, Path], **command: Any) -> str:
    return replay.fingerprint(world["root"], {**COMMAND, **command}, config_of(world))[0]


def later() -> None:
    """Past a clock tick, as any real edit after a run is (file times are that coarse)."""
    time.sleep(0.02)


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


CHANGES: dict[str, Callable[[dict[str, Path]], None]] = {
    "manifest edited, same size": lambda w: edit(
        w["root"] / "deploy/platform/redis/deployment.yaml", "Deployment", "Deploymenx"
    ),
    "file added under deploy": lambda w: (w["root"] / "deploy/platform/redis/new.yaml").write_text(
        "a: 1\n"
    ),
    "file removed": lambda w: (w["root"] / "deploy/platform/redis/deployment.yaml").unlink(),
    "file renamed": lambda w: (w["root"] / "deploy/platform/redis/deployment.yaml").rename(
        w["root"] / "deploy/platform/redis/deploy.yaml"
    ),
    "a bin/ directory inside deploy": lambda w: edit(
        w["root"] / "deploy/platform/redis/bin/extra.yaml", "ConfigMap", "ConfigMax"
    ),
    "cluster spec": lambda w: edit(
        w["root"] / "deploy/local-cluster/cluster.yaml", "1.36.0", "1.35.0"
    ),
    "workflow": lambda w: edit(w["root"] / ".github/workflows/ci.yml", "push", "pull"),
    "Dockerfile": lambda w: edit(w["root"] / "apps/web/Dockerfile", "scratch", "alpine"),
    ".sops.yaml": lambda w: edit(w["root"] / ".sops.yaml", "[]", "[ ]"),
    ".yamllint": lambda w: edit(w["root"] / ".yamllint", "default", "relaxed"),
    "invoke.yaml": lambda w: edit(w["root"] / "invoke.yaml", "{}", "{ }"),
    "file mode": lambda w: (w["root"] / "deploy/platform/redis/deployment.yaml").chmod(0o600),
    "symlink planted": lambda w: (w["root"] / "deploy/platform/redis/link.yaml").symlink_to(
        w["key"]
    ),
    "shared CRD schema": lambda w: edit(w["shared"] / "crds/example.com/thing_v1.json", "{}", "[]"),
    "fetched schema in the cache": lambda w: (w["cache"] / "schemas" / "x.json").write_text("{}"),
    "sops key file": lambda w: edit(w["key"], "KEY-1", "KEY-2"),
    "sops key mode": lambda w: w["key"].chmod(0o644),
    "kubectl replaced": lambda w: w["kubectl"].write_text("#!/bin/sh\n# v2\n"),
    "a linter's user configuration": lambda w: (w["config"] / "hadolint.yaml").write_text("x"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_kind_of_input_changes_the_key(world: dict[str, Path], change: str) -> None:
    before = key_of(world)
    later()
    CHANGES[change](world)
    assert key_of(world) != before


def test_environment_config_and_command_line_change_the_key(
    world: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = key_of(world)
    assert key_of(world, json=True) != before
    assert key_of(world, only=["manifests"]) != before
    assert key_of(world, paths=["deploy/platform/redis"]) != before
    other = {**config_of(world), "cluster": {"file": "elsewhere.yaml"}}
    assert replay.fingerprint(world["root"], COMMAND, other)[0] != before
    monkeypatch.setenv("INVOKE_VALIDATE_SKIP", "[]")
    assert key_of(world) != before


def test_caches_and_tool_droppings_leave_the_key(world: dict[str, Path]) -> None:
    root = world["root"]
    (root / "tasks").mkdir()  # a new directory is a change; what lands in the ones below is not
    before = key_of(world)
    later()
    for junk in (".venv/lib/x.py", "tasks/__pycache__/x.pyc", ".mypy_cache/x", "apps/web/obj/x"):
        (root / junk).parent.mkdir(parents=True, exist_ok=True)
        (root / junk).write_text("x")
    # Verdicts, renders and schema results the runs write themselves.
    for written in ("runs/x.json", "kustomize/x.yaml", "schema-results/v1.json"):
        (world["cache"] / written).parent.mkdir(parents=True, exist_ok=True)
        (world["cache"] / written).write_text("x")
    assert key_of(world) == before


def test_a_cache_inside_the_repository_is_not_an_input(world: dict[str, Path]) -> None:
    world["cache"] = world["root"] / ".cache-inside"
    (world["cache"] / "schemas").mkdir(parents=True)
    before = key_of(world)
    later()
    (world["cache"] / "runs").mkdir()
    (world["cache"] / "runs" / "x.json").write_text("{}")
    assert key_of(world) == before
    (world["cache"] / "schemas" / "fetched.json").write_text("{}")
    assert key_of(world) != before


class Context:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config


def verdicts(world: dict[str, Path]) -> replay.Verdicts:
    return replay.Verdicts(Context(config_of(world)), world["root"], COMMAND)  # type: ignore[arg-type]


def test_a_stored_report_replays_until_an_input_changes(
    world: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay, "RACY_NS", 0)
    first = verdicts(world)
    first.begin()
    assert first.put("report\n", 2)
    assert verdicts(world).get(verdicts(world).key()) == ("report\n", 2)
    later()
    CHANGES["manifest edited, same size"](world)
    assert verdicts(world).get(verdicts(world).key()) is None


def test_no_verdict_when_an_input_changed_during_the_run(
    world: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay, "RACY_NS", 0)
    run = verdicts(world)
    run.begin()
    later()
    CHANGES["workflow"](world)
    assert not run.put("report\n", 0)
    assert not (world["cache"] / "runs").exists()


def test_no_verdict_when_an_input_changed_just_before_the_run(world: dict[str, Path]) -> None:
    # The world was written a moment ago: an edit now could leave the same timestamps.
    run = verdicts(world)
    run.begin()
    assert not run.put("report\n", 0)


def test_replay_can_be_switched_off(
    world: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert verdicts(world).enabled
    monkeypatch.setenv("INVOKE_VALIDATE_REPLAY", "0")
    assert not verdicts(world).enabled
    configured = {**config_of(world)}
    configured["validate"] = {**configured["validate"], "replay": False}
    assert not replay.Verdicts(Context(configured), world["root"], COMMAND).enabled  # type: ignore[arg-type]
