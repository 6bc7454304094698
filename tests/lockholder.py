"""A real second process holding a toolkit lock, for tests of what a concurrent run sees."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_HOLDER = """
import sys, time
from pathlib import Path
from tasks.core.lock import hold
with hold(Path(sys.argv[1]), "test"):
    print("held", flush=True)
    time.sleep(60)
"""


def hold_in_child(lock: Path) -> subprocess.Popen[str]:
    """Start a process that holds ``lock``; returns once it does. Kill it to release."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(lock)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc
