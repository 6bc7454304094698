"""Bounded waits: polling with a fake clock, the timeout message, per-try caps and --dry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.core.errors import UserError
from tasks.core.runner import Runner, cmd
from tasks.core.waits import Clock, TimedOut, until, until_ok

pytestmark = pytest.mark.integration


class FakeTime:
    """Time that only moves when the wait sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> Clock:
        return Clock(now=lambda: self.now, sleep=self.sleep)


def answers(*replies: tuple[bool, str]) -> Callable[[], tuple[bool, str]]:
    it = iter(replies)
    return lambda: next(it)


@pytest.mark.parametrize(
    ("replies", "sleeps", "said"),
    [
        ([(False, "not yet"), (False, "still not"), (True, "")], [7, 7], ["the thing"]),
        ([(True, "")], [], []),
    ],
)
def test_until_sleeps_the_interval_between_tries_and_says_the_first_miss(
    replies: list[tuple[bool, str]], sleeps: list[float], said: list[str]
) -> None:
    time, lines = FakeTime(), list[str]()
    until(
        answers(*replies),
        timeout=100,
        interval=7,
        what="the thing",
        look_at="y",
        say=lines.append,
        clock=time.clock(),
    )
    assert time.sleeps == sleeps
    assert lines == [f"    waiting for {what} (up to 100s)" for what in said]


def test_until_times_out_naming_what_the_last_detail_and_where_to_look() -> None:
    time = FakeTime()
    details = iter(["first", "second", "third", "still down\nno route"])
    with pytest.raises(TimedOut) as excinfo:
        until(
            lambda: (False, next(details)),
            timeout=2.5,
            interval=1,
            what="nodes",
            look_at="`inv infra.console`",
            clock=time.clock(),
        )
    assert excinfo.value.text == (
        "Timed out after 2.5s waiting for nodes (4 attempt(s)).\n"
        "  last error:\n"
        "    still down\n"
        "    no route\n"
        "  look at: `inv infra.console`"
    )
    assert time.sleeps == [1, 1, 0.5]  # the last try is at the deadline, not past it
    assert isinstance(excinfo.value, UserError) and excinfo.value.code == 1


def test_until_with_no_time_tries_once_and_omits_an_empty_detail() -> None:
    with pytest.raises(TimedOut) as excinfo:
        until(
            answers((False, "")),
            timeout=0,
            interval=5,
            what="x",
            look_at="y",
            clock=FakeTime().clock(),
        )
    assert excinfo.value.text == "Timed out after 0s waiting for x (1 attempt(s)).\n  look at: y"


def test_until_lets_a_probe_error_through() -> None:
    def probe() -> tuple[bool, str]:
        raise UserError("virsh: permission denied")

    with pytest.raises(UserError, match="permission denied"):
        until(probe, timeout=10, interval=1, what="x", look_at="y", clock=FakeTime().clock())


def test_until_ok_retries_until_success(tmp_path: Path) -> None:
    marker = tmp_path / "count"
    script = f'n=$(cat {marker} 2>/dev/null || echo 0); echo $((n+1)) > {marker}; [ "$n" -ge 2 ]'
    lines: list[str] = []
    time = FakeTime()
    result = until_ok(
        Runner(out=lines.append),
        cmd("sh", "-c", script),
        timeout=60,
        interval=5,
        what="the thing",
        look_at="the logs",
        clock=time.clock(),
    )
    assert result.ok
    assert marker.read_text().strip() == "3"
    assert time.now == 10
    assert lines == ["    waiting for the thing (up to 60s)"]


def test_until_ok_times_out_with_the_last_error_and_what_to_look_at() -> None:
    with pytest.raises(TimedOut) as excinfo:
        until_ok(
            Runner(out=lambda _: None),
            cmd("sh", "-c", "echo connection refused >&2; exit 1", step="probe"),
            timeout=12,
            interval=5,
            what="the API",
            look_at="`inv talos.logs kubelet`",
            clock=FakeTime().clock(),
        )
    text = excinfo.value.text
    assert text.startswith("Timed out after 12s waiting for the API (4 attempt(s)).")
    assert "connection refused" in text
    assert text.endswith("look at: `inv talos.logs kubelet`")


def test_until_ok_caps_a_hung_try_at_the_deadline() -> None:
    with pytest.raises(TimedOut) as excinfo:
        until_ok(
            Runner(out=lambda _: None),
            cmd("sleep", "30"),
            timeout=1,
            interval=5,
            what="the hung tool",
            look_at="y",
        )
    assert "timed out" in excinfo.value.text.split("last error:")[1]


def test_until_ok_under_dry_run_prints_once() -> None:
    lines: list[str] = []
    until_ok(
        Runner(dry=True, out=lines.append),
        cmd("talosctl", "bootstrap"),
        timeout=1,
        interval=1,
        what="x",
        look_at="y",
    )
    assert lines == ["$ talosctl bootstrap"]


def test_until_waits_the_whole_timeout_even_when_shorter_than_the_interval() -> None:
    time = FakeTime()
    with pytest.raises(TimedOut, match=r"after 3s waiting for x \(2 attempt\(s\)\)"):
        until(
            answers((False, "a"), (False, "b")),
            timeout=3,
            interval=10,
            what="x",
            look_at="y",
            clock=time.clock(),
        )
    assert time.sleeps == [3]
