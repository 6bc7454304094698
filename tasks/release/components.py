"""The releasable components under ``apps/``: one per .NET service and one per web portal.

Read from the build metadata itself (csproj + ``Directory.Build.props``, the portal's Dockerfile,
``version.txt``), so release-please's config, the image list and the CI matrix all follow what
``apps/`` holds. Parsing only: stdlib XML, no I/O beyond reading these files.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from tasks.core.errors import ConfigError

APPS = Path("apps")
SERVICES = APPS / "services"
PORTALS = APPS / "portals"
IMAGE_PREFIX = "propertea-"
VERSION_FILE = "version.txt"
CHANGELOG = "CHANGELOG.md"


@dataclass(frozen=True)
class Component:
    name: str
    #: Repository-relative POSIX path (release-please's package path).
    path: str
    kind: Literal["dotnet", "web"]
    #: csproj or Dockerfile, relative to ``path``.
    build_file: str
    #: Image name below the registry: ``propertea-<name>``.
    image: str
    version: str
    base_image: str
    #: ``<Version>`` of the csproj (kept equal to version.txt by release-please).
    project_version: str | None = None
    repository_url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _properties(path: Path) -> dict[str, str]:
    """The ``PropertyGroup`` values of an MSBuild file (namespace-agnostic)."""
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - our own build files
    except ET.ParseError as exc:
        raise ConfigError(f"{path}: not valid XML: {exc}") from None
    props: dict[str, str] = {}
    for group in root.iter():
        if group.tag.rsplit("}", 1)[-1] != "PropertyGroup":
            continue
        for prop in group:
            props[prop.tag.rsplit("}", 1)[-1]] = (prop.text or "").strip()
    return props


def _nearest_props(project_dir: Path, root: Path) -> Path | None:
    """MSBuild imports the nearest Directory.Build.props above the project."""
    here = project_dir
    while True:
        candidate = here / "Directory.Build.props"
        if candidate.exists():
            return candidate
        if here in (root, here.parent):
            return None
        here = here.parent


def _read_version(directory: Path) -> str:
    path = directory / VERSION_FILE
    if not path.exists():
        raise ConfigError(
            f"{path}: missing. Every component holds its released version there "
            "(release-please's simple strategy); start with 0.1.0."
        )
    return path.read_text().strip()


def _dotnet(csproj: Path, root: Path) -> Component:
    props_file = _nearest_props(csproj.parent, root)
    props = {**(_properties(props_file) if props_file else {}), **_properties(csproj)}
    rel = csproj.relative_to(root)
    if "ContainerImageName" in props:
        raise ConfigError(
            f"{rel}: ContainerImageName is obsolete (CONTAINER003 since SDK 7.0.400): "
            "use ContainerRepository (and ContainerRegistry)."
        )
    missing = [p for p in ("ContainerRepository", "ContainerRegistry") if not props.get(p)]
    if missing:
        raise ConfigError(
            f"{rel}: no {' or '.join(missing)} (in the csproj or apps/Directory.Build.props); "
            f"set ContainerRepository to propertea/{IMAGE_PREFIX}<component>."
        )
    image = props["ContainerRepository"].rsplit("/", 1)[-1]
    if not image.startswith(IMAGE_PREFIX):
        raise ConfigError(
            f"{rel}: ContainerRepository {props['ContainerRepository']!r} must end in "
            f"{IMAGE_PREFIX}<component>."
        )
    return Component(
        name=image.removeprefix(IMAGE_PREFIX),
        path=csproj.parent.relative_to(root).as_posix(),
        kind="dotnet",
        build_file=csproj.name,
        image=image,
        version=_read_version(csproj.parent),
        base_image=props.get("ContainerBaseImage", ""),
        project_version=props.get("Version"),
        repository_url=props.get("RepositoryUrl"),
    )


def _dockerfile_base(dockerfile: Path) -> str:
    """The image of the last FROM (what the container runs on)."""
    base = ""
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if words and words[0].upper() == "FROM":
            base = next((w for w in words[1:] if not w.startswith("--")), "")
    return base


def _web(dockerfile: Path, root: Path) -> Component:
    # apps/portals/<portal>/web -> <portal>-web
    directory = dockerfile.parent
    name = f"{directory.parent.name}-{directory.name}"
    return Component(
        name=name,
        path=directory.relative_to(root).as_posix(),
        kind="web",
        build_file=dockerfile.name,
        image=f"{IMAGE_PREFIX}{name}",
        version=_read_version(directory),
        base_image=_dockerfile_base(dockerfile),
    )


def discover(root: Path) -> list[Component]:
    """Every component under ``root/apps``, sorted by name; bad metadata is a ConfigError."""
    components = [_dotnet(p, root) for p in sorted((root / SERVICES).glob("*/*.csproj"))]
    components += [_web(p, root) for p in sorted((root / PORTALS).glob("*/web/Dockerfile"))]
    names = [c.name for c in components]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"apps/: component names used twice: {', '.join(duplicates)}")
    if not components:
        raise ConfigError(
            f"{root / APPS}: no components (apps/services/*/*.csproj, "
            "apps/portals/*/web/Dockerfile). Run the release and images tasks from the "
            "repository root."
        )
    return sorted(components, key=lambda c: c.name)


def select(components: list[Component], names: list[str] | None) -> list[Component]:
    """The components named (all when none); an unknown name lists the known ones."""
    if not names:
        return components
    known = {c.name: c for c in components}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"unknown component {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return [known[n] for n in names]


def repository_url(root: Path) -> str | None:
    """``RepositoryUrl`` of apps/Directory.Build.props: the one place the source URL lives."""
    props = root / APPS / "Directory.Build.props"
    return _properties(props).get("RepositoryUrl") if props.exists() else None
