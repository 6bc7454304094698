"""inv doctor: verdicts from facts (pure) and the task as a person runs it."""

from __future__ import annotations

from tasks.core.checks import MISMATCH, MISSING, OK, failing
from tasks.doctor import tool_checks


def test_missing_and_mismatched_tools_fail() -> None:
    found: dict[str, str | None] = {"talosctl": None, "kubectl": "1.30.2", "helm": "3.21.4"}
    pins = {"talosctl": "1.13.9", "kubectl": "1.36.0", "helm": "3.21"}
    checks = {c.name: c for c in tool_checks("cluster", found, pins)}
    assert checks["talosctl"].status == MISSING
    assert checks["kubectl"].status == MISMATCH
    assert checks["helm"].status == OK  # prefix pin
    assert {c.name for c in failing(list(checks.values()))} >= {"talosctl", "kubectl"}


def test_podman_stands_in_for_docker() -> None:
    checks = {c.name: c for c in tool_checks("release", {"docker": None, "podman": "4.3.1"}, {})}
    assert checks["docker"].status == OK
    assert not checks["docker"].required


def test_aks_needs_az_at_its_pin_and_reads_the_json_version() -> None:
    from tasks.core.tools import BY_NAME

    output = '{\n  "azure-cli": "2.91.0",\n  "azure-cli-core": "2.91.0",\n  "extensions": {}\n}\n'
    assert BY_NAME["az"].parse_version(output) == "2.91.0"
    checks = {c.name: c for c in tool_checks("aks", {"az": "2.90.0", "kubectl": "1.36.3"}, {})}
    assert {"az", "kubectl", "helm", "git"} <= set(checks)
    assert "talosctl" not in checks and "virsh" not in checks
    pinned = tool_checks("aks", {"az": "2.90.0"}, {"az": "2.91.0"})
    assert {c.name: c.status for c in pinned}["az"] == MISMATCH
