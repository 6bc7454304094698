"""talos.bootstrap under real faults: two runs at once, and SIGINT or SIGKILL in each phase
followed by a re-run. Real `inv` processes and signals; talosctl, helm and kubectl faked.

What counts: the re-run finishes every phase (recovered), no finished phase's marker or file is
lost, and nothing is left behind: no temporary file, no decrypted bundle, no running tool after
SIGINT (after SIGKILL the tool that was running is orphaned: the kernel gives it no signal, so it
runs to its own end; the test waits for it and says so).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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


def fake_processes(ws: Workspace) -> list[str]:
    found = subprocess.run(
        ["pgrep", "-f", str(ws.fake.root)], capture_output=True, text=True, check=False
    )
    return found.stdout.split()


def leftovers(ws: Workspace) -> list[Path]:
    """Temporary files and decrypted bundles anywhere in the state dir or the repository."""
    found = []
    for base in (ws.state, ws.root):
        for path in base.rglob("*"):
            name = path.name
            if ".tmp" in name or name.endswith((".dec.yaml", ".decrypted")) or "decrypted" in name:
                found.append(path)
    return found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.parametrize("phase", ALL_PHASES)
def test_a_signal_in_any_phase_then_a_rerun_finishes(
    ws: Workspace, phase: str, sig: signal.Signals
) -> None:
    before = ALL_PHASES[: ALL_PHASES.index(phase)]
    ws.encrypt_bundle()
    ws.seed(before)
    ws.scenario(hanging(phase))
    run = start(ws, "talos.bootstrap")
    wait_for_call(ws, FIRST[phase]["match"])
    run.send_signal(sig)
    _, err = run.communicate(timeout=30)

    if sig is signal.SIGINT:
        assert run.returncode == 130, err
        assert "Interrupted during" in err and "Run the task again to resume" in err
        assert "Traceback" not in err
        assert fake_processes(ws) == [], "SIGINT stops the running tool"
    else:
        assert run.returncode == -signal.SIGKILL
        deadline = time.monotonic() + HANG + 10
        while fake_processes(ws) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fake_processes(ws) == []
    assert ws.phases() == sorted(before), "no finished phase is lost, the interrupted one is open"
    left = leftovers(ws)
    if sig is signal.SIGKILL and phase == "config":
        # Killed with the bundle decrypted for gen config (0600, in the state dir): the next run
        # removes it before anything else.
        assert [p.name for p in left] == ["secrets.decrypted.yaml"]
        assert left[0].stat().st_mode & 0o777 == 0o600
    else:
        assert left == []

    ws.scenario([])
    again = ws.inv("talos.bootstrap")
    assert again.returncode == 0, again.output
    assert ws.phases() == sorted(ALL_PHASES)
    assert leftovers(ws) == []


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
