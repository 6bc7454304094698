"""Moved from tests/unit/infra/test_check.py: these start processes (real tools or `inv`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import InvHere
from tests.unit.infra.test_check import (  # noqa: F401
    CAPABILITIES,
    NODEMEMSTATS,
    POOL_INFO,
    SSH_URI,
    VOL_LIST,
    settings_for,
)

pytestmark = pytest.mark.integration


def test_tunnel_dry_run_and_stop(inv_here: InvHere, tmp_path: Path) -> None:
    env = {"INVOKE_STATE_DIR": str(tmp_path / "state"), "INVOKE_LIBVIRT_URI": SSH_URI}
    dry = inv_here("--dry", "infra.tunnel", env=env)
    assert dry.returncode == 0, dry.output
    pidfile = tmp_path / "state" / "propertea-local" / "sshuttle.pid"
    assert f"$ sshuttle --daemon --pidfile {pidfile} -r ops@infra-vm 192.168.50.0/24" in dry.stdout
    local = inv_here("infra.tunnel", env={**env, "INVOKE_LIBVIRT_URI": "qemu:///system"})
    assert local.returncode == 1 and "is not qemu+ssh://" in local.stderr
    assert "nothing to do" in inv_here("infra.tunnel", "--stop", env=env).stdout

    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        pidfile.parent.mkdir(parents=True)
        pidfile.write_text(f"{sleeper.pid}\n")
        running = inv_here("infra.tunnel", env=env)
        assert running.returncode == 0 and "already running" in running.stdout
        stopped = inv_here("infra.tunnel", "--stop", env=env)
        assert stopped.returncode == 0, stopped.output
        assert sleeper.wait(timeout=10) != 0
    finally:
        sleeper.kill()
