"""Unit tests are pure: no process is started (real tools belong in tests/integration)."""

from __future__ import annotations

import _posixsubprocess
import os
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

# Importing plumbum runs `uname -p` once (platform.uname(), then cached): done here, before any
# guard, so a test that first imports the runner lazily does not fail for plumbum's process.
import plumbum  # noqa: F401
import pytest

#: Every way Python starts a process here: subprocess (and plumbum, asyncio, os.popen on top of
#: it) ends in Popen and ``_posixsubprocess.fork_exec``; os.system, os.spawn*, os.exec* and
#: os.posix_spawn* do not go through subprocess at all.
OS_STARTERS: tuple[str, ...] = tuple(
    name
    for name in (
        "system",
        "fork",
        "forkpty",
        "posix_spawn",
        "posix_spawnp",
        *(f"exec{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")),
        *(f"spawn{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")),
    )
    if hasattr(os, name)
)


class StartedAProcess(AssertionError):
    pass


def _refuse(route: str, *, method: bool = False) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        args = args[1:] if method else args  # a method's self is a half-built object
        what = args[0] if args else kwargs.get("args")
        raise StartedAProcess(
            f"a unit test started a process through {route} ({what!r}): "
            "move it to tests/integration or feed it facts"
        )

    return refuse


@pytest.fixture(autouse=True)
def no_processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("subprocess.Popen", method=True))
    monkeypatch.setattr(_posixsubprocess, "fork_exec", _refuse("_posixsubprocess.fork_exec"))
    for name in OS_STARTERS:
        monkeypatch.setattr(os, name, _refuse(f"os.{name}"))
    yield
