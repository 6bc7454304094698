"""Registry of check families.

A family is a function ``(ws: Workspace, result: Result) -> None`` that appends findings. The
built-in families live in ``tasks/validate/families/``. Another namespace adds its own without
touching the engine: put a module ``tasks/<namespace>/validation.py`` that calls

    from tasks.validate.registry import register_family
    register_family("release", check_release, "release-please config and changelog", external=False)

``inv validate`` imports every such module before it runs, so ``--only release`` works and the
family runs by default with the others. ``external=True`` marks a family that mostly waits on a
CLI, so it runs in a thread next to the in-process checks.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result

FamilyFn = Callable[["Workspace", "Result"], None]


@dataclass(frozen=True)
class Family:
    name: str
    fn: FamilyFn
    help: str
    external: bool = False


_FAMILIES: dict[str, Family] = {}

BUILTIN = (
    "cluster",
    "manifests",
    "values",
    "talos",
    "policies",
    "secrets",
    "workflows",
    "dockerfiles",
    "yaml",
)


def register_family(name: str, fn: FamilyFn, help: str, *, external: bool = False) -> None:
    """Add (or replace) a check family under ``name``."""
    _FAMILIES[name] = Family(name, fn, help, external)


def families() -> dict[str, Family]:
    """Every family: the built-ins in their documented order, then the registered ones."""
    _load_builtin()
    _load_plugins()
    ordered = {n: _FAMILIES[n] for n in BUILTIN if n in _FAMILIES}
    ordered.update({n: f for n, f in _FAMILIES.items() if n not in ordered})
    return ordered


def _load_builtin() -> None:
    for name in BUILTIN:
        if name not in _FAMILIES:
            importlib.import_module(f"tasks.validate.families.{name}")


def _load_plugins() -> None:
    package = Path(__file__).resolve().parent.parent
    for module in sorted(package.glob("*/validation.py")):
        importlib.import_module(f"tasks.{module.parent.name}.validation")
