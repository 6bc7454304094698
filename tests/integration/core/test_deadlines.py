"""A phase's deadline bounds every command in it: each gets at most what is left."""

from __future__ import annotations

import time

import pytest

from tasks.core.errors import CommandFailed
from tasks.core.runner import Runner, cmd

pytestmark = pytest.mark.integration


def test_a_command_gets_only_what_is_left_of_the_phase() -> None:
    runner = Runner()
    started = time.monotonic()
    with runner.deadline(1.0, "phase apply"), pytest.raises(CommandFailed) as caught:
        runner.run(cmd("sleep", "30", timeout=600, step="apply the config"))
    assert time.monotonic() - started < 10
    assert "(phase apply ran past its deadline of 1s)" in str(caught.value)


def test_a_shorter_own_timeout_still_applies() -> None:
    runner = Runner()
    with runner.deadline(60, "phase apply"), pytest.raises(CommandFailed) as caught:
        runner.run(cmd("sleep", "30", timeout=0.5))
    assert "timed out after" in str(caught.value)
    assert "deadline" not in str(caught.value)


def test_nothing_starts_once_the_deadline_passed() -> None:
    runner = Runner()
    with runner.deadline(0.2, "phase cilium"):
        time.sleep(0.3)
        with pytest.raises(CommandFailed) as caught:
            runner.run(cmd("true", step="install Cilium"))
    assert "phase cilium ran past its deadline of 0.2s before install Cilium could start" in str(
        caught.value
    )


def test_an_inner_deadline_never_extends_the_outer_one() -> None:
    runner = Runner()
    with (
        runner.deadline(0.5, "phase outer"),
        runner.deadline(60, "phase inner"),
        pytest.raises(CommandFailed) as caught,
    ):
        runner.run(cmd("sleep", "30"))
    assert "phase outer ran past its deadline" in str(caught.value)
    # Outside every deadline the command's own timeout (or the default) is all that applies.
    assert runner.run(cmd("true")).ok
