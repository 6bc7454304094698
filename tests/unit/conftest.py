"""Unit tests are pure: no process is started (real tools belong in tests/integration)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest


class StartedAProcess(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise StartedAProcess(
            f"a unit test started a process ({args[0] if args else kwargs.get('args')}): "
            "move it to tests/integration or feed it facts"
        )

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    yield
