"""Ctrl-C and hung tools: the running tool and what it started are stopped; the task exits 130."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


def _alive(marker: str) -> list[str]:
    # Anchored: only the sleeps themselves, not the shell or Python lines that mention them.
    found = subprocess.run(
        ["pgrep", "-f", f"^{marker}$"], capture_output=True, text=True, check=False
    )
    return found.stdout.split()


def interrupt_when_running(code: str, marker: str) -> tuple[int, str]:
    """Run ``code`` in a child Python, wait for ``started`` and two ``marker`` processes, send
    SIGINT; returns the exit code and stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 10
    while len(_alive(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_alive(marker)) == 2
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err


def test_sigint_stops_the_tool_and_its_children_and_exits_130() -> None:
    marker = "sleep 53.375"
    seconds = "53.375"
    code = f"""
        import sys
        from tasks.core.errors import UserError
        from tasks.core.runner import Runner, cmd
        try:
            print("started", flush=True)
            Runner().run(cmd("sh", "-c", "sleep {seconds} & sleep {seconds}", step="phase apply"))
        except UserError as exc:
            print(exc, file=sys.stderr)
            sys.exit(exc.code)
    """
    returncode, err = interrupt_when_running(code, marker)
    assert returncode == 130
    assert "Interrupted during phase apply: sh (and what it started) was stopped" in err
    assert "Traceback" not in err
    assert _alive(marker) == []


def test_a_hung_tool_is_stopped_at_its_timeout_with_its_children() -> None:
    from tasks.core.errors import CommandFailed
    from tasks.core.runner import Runner, cmd

    marker = "sleep 47.125"
    with pytest.raises(CommandFailed) as caught:
        Runner().run(cmd("sh", "-c", f"{marker} & {marker}", step="generate configs", timeout=0.5))
    assert "timed out after 0s" in str(caught.value) or "timed out after 1s" in str(caught.value)
    assert _alive(marker) == []
