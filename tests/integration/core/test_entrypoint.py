"""tasks.py loads the package as `tasks`; `inv --list` stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO, Inv

pytestmark = pytest.mark.integration

HEAVY = (
    "docker",
    "git",
    "jsonschema",
    "kubernetes_validate",
    "ruamel",
    "pydantic",
    "rich",
    # The step kinds of operations (a score of dataclasses): only a task's body needs them.
    "tasks.core.operation",
)


def test_inv_list_shows_root_tasks(inv: Inv) -> None:
    result = inv("--list")
    assert result.returncode == 0, result.output
    assert "doctor" in result.stdout and "validate" in result.stdout


def test_inv_list_imports_nothing_heavy() -> None:
    code = (
        "import sys, invoke.program as p\n"
        "sys.argv=['inv','--list']\n"
        "try:\n    p.Program(namespace=None).run(['inv','--search-root',"
        f"{str(REPO)!r},'--list'], exit=False)\n"
        "except SystemExit: pass\n"
        f"heavy=[m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "doctor" in proc.stdout, proc.stdout  # the collection really loaded
    assert "HEAVY:\n" in proc.stdout, proc.stdout
