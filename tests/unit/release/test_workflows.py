"""The GitHub workflows call tasks that exist, pin their actions and gate image pushes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tasks import ns

WORKFLOWS = Path(__file__).resolve().parents[3] / ".github" / "workflows"


def _load(name: str) -> Any:
    return YAML(typ="safe").load((WORKFLOWS / name).read_text())


def _steps(workflow: Any) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


@pytest.mark.parametrize("name", ["release.yml", "validate.yml", "pr-title.yml"])
def test_inv_calls_name_real_tasks(name: str) -> None:
    runs = " ".join(s.get("run", "") for s in _steps(_load(name)))
    called = re.findall(r"\binv ([a-z][\w.-]*)", runs)
    assert called, f"{name} calls no inv task"
    assert set(called) <= set(ns.task_names), set(called) - set(ns.task_names)


@pytest.mark.parametrize("name", ["release.yml", "validate.yml", "pr-title.yml"])
def test_actions_are_pinned(name: str) -> None:
    for step in _steps(_load(name)):
        uses = step.get("uses")
        if uses:
            ref = uses.split("@", 1)[1]
            assert re.fullmatch(r"[0-9a-f]{40}|v\d+\.\d+\.\d+", ref), uses


def test_release_builds_images_only_for_released_paths() -> None:
    workflow = _load("release.yml")
    images = workflow["jobs"]["images"]
    assert images["permissions"] == {"contents": "read", "packages": "write"}
    assert "releases_created == 'true'" in images["if"]
    assert images["strategy"]["matrix"] == "${{ fromJSON(needs.release-please.outputs.matrix) }}"
    assert workflow["permissions"] == {}
