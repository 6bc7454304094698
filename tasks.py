"""Invoke entry point.

Invoke imports this file as the module ``tasks``, which shadows the ``tasks/`` package beside it.
Load the package explicitly under that name so Invoke, pytest and mypy all see one ``tasks``.
"""

import importlib.util
import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent / "tasks"
_spec = importlib.util.spec_from_file_location(
    "tasks", _PACKAGE_DIR / "__init__.py", submodule_search_locations=[str(_PACKAGE_DIR)]
)
assert _spec is not None and _spec.loader is not None
_package = importlib.util.module_from_spec(_spec)
sys.modules["tasks"] = _package
_spec.loader.exec_module(_package)

ns = _package.ns
