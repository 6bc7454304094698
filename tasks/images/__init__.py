"""``inv images.*``: the container images of ``apps/``: list, tag, build, push, matrix, promote.

.NET services build with the SDK (``dotnet publish /t:PublishContainer``), the web portal from its
Dockerfile through the Docker Engine API (docker SDK, ``DOCKER_HOST`` honoured). The registry is
Invoke config ``images.registry`` (``INVOKE_IMAGES_REGISTRY``), default ``ghcr.io/propertea``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.collection import Collection
from invoke.tasks import task

from tasks.core import console
from tasks.core.errors import UserError

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.runner import Runner
    from tasks.images.plan import ImageTags, Registry
    from tasks.release.components import Component


def _root() -> Path:
    return Path.cwd()


def _registry(c: Context) -> Registry:
    from tasks.core.sections import ImagesConfig
    from tasks.core.settings import load_section
    from tasks.images.plan import Registry

    return Registry.parse(load_section(c, "images", ImagesConfig).registry or "ghcr.io/propertea")


def _components(names: list[str] | None) -> list[Component]:
    from tasks.release.components import discover, select

    return select(discover(_root()), names)


def _chosen(names: list[str] | None, version: str | None) -> list[Component]:
    """The components a task works on; an explicit --version only makes sense for one."""
    components = _components(names)
    if version and len(components) != 1:
        raise UserError("--version applies to one image: add --component NAME", code=2)
    return components


def _source(root: Path) -> str:
    from tasks.release.components import repository_url

    repo = os.environ.get("GITHUB_REPOSITORY")
    if repo:
        return f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{repo}"
    return repository_url(root) or ""


def _metas(
    runner: Runner, components: list[Component], version: str | None
) -> dict[str, ImageTags]:
    """Each component's tags and labels; the commit and the source are read once for all."""
    from tasks.images.plan import ImageTags, normalize_version
    from tasks.release import facts

    root = _root()
    # A read-only probe: it runs under --dry too, unless git itself is missing.
    sha = facts.full_sha(runner, root) or "0000000"
    source = _source(root)
    return {
        x.name: ImageTags(version=normalize_version(version or x.version), sha=sha, source=source)
        for x in components
    }


@task(name="list", help={"json": "print JSON instead of a table"})
def list_(c: Context, json: bool = False) -> None:
    """The images apps/ builds: .NET services (csproj) and the web portal (Dockerfile)."""
    registry = _registry(c)
    components = _components(None)
    if json:
        console.print_json([{**x.as_dict(), "ref": registry.ref(x.image)} for x in components])
        return
    console.table(
        ["component", "kind", "version", "image", "base image", "path"],
        [
            (x.name, x.kind, x.version, registry.ref(x.image), x.base_image, x.path)
            for x in components
        ],
    )


@task(
    iterable=["component"],
    help={
        "component": "only this component (repeatable; default: all)",
        "version": "version to tag instead of version.txt (one component only)",
        "json": "print JSON instead of text",
    },
)
def tags(
    c: Context, component: list[str] | None = None, version: str | None = None, json: bool = False
) -> None:
    """Tags (vX.Y.Z and the short commit SHA) and OCI labels of each image."""
    from tasks.core.runner import Runner

    components = _chosen(component or None, version)
    runner = Runner.from_context(c)
    registry = _registry(c)
    out: dict[str, Any] = {}
    metas = _metas(runner, components, version)
    for x in components:
        meta = metas[x.name]
        out[x.name] = {
            "image": registry.ref(x.image),
            "tags": meta.tags,
            "labels": meta.labels,
        }
    if json:
        console.print_json(out)
        return
    for name, data in out.items():
        refs = [f"{data['image']}:{t}" for t in data["tags"]]
        print(f"{name}: {', '.join(refs)}")
        for key, value in data["labels"].items():
            print(f"    {key}={value}")


def _build(c: Context, names: list[str] | None, version: str | None, *, push: bool) -> None:
    from tasks.core.runner import Runner
    from tasks.images import ops

    components = _chosen(names, version)
    runner = Runner.from_context(c)
    metas = _metas(runner, components, version)
    runner.converge(ops.build(_root(), components, metas, _registry(c), push=push))


_BUILD_HELP = {
    "component": "only this component (repeatable; default: all)",
    "version": "version to tag instead of version.txt (one component only)",
}


@task(iterable=["component"], help=_BUILD_HELP)
def build(c: Context, component: list[str] | None = None, version: str | None = None) -> None:
    """Build images: .NET to build/images/<component>.tar.gz, the portal into the engine."""
    _build(c, component or None, version, push=False)


@task(iterable=["component"], help=_BUILD_HELP)
def push(c: Context, component: list[str] | None = None, version: str | None = None) -> None:
    """Build and push images with both tags to images.registry; any push error fails."""
    _build(c, component or None, version, push=True)


@task(
    help={
        "release_outputs": "file with release-please-action outputs as JSON "
        "(toJSON(steps.<id>.outputs)); '-' reads stdin",
        "since": "instead: components with files changed since this ref (merge base); "
        "exactly one of the two is required",
    }
)
def matrix(c: Context, release_outputs: str | None = None, since: str | None = None) -> None:
    """JSON for a GitHub Actions matrix: {"include": [{component, path, kind, version}]}."""
    import sys

    from tasks.core.runner import Runner
    from tasks.images.matrix import from_changed_files, from_release_outputs, matrix_json
    from tasks.release import facts

    if bool(release_outputs) == bool(since):
        raise UserError("pass exactly one of --release-outputs FILE or --since REF", code=2)
    components = _components(None)
    if release_outputs:
        if release_outputs == "-":
            text = sys.stdin.read()
        else:
            path = Path(release_outputs)
            if not path.exists():
                raise UserError(f"--release-outputs {path}: no such file", code=2)
            text = path.read_text()
        entries = from_release_outputs(text, components)
    else:
        runner = Runner.from_context(c)
        entries = from_changed_files(facts.changed_files(runner, _root(), str(since)), components)
    print(matrix_json(entries))


@task(
    help={
        "component": "the service whose deployment to update, deploy/services/<component> "
        "(required)",
        "version": "the released version, X.Y.Z or vX.Y.Z (required)",
    }
)
def promote(c: Context, component: str | None = None, version: str | None = None) -> None:
    """Set the image tag in deploy/services/<component>/kustomization.yaml (comments kept)."""
    from tasks.core.runner import Runner
    from tasks.images import ops
    from tasks.images import overlay as pr
    from tasks.images.plan import normalize_version

    if not component or not version:
        raise UserError("pass --component NAME and --version X.Y.Z", code=2)
    (target,) = _components([component])
    tag = f"v{normalize_version(version)}"
    root = _root()
    path = pr.kustomization_path(root, target.name)
    if not path.exists():
        raise UserError(
            f"{path.relative_to(root)}: missing; the service's Kustomize overlay pins its image "
            "there (deploy/CONVENTIONS.md)."
        )
    runner = Runner.from_context(c)
    runner.converge(ops.promote(root, path, target.name, _registry(c).ref(target.image), tag))


ns = Collection("images", list_, tags, build, push, matrix, promote)
