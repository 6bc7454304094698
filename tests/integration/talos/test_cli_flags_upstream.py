"""Every flag the talos plans pass exists upstream (kubectl: the real client's --help)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tasks.core.config import ClusterSpec
from tasks.talos.settings import Settings
from tests.unit.talos.test_cli_flags import (
    CILIUM_STATUS,
    every_command,
    flags,
    kubectl_subcommand,
    positionals,
    talosctl_command,
)

pytestmark = pytest.mark.integration


@cache
def kubectl_flags(subcommand: str) -> frozenset[str]:
    real = Path(sys.executable).parent / "kubectl"
    exe = str(real) if real.exists() else shutil.which("kubectl")
    if exe is None:
        pytest.skip("no real kubectl to read flags from")
    text = subprocess.run(
        [exe, *subcommand.split(), "--help"], capture_output=True, text=True, check=True
    ).stdout
    text += subprocess.run([exe, "options"], capture_output=True, text=True, check=True).stdout
    return frozenset(re.findall(r"(?<![\w-])(--[a-z0-9-]+|-[a-zA-Z])(?==|,|\s)", text))


def test_every_flag_exists_upstream(
    spec: ClusterSpec, settings: Settings, reference: dict[str, Any]
) -> None:
    problems = []
    checked = set()
    for command in (c for cs in every_command(spec, settings).values() for c in cs):
        tool, argv = command.tool, command.argv
        if tool == "talosctl":
            commands = reference["talosctl"]["commands"]
            key = talosctl_command(argv, commands)
            allowed = set(commands[key]) | set(reference["talosctl"].get("persistent", []))
            where = f"talosctl {key}"
        elif tool == "helm":
            commands = reference["helm"]["commands"]
            key = positionals(argv)[-1] if argv[1] == "repo" else argv[1]
            key = "add" if argv[1:3] == ("repo", "add") else key
            # helm's shared option sets (values, chart path, kube client) are in "global".
            allowed = set(commands[key]) | set(reference["helm"]["global"])
            where = f"helm {key}"
        elif tool == "sops":
            allowed = set(reference["sops"]["global"])
            where = "sops"
        elif tool == "kubectl":
            sub = kubectl_subcommand(argv)
            allowed = set(kubectl_flags(sub))
            where = f"kubectl {sub}"
        elif tool == "cilium":
            assert argv[1] == "status", argv
            allowed, where = CILIUM_STATUS, "cilium status"
        else:
            raise AssertionError(f"no flag reference for {tool}")
        for flag in flags(argv):
            checked.add((where, flag))
            if flag not in allowed:
                problems.append(f"{where}: {flag} ({' '.join(argv)})")
    assert not problems, "\n".join(problems)
    assert ("talosctl gen config", "--config-patch-control-plane") in checked
    assert ("helm upgrade", "--kube-context") in checked
    assert ("kubectl apply", "--server-side") in checked
    assert ("cilium status", "--wait-duration") in checked


def test_checker_rejects_a_flag_that_does_not_exist(reference: dict[str, Any]) -> None:
    commands = reference["talosctl"]["commands"]
    argv = ("talosctl", "bootstrap", "--nodez", "1.2.3.4")
    key = talosctl_command(argv, commands)
    assert key == "bootstrap"
    assert "--nodez" not in commands[key]
    assert "--server-side" in kubectl_flags("apply")
    assert "--server-sidez" not in kubectl_flags("apply")
