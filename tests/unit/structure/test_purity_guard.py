"""The unit conftest's guard refuses every route to a new process, so purity cannot slip."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest
from plumbum import local

from tests.unit.conftest import OS_STARTERS, StartedAProcess

#: Nothing runs even if a guard is missing: without it these fail with FileNotFoundError instead.
NOWHERE = "/nonexistent/propertea-purity-guard"


def test_subprocess_and_what_builds_on_it_are_refused() -> None:
    with pytest.raises(StartedAProcess, match=r"subprocess\.Popen"):
        subprocess.run([NOWHERE], check=False)
    with pytest.raises(StartedAProcess, match=r"subprocess\.Popen"):
        asyncio.run(asyncio.create_subprocess_exec(NOWHERE))


def test_plumbum_is_refused() -> None:
    with pytest.raises(StartedAProcess):
        local["true"]()


def test_os_routes_are_refused() -> None:
    with pytest.raises(StartedAProcess, match=r"os\.system"):
        os.system(NOWHERE)
    with pytest.raises(StartedAProcess, match=r"os\.execv"):
        os.execv(NOWHERE, [NOWHERE])
    with pytest.raises(StartedAProcess, match=r"os\.posix_spawn"):
        os.posix_spawn(NOWHERE, [NOWHERE], {})
    # fork has no harmless failing call: check it is replaced rather than call the real one.
    assert {"fork", "forkpty", "execvpe", "spawnv", "posix_spawnp"} <= set(OS_STARTERS)
    for name in OS_STARTERS:
        assert getattr(os, name).__qualname__.startswith("_refuse."), name
