"""Bounded waits: poll until something is done or a deadline passes.

A timeout says what was awaited, what the last try saw and what to look at. :func:`until_ok`
also caps each try (a hung tool is killed at the deadline); under ``--dry`` the runner prints
the command once. Time comes from a :class:`Clock` so tests can run a wait without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tasks.core.errors import CommandFailed, UserError

if TYPE_CHECKING:
    # Types only: the runner itself imports this module for its waits.
    from tasks.core.runner import Command, Result, Runner


class TimedOut(UserError):
    """A bounded wait ran out of time."""


@dataclass(frozen=True)
class Clock:
    """Time as a wait sees it (tests pass their own)."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def timeout_message(what: str, timeout: float, attempts: int, last: str, look_at: str) -> str:
    lines = [f"Timed out after {timeout:g}s waiting for {what} ({attempts} attempt(s))."]
    if last:
        lines.append("  last error:")
        lines += [f"    {line}" for line in last.strip().splitlines()]
    lines.append(f"  look at: {look_at}")
    return "\n".join(lines)


def until(
    probe: Callable[[], tuple[bool, str]],
    *,
    timeout: float,
    interval: float,
    what: str,
    look_at: str,
    say: Callable[[str], None] | None = None,
    clock: Clock | None = None,
) -> None:
    """Poll a read-only probe returning (done, detail) until done; ``say`` hears the first miss.

    The last try is at the deadline; raises :class:`TimedOut` with that try's detail.
    """
    clock = clock or Clock()
    deadline = clock.now() + timeout
    attempts = 0
    while True:
        attempts += 1
        done, detail = probe()
        if done:
            return
        left = deadline - clock.now()
        if left <= 0:
            raise TimedOut(timeout_message(what, timeout, attempts, detail, look_at))
        if attempts == 1 and say:
            say(f"    waiting for {what} (up to {timeout:g}s)")
        clock.sleep(min(interval, left))


def until_ok(
    runner: Runner,
    command: Command,
    *,
    timeout: float,
    interval: float,
    what: str,
    look_at: str,
    clock: Clock | None = None,
) -> Result:
    """Run ``command`` until it succeeds; each try is capped by what is left of the deadline."""
    clock = clock or Clock()
    deadline = clock.now() + timeout
    results: list[Result] = []

    def attempt() -> tuple[bool, str]:
        remaining = max(deadline - clock.now(), 1.0)
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
        clock=clock,
    )
    return results[-1]
