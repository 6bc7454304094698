"""GitHub Actions matrices of images to build: from release-please's outputs or changed paths."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tasks.core.errors import UserError
from tasks.release.components import Component


def entry(component: Component, version: str | None = None) -> dict[str, str]:
    return {
        "component": component.name,
        "path": component.path,
        "kind": component.kind,
        "version": version or component.version,
    }


#: What the workflow should hand to --release-outputs.
HINT = (
    "pass the release step's outputs as JSON, as .github/workflows/release.yml does: "
    "env RELEASE_OUTPUTS: ${{ toJSON(steps.release.outputs) }}, then "
    "`printf '%s' \"$RELEASE_OUTPUTS\" | inv images.matrix --release-outputs -`"
)


def from_release_outputs(text: str, components: Sequence[Component]) -> list[dict[str, str]]:
    """release-please-action outputs (``toJSON(steps.release.outputs)``) -> matrix entries.

    ``paths_released`` is a JSON list in a string; each path has ``<path>--version``.
    """
    try:
        outputs: Any = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise UserError(f"release-please outputs are not JSON ({exc}): {HINT}") from None
    if not isinstance(outputs, dict):
        raise UserError(f"release-please outputs: expected a JSON object of step outputs: {HINT}")
    raw_paths = outputs.get("paths_released", "[]")
    try:
        paths = json.loads(raw_paths) if isinstance(raw_paths, str) else raw_paths
    except json.JSONDecodeError:
        raise UserError(f"paths_released is not a JSON list: {raw_paths!r}") from None
    if not isinstance(paths, list):
        raise UserError(f"paths_released is not a JSON list: {raw_paths!r}")
    by_path = {c.path: c for c in components}
    unknown = [p for p in paths if p not in by_path]
    if unknown:
        raise UserError(
            f"release-please released {', '.join(map(str, unknown))}, which apps/ does not hold; "
            "run `inv release.config` and commit the result."
        )
    return [entry(by_path[p], str(outputs.get(f"{p}--version") or "") or None) for p in paths]


def from_changed_files(
    files: Sequence[str], components: Sequence[Component]
) -> list[dict[str, str]]:
    """Components with a changed file under their path (longest path wins), in name order."""
    from tasks.release.facts import attribute

    by_path = {c.path: c for c in components}
    touched: set[str] = set()
    for file in files:
        touched |= attribute([file], list(by_path))
    return [entry(c) for c in components if c.path in touched]


def matrix_json(entries: list[dict[str, str]]) -> str:
    """Compact, for ``echo "matrix=$(...)" >> "$GITHUB_OUTPUT"``."""
    return json.dumps({"include": entries}, separators=(",", ":"))
