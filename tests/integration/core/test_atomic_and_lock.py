"""Whole-or-nothing writes and one run at a time, with real processes, signals and rlimits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tasks.core.atomic import stale_temporaries, write_atomic
from tasks.core.errors import UserError
from tasks.core.lock import Locked, hold
from tasks.core.runner import Runner, WriteFile
from tasks.core.state import ClusterState
from tests.limits import file_size_limit
from tests.lockholder import hold_in_child

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.integration


def _limited_child(code: str, limit: int) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a child whose files may not grow past ``limit`` bytes (RLIMIT_FSIZE)."""

    # A user error ends the child as a task would: its message on stderr, exit 1.
    wrapped = (
        "import sys\nfrom tasks.core.errors import UserError\ntry:\n"
        + textwrap.indent(textwrap.dedent(code).strip(), "    ")
        + "\nexcept UserError as exc:\n    sys.exit(str(exc))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", wrapped],
        cwd=REPO,
        preexec_fn=file_size_limit(limit),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_write_replaces_whole_with_the_mode_set(tmp_path: Path) -> None:
    target = tmp_path / "secret.yaml"
    target.write_text("old\n")
    write_atomic(target, "new\n", mode=0o600)
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert stale_temporaries(target) == []


def test_a_failing_check_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.yaml"
    target.write_text("old\n")

    def refuse(tmp: Path) -> None:
        assert tmp.read_text() == "new\n"
        raise UserError("does not decrypt")

    with pytest.raises(UserError):
        write_atomic(target, "new\n", check=refuse)
    assert target.read_text() == "old\n"
    assert stale_temporaries(target) == []


@pytest.mark.parametrize("writer", ["runner", "phases"])
def test_a_file_size_limit_never_truncates_the_real_file(tmp_path: Path, writer: str) -> None:
    """Each writer under RLIMIT_FSIZE: the write fails, the previous content stays whole."""
    target = tmp_path / ("out.yaml" if writer == "runner" else "phases.json")
    before = json.dumps({"bootstrap": {"config": "t0", "apply": "t1"}}, indent=2) + "\n"
    target.write_text(before)
    big = "x" * 10_000
    code = {
        "runner": f"""
            from pathlib import Path
            from tasks.core.runner import Runner, WriteFile
            Runner().write(WriteFile(Path({str(target)!r}), {big!r}))
        """,
        "phases": f"""
            from pathlib import Path
            from tasks.core.state import ClusterState
            ClusterState(Path({str(tmp_path)!r})).mark_done("bootstrap", "{big}")
        """,
    }[writer]
    proc = _limited_child(code, limit=4096)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "intact" in proc.stderr or "Cannot write" in proc.stderr, proc.stderr
    assert target.read_text() == before
    assert stale_temporaries(target) == []


def test_phase_markers_survive_a_kill_mid_write(tmp_path: Path) -> None:
    state = ClusterState(tmp_path)
    state.mark_done("bootstrap", "config")
    code = f"""
        import os, signal
        from pathlib import Path
        import tasks.core.atomic as atomic
        real = atomic.commit
        def die(tmp, path):
            os.kill(os.getpid(), signal.SIGKILL)  # after the temp file is full, before the rename
        atomic.commit = die
        from tasks.core.state import ClusterState
        ClusterState(Path({str(tmp_path)!r})).mark_done("bootstrap", "apply")
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, check=False, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL
    assert state.done_phases("bootstrap") == ["config"]
    state.mark_done("bootstrap", "apply")  # the next run cleans up and records
    assert sorted(state.done_phases("bootstrap")) == ["apply", "config"]
    assert stale_temporaries(tmp_path / "phases.json") == []


def test_the_runner_writes_secrets_private(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "talosconfig"
    Runner().write(WriteFile(target, "key", secret=True))
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_second_run_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    holder = hold_in_child(lock)
    try:
        started = time.monotonic()
        with pytest.raises(Locked) as caught, hold(lock, "the test state"):
            pass
        assert time.monotonic() - started < 5, "it must not wait for the holder"
        assert f"PID {holder.pid}" in str(caught.value)
        assert caught.value.code == 1
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    holder = hold_in_child(lock)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with hold(lock, "the test state"):
        assert f"PID {os.getpid()}" in lock.read_text()


def test_a_task_calling_another_locked_task_keeps_its_lock(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    with hold(lock, "outer"), hold(lock, "inner"):
        assert f"PID {os.getpid()}" in lock.read_text()
