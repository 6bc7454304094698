"""Fault table: each fault on real processes, files and signals; recovered, lost, leaked.

Run: ``python benchmarks/faults.py`` (``nox -s bench`` runs it). Prints one row per fault and the
totals. "lost" counts a previous good file that a fault damaged or a marker that vanished; "leaked"
counts a temporary file, a lock or a child process left behind. Both must be 0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tasks.core.atomic import stale_temporaries  # noqa: E402
from tasks.core.lock import Locked, hold  # noqa: E402
from tasks.core.state import ClusterState  # noqa: E402


@dataclass
class Row:
    fault: str
    recovered: bool
    lost: int
    leaked: int


def _child(code: str, *, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    from tests.limits import file_size_limit

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        preexec_fn=file_size_limit(limit) if limit is not None else None,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def full_disk_runner_write(tmp: Path) -> Row:
    target = tmp / "talosconfig"
    target.write_text("good\n")
    _child(
        f"""
        from pathlib import Path
        from tasks.core.runner import Runner, WriteFile
        try:
            Runner().write(WriteFile(Path({str(target)!r}), "x" * 100000, secret=True))
        except Exception:
            pass
        """,
        limit=4096,
    )
    lost = int(target.read_text() != "good\n")
    return Row(
        "file-size limit during a runner write", not lost, lost, len(stale_temporaries(target))
    )


def full_disk_phase_markers(tmp: Path) -> Row:
    state = ClusterState(tmp)
    state.mark_done("bootstrap", "config")
    _child(
        f"""
        from pathlib import Path
        from tasks.core.state import ClusterState
        try:
            ClusterState(Path({str(tmp)!r})).mark_done("bootstrap", "x" * 100000)
        except Exception:
            pass
        """,
        limit=2048,
    )
    lost = int(state.done_phases("bootstrap") != ["config"])
    leaked = len(stale_temporaries(tmp / "phases.json"))
    return Row("file-size limit during phase markers", not lost, lost, leaked)


def kill_mid_marker_write(tmp: Path) -> Row:
    state = ClusterState(tmp)
    state.mark_done("bootstrap", "config")
    _child(
        f"""
        import os, signal
        from pathlib import Path
        import tasks.core.atomic as atomic
        atomic.commit = lambda tmp, path: os.kill(os.getpid(), signal.SIGKILL)
        from tasks.core.state import ClusterState
        ClusterState(Path({str(tmp)!r})).mark_done("bootstrap", "apply")
        """
    )
    lost = int(state.done_phases("bootstrap") != ["config"])
    state.mark_done("bootstrap", "apply")  # the next run
    leaked = len(stale_temporaries(tmp / "phases.json"))
    recovered = sorted(state.done_phases("bootstrap")) == ["apply", "config"]
    return Row("SIGKILL between write and rename", recovered and not lost, lost, leaked)


def concurrent_run(tmp: Path) -> Row:
    lock = tmp / ".lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time\nfrom pathlib import Path\nfrom tasks.core.lock import hold\n"
            "with hold(Path(sys.argv[1]), 't'):\n    print('held', flush=True)\n"
            "    time.sleep(60)\n",
            str(lock),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    holder.stdout.readline()
    refused = False
    try:
        with hold(lock, "state"):
            pass
    except Locked:
        refused = True
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    taken_over = False
    with hold(lock, "state"):
        taken_over = True
    return Row("second run while the first holds the state", refused and taken_over, 0, 0)


def sigint_mid_command(_tmp: Path) -> Row:
    marker = "sleep 61.625"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom tasks.core.errors import UserError\n"
            "from tasks.core.runner import Runner, cmd\nprint('go', flush=True)\n"
            f"try:\n    Runner().run(cmd('sh', '-c', '{marker} & {marker}', step='apply'))\n"
            "except UserError as e:\n    sys.exit(e.code)\n",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    left = subprocess.run(
        ["pgrep", "-f", f"^{marker}$"], capture_output=True, text=True, check=False
    ).stdout.split()
    for pid in left:
        os.kill(int(pid), signal.SIGKILL)
    return Row("Ctrl-C while a tool runs", proc.returncode == 130, 0, len(left))


def alias_bomb(tmp: Path) -> Row:
    spec = tmp / "cluster.yaml"
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    spec.write_text("\n".join(lines) + "\n")
    out = _child(
        f"""
        import time
        from pathlib import Path
        from tasks.core.config import problems_in
        from tasks.core.errors import ConfigError
        started = time.perf_counter()
        try:
            problems_in(Path({str(spec)!r}))
        except ConfigError as exc:
            print(exc)
        print(f"{{time.perf_counter() - started:.3f}}")
        """
    )
    refused = "anchors and aliases are not allowed" in out.stdout
    seconds = out.stdout.strip().splitlines()[-1]
    return Row(f"YAML alias bomb (refused in {seconds} s)", refused, 0, 0)


def bootstrap_signals(tmp: Path) -> list[Row]:
    """SIGINT and SIGKILL reach a real `inv talos.bootstrap` in each phase (talosctl, helm and
    kubectl faked; real sops and age), then the same command runs again. Recovered: the re-run
    finishes every phase. Lost: a finished phase's marker gone. Leaked: a tool still running
    after the signal, or a temporary or decrypted file left after the re-run."""
    from tests.fakes import FakeTools, installed
    from tests.integration.talos.conftest import make_workspace
    from tests.integration.talos.test_bootstrap import ALL_PHASES
    from tests.integration.talos.test_faults import interrupt_then_rerun

    key = tmp / "age.txt"
    made = subprocess.run(
        ["age-keygen", "-o", str(key)], capture_output=True, text=True, check=True
    )
    recipient = made.stderr.split("Public key: ", 1)[1].strip()
    rows = []
    for phase in ALL_PHASES:
        for sig in (signal.SIGINT, signal.SIGKILL):
            case = tmp / f"{phase}-{sig.name}"
            with installed(FakeTools(case / "fake-tools")) as fake:
                ws = make_workspace(case, fake, None, (key, recipient))
                outcome = interrupt_then_rerun(ws, phase, sig)
            before = ALL_PHASES[: ALL_PHASES.index(phase)]
            recovered = outcome.rerun_code == 0 and outcome.phases_after_rerun == sorted(ALL_PHASES)
            leaked = len(outcome.left_after_rerun) + outcome.orphans
            if sig is signal.SIGINT:
                recovered = recovered and outcome.returncode == 130
            rows.append(
                Row(
                    f"{sig.name} in bootstrap phase {phase}",
                    recovered,
                    outcome.lost(before),
                    leaked,
                )
            )
    return rows


FAULTS: list[Callable[[Path], Row | list[Row]]] = [
    full_disk_runner_write,
    full_disk_phase_markers,
    kill_mid_marker_write,
    concurrent_run,
    sigint_mid_command,
    alias_bomb,
    bootstrap_signals,
]


def main() -> None:
    rows: list[Row] = []
    for fault in FAULTS:
        with tempfile.TemporaryDirectory(prefix="pt-fault-") as tmp:
            found = fault(Path(tmp))
            rows.extend(found if isinstance(found, list) else [found])
    width = max(len(r.fault) for r in rows)
    print(f"{'fault':<{width}}  recovered  lost  leaked")
    for r in rows:
        print(
            f"{r.fault:<{width}}  {'yes' if r.recovered else 'NO':>9}  {r.lost:>4}  {r.leaked:>6}"
        )
    totals = {
        "tried": len(rows),
        "recovered": sum(r.recovered for r in rows),
        "lost": sum(r.lost for r in rows),
        "leaked": sum(r.leaked for r in rows),
    }
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
