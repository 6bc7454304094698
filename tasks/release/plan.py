"""Files the release tasks write: pure functions returning WriteFile steps."""

from __future__ import annotations

from pathlib import Path

from tasks.core.runner import WriteFile
from tasks.release.changelog import prepend
from tasks.release.components import Component
from tasks.release.releases import Release
from tasks.release.settings import (
    CONFIG_FILE,
    MANIFEST_FILE,
    generate_config,
    generate_manifest,
    read_json,
)


def config_plan(root: Path, components: list[Component]) -> list[WriteFile]:
    """release-please's config and manifest, only where their content changes."""
    wanted = {
        root / CONFIG_FILE: generate_config(components, read_json(root / CONFIG_FILE)),
        root / MANIFEST_FILE: generate_manifest(components),
    }
    return [
        WriteFile(path, content, step=f"update {path.name}")
        for path, content in wanted.items()
        if not path.exists() or path.read_text() != content
    ]


def changelog_plan(root: Path, release: Release, changelog_path: str) -> WriteFile:
    path = root / release.path / changelog_path
    existing = path.read_text() if path.exists() else ""
    return WriteFile(path, prepend(existing, release.notes), step=f"update {path}")
