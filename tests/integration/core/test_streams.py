"""Streamed commands (port-forwards, logs): output masked line by line; Ctrl-C and timeouts stop
the tool's whole process group."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tasks.core.errors import CommandFailed
from tasks.core.runner import MASK, Runner, cmd
from tests.integration.core.test_interrupts import _alive, interrupt_when_running
from tests.integration.core.test_runner import Out

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
SECRET = "s3cr3t-admin-password-value"


def test_streamed_output_is_masked_in_every_form() -> None:
    out = Out()
    encoded = base64.b64encode(SECRET.encode()).decode()
    runner = Runner(out=out, secrets=[SECRET])
    script = f"echo 'Forwarding {SECRET}'; echo 'b64 {encoded}' >&2; exit 3"
    assert runner.stream(cmd("sh", "-c", script)) == 3
    assert out.lines == [f"Forwarding {MASK}", f"b64 {MASK}"]


def test_a_secret_passed_in_the_environment_is_masked_when_echoed() -> None:
    out = Out()
    command = cmd("sh", "-c", 'echo "token=$TOKEN"', secret_env={"TOKEN": SECRET})
    assert Runner(out=out).stream(command) == 0
    assert out.lines == [f"token={MASK}"]


def test_terminal_streams_bypass_this_process() -> None:
    """sops edit, consoles and TUIs get the terminal itself: nothing is read here."""
    out = Out()
    assert Runner(out=out).stream(cmd("sh", "-c", "echo hi >/dev/null"), terminal=True) == 0
    assert out.lines == []


def test_a_streamed_tool_is_stopped_at_its_timeout_with_its_children() -> None:
    marker = "sleep 41.625"
    with pytest.raises(CommandFailed, match="timed out"):
        Runner(out=Out()).stream(cmd("sh", "-c", f"{marker} & {marker}", timeout=0.5))
    assert _alive(marker) == []


def test_ctrl_c_stops_a_streamed_tool_and_its_children() -> None:
    marker = "sleep 39.875"
    code = f"""
        import sys
        from tasks.core.runner import Runner, cmd
        code = Runner().stream(cmd("sh", "-c", "echo started; {marker} & {marker}"))
        sys.exit(code)
    """
    returncode, _ = interrupt_when_running(code, marker)
    assert returncode == 130
    assert _alive(marker) == []
