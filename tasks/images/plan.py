"""Pure image plans: tags, labels, the ``dotnet publish`` command and the web build spec.

Every value that reaches a command line is checked against the OCI/MSBuild grammar first, so a
registry, repository or tag can never smuggle an extra MSBuild property (``;``) or a flag in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tasks.core.errors import ConfigError
from tasks.core.runner import Command
from tasks.release.components import Component

_HOST_RE = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9-]+)*(?::\d+)?$"
)
_PATH_RE = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_SHA_RE = re.compile(r"^[0-9a-f]{7,40}$")
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")

OCI_SOURCE = "org.opencontainers.image.source"
OCI_REVISION = "org.opencontainers.image.revision"
OCI_VERSION = "org.opencontainers.image.version"
#: Where ``images.build`` leaves .NET images (a tarball: no engine or registry needed).
ARCHIVE_DIR = Path("build/images")


@dataclass(frozen=True)
class Registry:
    """``ghcr.io/propertea`` -> host ``ghcr.io``, namespace ``propertea``."""

    host: str
    namespace: str

    @classmethod
    def parse(cls, value: str) -> Registry:
        value = value.strip().rstrip("/")
        for prefix in ("https://", "http://"):
            value = value.removeprefix(prefix)
        host, _, namespace = value.partition("/")
        if not _HOST_RE.match(host) or (namespace and not _PATH_RE.match(namespace)):
            raise ConfigError(
                f"images.registry {value!r} is not a registry (host[:port][/namespace], "
                "lower-case path), e.g. ghcr.io/propertea; set it in invoke.yaml or "
                "INVOKE_IMAGES_REGISTRY."
            )
        return cls(host, namespace)

    def repository(self, image: str) -> str:
        """The repository below the host: ``propertea/propertea-company``."""
        return f"{self.namespace}/{image}" if self.namespace else image

    def ref(self, image: str) -> str:
        return f"{self.host}/{self.repository(image)}"


def normalize_version(value: str) -> str:
    """``v1.2.3`` or ``1.2.3`` -> ``1.2.3``; anything else is rejected with the expected form."""
    version = value.strip().removeprefix("v")
    if not _VERSION_RE.match(version):
        raise ConfigError(f"version {value!r} is not X.Y.Z (optionally -prerelease)")
    return version


@dataclass(frozen=True)
class ImageTags:
    """The two tags every image gets and the OCI labels that say where it came from."""

    version: str
    sha: str
    source: str

    def __post_init__(self) -> None:
        normalize_version(self.version)
        if not _SHA_RE.match(self.sha):
            raise ConfigError(f"commit {self.sha!r} is not a git SHA")

    @property
    def tags(self) -> list[str]:
        return [f"v{self.version}", self.sha[:7]]

    @property
    def labels(self) -> dict[str, str]:
        return {OCI_SOURCE: self.source, OCI_REVISION: self.sha, OCI_VERSION: self.version}


def _checked_tags(tags: list[str]) -> list[str]:
    bad = [t for t in tags if not _TAG_RE.match(t)]
    if bad:
        raise ConfigError(f"invalid image tag(s) {', '.join(map(repr, bad))}")
    return tags


def dotnet_publish(
    root: Path, component: Component, registry: Registry, meta: ImageTags, *, push: bool
) -> Command:
    """``dotnet publish <csproj> /t:PublishContainer -c Release`` for one service.

    Registry and repository go as MSBuild properties (validated above), both tags through the
    ``ContainerImageTags`` environment variable (a ``;`` list that would otherwise need quoting).
    Without ``push`` the image is written as a tarball under ``build/images/``.
    """
    tags = _checked_tags(meta.tags)
    argv = [
        "dotnet",
        "publish",
        str(Path(component.path) / component.build_file),
        "/t:PublishContainer",
        "-c",
        "Release",
        f"-p:ContainerRegistry={registry.host}",
        f"-p:ContainerRepository={registry.repository(component.image)}",
        f"-p:Version={meta.version}",
        f"-p:SourceRevisionId={meta.sha}",
    ]
    if not push:
        archive = ARCHIVE_DIR / f"{component.name}.tar.gz"
        argv.append(f"-p:ContainerArchiveOutputPath={archive}")
    return Command(
        tuple(argv),
        step=f"{'publish' if push else 'build'} {component.name} image",
        env={"ContainerImageTags": ";".join(tags)},
        cwd=root,
        hint="dotnet 10 SDK on PATH; for a push, `docker login` to the registry "
        "(or DOTNET_CONTAINER_REGISTRY_UNAME/PWORD)",
    )


@dataclass(frozen=True)
class WebBuild:
    """A Dockerfile build through the Docker Engine API: build once, tag twice, push both."""

    component: str
    context: Path
    dockerfile: str
    repository: str
    tags: list[str]
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def refs(self) -> list[str]:
        return [f"{self.repository}:{t}" for t in self.tags]

    def build_display(self) -> Command:
        """The equivalent docker CLI line, for ``--dry`` and logs."""
        argv = ["docker", "build", "--file", str(self.context / self.dockerfile)]
        for ref in self.refs:
            argv += ["--tag", ref]
        for key, value in sorted(self.labels.items()):
            argv += ["--label", f"{key}={value}"]
        return Command((*argv, str(self.context)), step=f"build {self.component} image")

    def push_display(self) -> list[Command]:
        return [Command(("docker", "push", ref), step=f"push {ref}") for ref in self.refs]


def web_build(root: Path, component: Component, registry: Registry, meta: ImageTags) -> WebBuild:
    return WebBuild(
        component=component.name,
        context=root / component.path,
        dockerfile=component.build_file,
        repository=registry.ref(component.image),
        tags=_checked_tags(meta.tags),
        labels=meta.labels,
    )
