"""What ``images.build``, ``images.push`` and ``images.promote`` do, as operations.

The tasks in ``__init__`` choose the components and read their tags (facts: the commit SHA);
these operations yield the steps (:mod:`tasks.images.plan`) and say what was done.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core import console
from tasks.core import operation as op
from tasks.core.errors import UserError
from tasks.core.runner import WriteFile

if TYPE_CHECKING:
    from tasks.core.operation import Op
    from tasks.images.plan import ImageTags, Registry, WebBuild
    from tasks.release.components import Component


def build(
    root: Path,
    components: Sequence[Component],
    metas: Mapping[str, ImageTags],
    registry: Registry,
    *,
    push: bool,
) -> Op[None]:
    """Each component built (and pushed): .NET through the SDK, the portal through the engine."""
    from tasks.images.plan import dotnet_publish, web_build

    for x in components:
        meta = metas[x.name]
        if x.kind == "dotnet":
            yield dotnet_publish(root, x, registry, meta, push=push)
        else:
            yield from _build_web(web_build(root, x, registry, meta), push=push)
        done = f"{'pushed' if push else 'built'} {registry.ref(x.image)}: {', '.join(meta.tags)}"
        yield op.Proof(functools.partial(console.ok, done))


def _build_web(spec: WebBuild, *, push: bool) -> Op[None]:
    """Through the container engine's API (docker-py), not the docker CLI: the plan shows the
    CLI line each call equals, marked as such."""
    from tasks.images import engine

    def through_engine(call: Callable[[Any, WebBuild], None]) -> Callable[[], None]:
        def run() -> None:
            import requests
            from docker.errors import DockerException

            try:
                call(engine.client().api, spec)
            except (DockerException, requests.exceptions.ConnectionError) as exc:
                raise UserError(
                    f"container engine error while building {spec.component}: {exc}\n"
                    "Check DOCKER_HOST and that the engine is running."
                ) from None

        return run

    build = spec.build_display()
    yield op.Act(f"engine API build, as `{build.display()}`", through_engine(engine.build))
    if push:
        pushes = "; ".join(f"`{step.display()}`" for step in spec.push_display())
        yield op.Act(f"engine API push, as {pushes}", through_engine(engine.push))


def promote(root: Path, path: Path, component: str, image: str, tag: str) -> Op[None]:
    """The image tag in the service's kustomization set to ``tag``, comments kept."""
    from tasks.images import overlay as pr

    text = path.read_text()
    if pr.current_tag(text, path, image) == tag:
        console.ok(f"{component} already at {tag}: nothing to do")
        return
    yield WriteFile(path, pr.set_tag(text, path, image, tag), step=f"promote {component}")
    yield op.Proof(lambda: console.ok(f"{path.relative_to(root)}: {image} -> {tag}"))
