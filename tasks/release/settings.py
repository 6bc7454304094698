"""release-please's two files, generated from ``apps/`` and read back for the bump rules.

``release-please-config.json``: repository-wide options are kept as the file has them (defaults
below when absent); ``packages`` is regenerated: one per component, ``component`` set on each (tags
``<component>-vX.Y.Z`` would collide otherwise), release type ``simple`` with ``version.txt``, and
the csproj ``<Version>`` kept in step through an ``extra-files`` XML updater.
``.release-please-manifest.json``: each package path -> the version in its ``version.txt``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.core.errors import ConfigError
from tasks.release.changelog import DEFAULT_SECTIONS, Section, sections_from_config
from tasks.release.components import CHANGELOG, VERSION_FILE, Component
from tasks.release.versioning import BumpRules

CONFIG_FILE = Path("release-please-config.json")
MANIFEST_FILE = Path(".release-please-manifest.json")
SCHEMA = "https://raw.githubusercontent.com/googleapis/release-please/main/schemas/config.json"
CSPROJ_VERSION_XPATH = "//Project/PropertyGroup/Version"

#: Repository-wide options written when the file does not set them.
DEFAULT_OPTIONS: dict[str, Any] = {
    "$schema": SCHEMA,
    "release-type": "simple",
    "include-component-in-tag": True,
    "include-v-in-tag": True,
    "tag-separator": "-",
    # Pre-1.0: a breaking change bumps minor (a feature still bumps minor).
    "bump-minor-pre-major": True,
    "bump-patch-for-minor-pre-major": False,
    "separate-pull-requests": False,
}


def package_entry(component: Component) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "component": component.name,
        "package-name": component.name,
        "release-type": "simple",
        "version-file": VERSION_FILE,
        "changelog-path": CHANGELOG,
    }
    if component.kind == "dotnet":
        entry["extra-files"] = [
            {"type": "xml", "path": component.build_file, "xpath": CSPROJ_VERSION_XPATH}
        ]
    return entry


def generate_config(components: list[Component], existing: dict[str, Any] | None) -> str:
    options = {k: v for k, v in (existing or {}).items() if k != "packages"}
    merged = {**DEFAULT_OPTIONS, **options}
    merged["packages"] = {c.path: package_entry(c) for c in components}
    return json.dumps(merged, indent=2) + "\n"


def generate_manifest(components: list[Component]) -> str:
    return json.dumps({c.path: c.version for c in components}, indent=2, sort_keys=True) + "\n"


def read_json(path: Path) -> dict[str, Any] | None:
    return parse_json(path, path.read_text()) if path.exists() else None


def parse_json(path: Path, text: str) -> dict[str, Any]:
    """``text`` read from ``path`` as a JSON object; errors name the file and line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


@dataclass(frozen=True)
class PackageSettings:
    """What release.next and release.changelog need from the config, per package."""

    component: str
    path: str
    rules: BumpRules
    sections: tuple[Section, ...]
    manifest_version: str | None
    initial_version: str = "1.0.0"
    release_as: str | None = None
    include_v: bool = True
    separator: str = "-"
    changelog_path: str = CHANGELOG

    def tag(self, version: str) -> str:
        return f"{self.component}{self.separator}{'v' if self.include_v else ''}{version}"

    @property
    def tag_prefix(self) -> str:
        return f"{self.component}{self.separator}{'v' if self.include_v else ''}"


def package_settings(
    config: dict[str, Any], manifest: dict[str, Any], components: list[Component]
) -> list[PackageSettings]:
    """Top-level options overridden per package, as release-please merges them."""
    packages = config.get("packages", {})
    settings: list[PackageSettings] = []
    for component in components:
        raw = {**{k: v for k, v in config.items() if k != "packages"}}
        raw.update(packages.get(component.path, {}))
        sections = sections_from_config(raw.get("changelog-sections"))
        version = manifest.get(component.path)
        settings.append(
            PackageSettings(
                component=str(raw.get("component") or component.name),
                path=component.path,
                rules=BumpRules(
                    bool(raw.get("bump-minor-pre-major", False)),
                    bool(raw.get("bump-patch-for-minor-pre-major", False)),
                ),
                sections=sections or DEFAULT_SECTIONS,
                manifest_version=str(version) if version is not None else None,
                initial_version=str(raw.get("initial-version") or "1.0.0"),
                release_as=str(raw["release-as"]) if raw.get("release-as") else None,
                include_v=bool(raw.get("include-v-in-tag", True)),
                separator=str(raw.get("tag-separator", "-")),
                changelog_path=str(raw.get("changelog-path", CHANGELOG)),
            )
        )
    return settings


def drift(root: Path, components: list[Component]) -> list[str]:
    """Why the committed files disagree with ``apps/`` (empty when up to date)."""
    problems: list[str] = []
    config = read_json(root / CONFIG_FILE)
    if config is None:
        problems.append(f"{CONFIG_FILE}: missing; run `inv release.config`")
    elif json.loads(generate_config(components, config)) != config:
        problems.append(f"{CONFIG_FILE}: out of date with apps/; run `inv release.config`")
    manifest = read_json(root / MANIFEST_FILE)
    if manifest is None:
        problems.append(f"{MANIFEST_FILE}: missing; run `inv release.config`")
    elif json.loads(generate_manifest(components)) != manifest:
        problems.append(
            f"{MANIFEST_FILE}: differs from the version.txt files; run `inv release.config`"
        )
    for c in components:
        if c.kind == "dotnet" and c.project_version != c.version:
            problems.append(
                f"{c.path}/{c.build_file}: <Version> {c.project_version} differs from "
                f"{VERSION_FILE} {c.version}; set both to the released version"
            )
    return problems
