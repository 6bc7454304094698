"""Doubles for the CLIs that cannot run here (see fake_tool.py) and the fixture installing them.

Usage in a test::

    def test_bootstrap(fake_tools):
        fake_tools.scenario([{"tool": "talosctl", "match": ["bootstrap"], "exit": 0}])
        ...run the task...
        assert fake_tools.argvs("talosctl") == [["bootstrap", "--nodes", "192.168.50.10"]]
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FAKE_SCRIPT = Path(__file__).with_name("fake_tool.py")

#: The tools the fake stands in for.
FAKED = ("talosctl", "helm", "argocd", "dotnet", "cilium", "hubble", "kubectl", "az")


@dataclass
class FakeTools:
    """A bin directory of fakes plus the scenario, log and counters they share."""

    root: Path
    tools: Sequence[str] = FAKED
    record_env: list[str] = field(default_factory=lambda: ["KUBECONFIG", "TALOSCONFIG"])

    def __post_init__(self) -> None:
        self.bin = self.root / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.log = self.root / "calls.jsonl"
        self.state = self.root / "state"
        self.scenario_file = self.root / "scenario.json"
        for tool in self.tools:
            wrapper = self.bin / tool
            # A wrapper rather than a symlink: pins the interpreter running the tests.
            wrapper.write_text(
                f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_SCRIPT}" --as {tool} "$@"\n'
            )
            wrapper.chmod(0o755)
        self.scenario([])

    @property
    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "FAKE_TOOLS_SCENARIO": str(self.scenario_file),
            "FAKE_TOOLS_LOG": str(self.log),
            "FAKE_TOOLS_STATE": str(self.state),
        }

    def scenario(
        self, rules: list[dict[str, Any]], *, default: dict[str, Any] | None = None
    ) -> None:
        """Replace the scenario; call counters restart."""
        self.scenario_file.write_text(
            json.dumps(
                {"rules": rules, "default": default or {"exit": 0}, "record_env": self.record_env}
            )
        )
        for counter in self.state.glob("*.count"):
            counter.unlink()

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        records = [json.loads(line) for line in self.log.read_text().splitlines() if line]
        return [r for r in records if tool is None or r["tool"] == tool]

    def argvs(self, tool: str | None = None) -> list[list[str]]:
        return [r["argv"] for r in self.calls(tool)]

    def reset_log(self) -> None:
        self.log.unlink(missing_ok=True)


@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """``env`` set in os.environ for the block, the previous values back after it (the runner
    starts every tool with os.environ as it is at that moment)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def installed(fake: FakeTools) -> Iterator[FakeTools]:
    """Put the fakes first on PATH for the tools this process starts."""
    with environment(fake.env):
        yield fake
