"""A second state-changing run fails at once naming the first; a killed run's lock is free."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tasks.core.lock import secrets_lock_path
from tests.integration.talos.conftest import Workspace
from tests.lockholder import hold_in_child

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


def test_a_second_bootstrap_fails_at_once_and_changes_nothing(ws: Workspace) -> None:
    holder = hold_in_child(ws.cluster_state / ".lock")
    try:
        result = ws.inv("talos.bootstrap")
        assert result.returncode == 1, result.output
        assert f"is in use by PID {holder.pid}" in result.output
        assert "Traceback" not in result.output
        assert ws.calls() == [], "nothing may run while another run holds the cluster"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The killed holder's lock is free: the next run goes ahead.
    again = ws.inv("talos.secrets")
    assert again.returncode == 0, again.output


def test_secrets_are_locked_per_repository(ws: Workspace) -> None:
    holder = hold_in_child(secrets_lock_path(ws.state, ws.root))
    try:
        result = ws.inv("secrets.encrypt")
        assert result.returncode == 1, result.output
        assert f"the secrets of {ws.root.resolve()} is in use by PID {holder.pid}" in (
            result.output
        )
    finally:
        holder.kill()
        holder.wait()


def test_dry_runs_take_no_lock(ws: Workspace) -> None:
    holder = hold_in_child(ws.cluster_state / ".lock")
    try:
        result = ws.inv("--dry", "talos.config")
        assert result.returncode == 0, result.output
        # The whole plan is printed although another run holds the cluster.
        assert "$ talosctl gen config propertea-local" in result.stdout
    finally:
        holder.kill()
        holder.wait()
