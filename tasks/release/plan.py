"""Files the release tasks write: pure functions of what those files hold now -> WriteFile steps."""

from __future__ import annotations

from collections.abc import Mapping
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
    parse_json,
)


def config_plan(
    root: Path, components: list[Component], current: Mapping[Path, str]
) -> list[WriteFile]:
    """release-please's config and manifest, only where their content changes.

    ``current`` maps each existing file to its text (:func:`tasks.release.facts.file_texts`).
    """
    config_path = root / CONFIG_FILE
    config_text = current.get(config_path)
    existing = parse_json(config_path, config_text) if config_text is not None else None
    wanted = {
        config_path: generate_config(components, existing),
        root / MANIFEST_FILE: generate_manifest(components),
    }
    return [
        WriteFile(path, content, step=f"update {path.name}")
        for path, content in wanted.items()
        if current.get(path) != content
    ]


def changelog_plan(path: Path, existing: str, release: Release) -> WriteFile:
    """The CHANGELOG at ``path`` with the release's entry above what it holds now."""
    return WriteFile(path, prepend(existing, release.notes), step=f"update {path}")
