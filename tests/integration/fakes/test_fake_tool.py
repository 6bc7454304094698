"""The fake CLI itself: matching, recording, injected failures, files written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.fakes import FakeTools

pytestmark = pytest.mark.integration


def call(fake: FakeTools, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(fake.bin / argv[0]), *argv[1:]],
        input=stdin,
        capture_output=True,
        text=True,
        env=fake.env,
        check=False,
    )


def test_records_argv_stdin_and_env(fake_tools: FakeTools) -> None:
    proc = call(fake_tools, "helm", "upgrade", "--install", "cilium", stdin="values")
    assert proc.returncode == 0
    [record] = fake_tools.calls("helm")
    assert record["argv"] == ["upgrade", "--install", "cilium"]
    assert record["stdin"] == "values"


def test_first_matching_rule_answers(fake_tools: FakeTools) -> None:
    fake_tools.scenario(
        [
            {"tool": "talosctl", "match": ["bootstrap"], "stderr": "AlreadyExists", "exit": 1},
            {"tool": "talosctl", "match": ["re:^vers"], "stdout": "Tag: v1.13.9\n"},
        ]
    )
    assert call(fake_tools, "talosctl", "bootstrap", "-n", "x").stderr == "AlreadyExists"
    assert call(fake_tools, "talosctl", "version", "--client").stdout == "Tag: v1.13.9\n"
    assert call(fake_tools, "talosctl", "health").returncode == 0  # default rule


def test_tokens_must_appear_in_order(fake_tools: FakeTools) -> None:
    fake_tools.scenario([{"match": ["get", "nodes"], "exit": 3}])
    assert call(fake_tools, "kubectl", "get", "pods", "nodes").returncode == 3
    assert call(fake_tools, "kubectl", "nodes", "get").returncode == 0


def test_fail_first_n_times_then_succeed(fake_tools: FakeTools) -> None:
    fake_tools.scenario(
        [{"match": ["apply-config"], "fail_times": 2, "fail_stderr": "connection refused"}]
    )
    codes = [call(fake_tools, "talosctl", "apply-config").returncode for _ in range(3)]
    assert codes == [1, 1, 0]


def test_writes_files_the_real_tool_would(fake_tools: FakeTools, tmp_path: Path) -> None:
    fake_tools.scenario(
        [{"match": ["gen", "config"], "writes": {"{flag:--output}/talosconfig": "ctx"}}]
    )
    out = tmp_path / "out"
    call(fake_tools, "talosctl", "gen", "config", "c", "https://x:6443", f"--output={out}")
    assert (out / "talosconfig").read_text() == "ctx"


def test_fail_counter_is_shared_safely_by_parallel_calls(fake_tools: FakeTools) -> None:
    fake_tools.scenario([{"match": ["apply-config"], "fail_times": 3}])
    procs = [
        subprocess.Popen(
            [str(fake_tools.bin / "talosctl"), "apply-config"],
            env=fake_tools.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(8)
    ]
    codes = sorted(p.wait() for p in procs)
    assert codes == [0] * 5 + [1] * 3
