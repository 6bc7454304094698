"""The ``release`` family of ``inv validate``: release-please's files match ``apps/``.

Same check as ``inv release.config --check``, reported as findings.
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


register_family("release", check_release, "release-please config and manifest match apps/")
