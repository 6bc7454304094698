"""Bounded waits: retry a command until it succeeds or a deadline passes.

Each try is itself capped (a hung tool is killed at the deadline), and a timeout says what was
awaited, the last error and what to look at. Under ``--dry`` the runner prints the command once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from tasks.core.errors import CommandFailed, UserError
from tasks.core.runner import Command, Result, Runner


class TimedOut(UserError):
    """A bounded wait ran out of time."""


def timeout_message(what: str, timeout: float, attempts: int, last: str, look_at: str) -> str:
    lines = [f"Timed out after {timeout:g}s waiting for {what} ({attempts} attempt(s))."]
    if last:
        lines.append("  last error:")
        lines += [f"    {line}" for line in last.strip().splitlines()]
    lines.append(f"  look at: {look_at}")
    return "\n".join(lines)


def until_ok(
    runner: Runner,
    command: Command,
    *,
    timeout: float,
    interval: float,
    what: str,
    look_at: str,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Result:
    """Run ``command`` until it succeeds; each try is capped by what is left of the deadline."""
    deadline = clock() + timeout
    results: list[Result] = []

    def attempt() -> tuple[bool, str]:
        remaining = max(deadline - clock(), 1.0)
        cap = min(command.timeout, remaining) if command.timeout else remaining
        try:
            results.append(runner.run(replace(command, timeout=cap)))
        except CommandFailed as exc:
            return False, exc.text
        return True, ""

    until(
        attempt,
        timeout=timeout,
        interval=interval,
        what=what,
        look_at=look_at,
        say=runner.say,
        sleep=sleep,
        clock=clock,
    )
    return results[-1]


def until(
    probe: Callable[[], tuple[bool, str]],
    *,
    timeout: float,
    interval: float,
    what: str,
    look_at: str,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Poll a read-only probe returning (done, detail) until done."""
    deadline = clock() + timeout
    attempts = 0
    while True:
        attempts += 1
        done, detail = probe()
        if done:
            return
        if clock() + interval >= deadline:
            raise TimedOut(timeout_message(what, timeout, attempts, detail, look_at))
        if attempts == 1:
            say(f"    waiting for {what} (up to {timeout:g}s)")
        sleep(interval)
