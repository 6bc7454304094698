"""Naming the holder of a lock: it writes its name just after taking the lock."""

from __future__ import annotations

import threading
from pathlib import Path

from tasks.core.lock import _holder


def test_a_holder_that_has_not_named_itself_yet_is_waited_for(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    lock.write_text("")
    later = threading.Timer(0.1, lambda: lock.write_text("PID 42 (inv secrets.init)\n"))
    later.start()
    try:
        assert _holder(lock, patience=5) == "PID 42 (inv secrets.init)"
    finally:
        later.join()


def test_a_lock_file_that_stays_empty_names_another_process(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    lock.write_text("")
    assert _holder(lock, patience=0.05) == "another process"
    assert _holder(tmp_path / "gone", patience=0.05) == "another process"
