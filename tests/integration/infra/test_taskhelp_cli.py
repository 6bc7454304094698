"""Moved from tests/unit/infra/test_taskhelp.py: these start processes (real tools or `inv`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.infra.test_taskhelp import NAMESPACES, UNDOCUMENTED

pytestmark = pytest.mark.integration


def test_every_option_has_help_and_every_task_a_docstring(repo_root: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", UNDOCUMENTED, *NAMESPACES],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == {}
