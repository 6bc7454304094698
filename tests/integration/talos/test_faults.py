"""talos.bootstrap under real faults: two runs at once, and SIGINT or SIGKILL in each phase
followed by a re-run. Real `inv` processes and signals; talosctl, helm and kubectl faked.

What counts: the re-run finishes every phase (recovered), no finished phase's marker or file is
lost, and nothing is left behind: no temporary file, no decrypted bundle after the re-run, no
running tool (after SIGINT the runner stops it; after SIGKILL the kernel does, through the
parent-death signal the runner arms in every tool it starts).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.talos.conftest import CP, WRITES, Workspace
from tests.integration.talos.test_bootstrap import ALL_PHASES

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
HANG = 6.0

#: The first command of each phase (after the earlier ones are done), made to hang.
FIRST: dict[str, dict[str, Any]] = {
    "config": {"tool": "talosctl", "match": ["gen", "config"]},
    "wait-maintenance": {"tool": "talosctl", "match": ["get", "disks", "--insecure"]},
    "apply": {"tool": "talosctl", "match": ["apply-config", "--nodes", CP]},
    "bootstrap-etcd": {"tool": "talosctl", "match": ["bootstrap"]},
    "kubeconfig": {"tool": "talosctl", "match": ["kubeconfig"]},
    "gateway-api-crds": {"tool": "kubectl", "match": ["apply"]},
    "cilium": {"tool": "helm", "match": ["repo", "add"]},
    "nodes-ready": {"tool": "kubectl", "match": ["wait"]},
}


def hanging(phase: str) -> list[dict[str, Any]]:
    """The phase's first command hangs; it keeps the writes the real tool would make."""
    rule = {**FIRST[phase], "sleep": HANG}
    for write in WRITES:
        if write["match"] == rule["match"][: len(write["match"])]:
            rule["writes"] = write["writes"]
    return [rule]


def start(ws: Workspace, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
        cwd=ws.root,
        env={**os.environ, **ws.env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_call(ws: Workspace, match: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(_has(argv, match) for argv in ws.calls()):
            return
        time.sleep(0.05)
    raise AssertionError(f"{match} never ran: {ws.calls()}")


def _has(argv: list[str], match: list[str]) -> bool:
    it = iter(argv)
    return all(token in it for token in match)


def fake_processes(ws: Workspace) -> list[int]:
    """PIDs of this workspace's fake tools still running (found by the log path in their
    environment: their command lines name only the shared fake script)."""
    mine = f"FAKE_TOOLS_LOG={ws.fake.log}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # gone, or a kernel thread
            continue
        if mine in environ:
            found.append(int(proc.name))
    return found


def leftovers(ws: Workspace) -> list[Path]:
    """Temporary files and decrypted bundles anywhere in the state dir or the repository."""
    found = []
    for base in (ws.state, ws.root):
        for path in base.rglob("*"):
            name = path.name
            if ".tmp" in name or name.endswith((".dec.yaml", ".decrypted")) or "decrypted" in name:
                found.append(path)
    return found


@dataclass
class Outcome:
    """What one interrupted bootstrap and the re-run after it left (read by benchmarks/faults.py
    for the fault table too)."""

    returncode: int
    stderr: str
    phases_after_signal: list[str]
    left_after_signal: list[Path]
    orphans: int  # fake tools still running right after the signal
    rerun_code: int
    rerun_output: str
    phases_after_rerun: list[str]
    left_after_rerun: list[Path]

    def lost(self, before: list[str]) -> int:
        """Finished phases whose marker vanished."""
        return len(set(before) - set(self.phases_after_signal))


def interrupt_then_rerun(ws: Workspace, phase: str, sig: signal.Signals) -> Outcome:
    """Earlier phases done; ``phase``'s first command hangs; ``sig`` reaches the real `inv`
    process while it runs; then the same command again."""
    ws.encrypt_bundle()
    ws.seed(ALL_PHASES[: ALL_PHASES.index(phase)])
    ws.scenario(hanging(phase))
    run = start(ws, "talos.bootstrap")
    wait_for_call(ws, FIRST[phase]["match"])
    run.send_signal(sig)
    _, err = run.communicate(timeout=30)
    # The kernel's parent-death SIGKILL is delivered at once; the tool takes a moment to go.
    settle = time.monotonic() + 2
    while fake_processes(ws) and time.monotonic() < settle:
        time.sleep(0.05)
    orphans = len(fake_processes(ws))
    phases, left = ws.phases(), leftovers(ws)
    # An orphan (after SIGKILL) runs to its own end: wait, so the re-run meets a quiet system.
    deadline = time.monotonic() + HANG + 10
    while fake_processes(ws) and time.monotonic() < deadline:
        time.sleep(0.1)
    ws.scenario([])
    again = ws.inv("talos.bootstrap")
    return Outcome(
        run.returncode, err, phases, left, orphans,
        again.returncode, again.output, ws.phases(), leftovers(ws),
    )  # fmt: skip


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.parametrize("phase", ALL_PHASES)
def test_a_signal_in_any_phase_then_a_rerun_finishes(
    ws: Workspace, phase: str, sig: signal.Signals
) -> None:
    before = ALL_PHASES[: ALL_PHASES.index(phase)]
    outcome = interrupt_then_rerun(ws, phase, sig)
    if sig is signal.SIGINT:
        assert outcome.returncode == 130, outcome.stderr
        err = outcome.stderr
        assert "Interrupted during" in err and "Run the task again to resume" in err
        assert "Traceback" not in err
    else:
        assert outcome.returncode == -signal.SIGKILL
    assert outcome.orphans == 0, "no tool runs on after the task is gone"
    assert outcome.phases_after_signal == sorted(before), "the interrupted phase stays open"
    left = outcome.left_after_signal
    if sig is signal.SIGKILL and phase == "config":
        # Killed with the bundle decrypted for gen config (0600, in the state dir): the next run
        # removes it before anything else.
        assert [p.name for p in left] == ["secrets.decrypted.yaml"]
    else:
        assert left == []
    assert outcome.rerun_code == 0, outcome.rerun_output
    assert outcome.phases_after_rerun == sorted(ALL_PHASES)
    assert outcome.left_after_rerun == []


def test_two_bootstraps_at_once(ws: Workspace) -> None:
    """The second fails at once naming the first; the bundle is generated and etcd bootstrapped
    exactly once."""
    ws.scenario([{**WRITES[0], "sleep": 2.0}])
    first = start(ws, "talos.bootstrap")
    wait_for_call(ws, ["gen", "secrets"])
    second = start(ws, "talos.bootstrap")
    out2, err2 = second.communicate(timeout=60)
    _, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 1, out2 + err2
    assert f"is in use by PID {first.pid}" in err2
    made = ws.calls("talosctl")
    assert sum(_has(argv, ["gen", "secrets"]) for argv in made) == 1
    assert sum(argv[0] == "bootstrap" for argv in made) == 1
    assert ws.phases() == sorted(ALL_PHASES)
