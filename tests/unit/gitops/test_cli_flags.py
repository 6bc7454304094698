"""Every helm, argocd and sops flag the plans generate exists in that tool's reference.

The reference (../shared/reference/cli-flags.json) was extracted from each tool's sources: for
argocd per subcommand plus persistent flags; for helm and sops per subcommand plus the tool's
global list (their extraction attributes shared flag sets to the tool, not to each command).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tasks.core.runner import Command
from tasks.gitops import plan as gitops_plan
from tasks.gitops.kube import Kube
from tasks.secrets import plan as secrets_plan

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "cli-flags.json"


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    if not REFERENCE.is_file():
        pytest.skip(f"no CLI flag reference at {REFERENCE}")
    data: dict[str, Any] = json.loads(REFERENCE.read_text())
    return data


def allowed_flags(reference: dict[str, Any], argv: tuple[str, ...]) -> set[str]:
    tool, args = argv[0], argv[1:]
    ref = reference[tool]
    commands: dict[str, list[str]] = ref["commands"]
    words = [a for a in args if not a.startswith("-")]
    allowed = set(ref.get("persistent") or [])
    if tool == "argocd":
        # the longest run of leading words that names a subcommand ("app sync")
        for n in range(len(words), 0, -1):
            key = " ".join(words[:n])
            if key in commands:
                return allowed | set(commands[key])
        raise AssertionError(f"argocd subcommand of {argv} is not in the reference")
    known = [w for w in words[:2] if w in commands]
    assert known, f"{tool} subcommand of {argv} is not in the reference"
    for word in known:
        allowed |= set(commands[word])
    return allowed | set(ref["global"])


def flags_of(argv: tuple[str, ...]) -> list[str]:
    return [a.split("=", 1)[0] for a in argv[1:] if a.startswith("-") and a != "-"]


def commands() -> list[Command]:
    kube = Kube(Path("/k/kubeconfig"), Path("/k"))
    root = Path("/repo")
    rel = "deploy/x/secrets.yaml"
    return [
        gitops_plan.repo_add(gitops_plan.DEFAULT_REPO_URL),
        gitops_plan.helm_release(kube),
        gitops_plan.helm_values(kube),
        gitops_plan.helm_install(kube, "argo/argo-cd", "9.4.0", "{}", 600),
        gitops_plan.sync(kube, "cilium", prune=True, timeout=300),
        gitops_plan.wait(kube, ["a", "b"], 600),
        gitops_plan.diff(kube, "cilium"),
        secrets_plan.encrypt_new(root, rel, "a: b\n"),
        secrets_plan.encrypt_file(root, rel, output=".secrets.x.tmp.yaml"),
        secrets_plan.encrypt_new(root, rel, "a: b\n", output=".secrets.x.tmp.yaml"),
        secrets_plan.decrypt_file(root, rel, output=".secrets.x.tmp.yaml"),
        secrets_plan.decrypt_to_stdout(root, rel),
        secrets_plan.edit(root, rel),
        secrets_plan.decrypts(root, rel),
        secrets_plan.filestatus(root, rel),
        secrets_plan.rotate(root, rel, add=["age1a"], remove=["age1b"], output=".s.tmp.yaml"),
    ]


@pytest.mark.parametrize("command", commands(), ids=lambda c: " ".join(c.argv[:3]))
def test_every_flag_exists(reference: dict[str, Any], command: Command) -> None:
    allowed = allowed_flags(reference, command.argv)
    unknown = [f for f in flags_of(command.argv) if f not in allowed]
    assert not unknown, f"{command.display()}: {unknown} not in {command.tool}'s reference"


def test_the_check_itself_catches_an_invented_flag(reference: dict[str, Any]) -> None:
    argv = ("argocd", "app", "sync", "x", "--core", "--wait-forever")
    assert "--wait-forever" not in allowed_flags(reference, argv)
    assert "--prune" in allowed_flags(reference, argv)
