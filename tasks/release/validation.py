"""The ``release`` family of ``inv validate``: release-please's files match ``apps/``.

The check of ``inv release.config --check``, reported as findings, plus the base images the
components build on: pinned by tag (never implicit, never ``latest``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasks.core.errors import UserError
from tasks.validate.registry import register_family

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result


def check_release(ws: Workspace, result: Result) -> None:
    from tasks.release.components import discover
    from tasks.release.settings import CONFIG_FILE, MANIFEST_FILE, drift

    result.files.update({str(CONFIG_FILE), str(MANIFEST_FILE)})
    try:
        components = discover(ws.root)
    except UserError as exc:
        result.add("apps", None, "release", exc.text)
        return
    for problem in drift(ws.root, components):
        path, _, message = problem.partition(": ")
        result.add(path, None, "release", message)
    for component in components:
        unpinned = unpinned_base(component.base_image)
        if unpinned:
            where = f"{component.path}/{component.build_file}"
            result.add(where, None, "release", f"{component.name}: {unpinned}")


def unpinned_base(image: str) -> str | None:
    """Why a base image reference is not pinned, or None."""
    if not image:
        return "no base image set (ContainerBaseImage or FROM): pin one by tag"
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return None
    if ":" not in name:
        return f"base image {image} has no tag: pin one (e.g. :10.0)"
    if name.endswith(":latest"):
        return f"base image {image} uses :latest: pin a version tag"
    return None


register_family("release", check_release, "release-please config and manifest match apps/")
