"""`inv NS.TASK --help` on a task with a positional argument prints its help, runs nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import InvHere


@pytest.mark.parametrize(
    ("task", "option"),
    [
        ("gitops.sync", "--app=STRING"),
        ("infra.console", "--node=STRING"),
        ("release.lint-commits", "--revisions=STRING"),
        ("secrets.decrypt", "--in-place"),
        ("secrets.edit", "--path=STRING"),
        ("talos.logs", "--service=STRING"),
    ],
)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_flag_after_a_positional_task_prints_its_help(
    inv_here: InvHere, tmp_path: Any, task: str, option: str, flag: str
) -> None:
    # An empty state dir: had the task run, it would fail (no kubeconfig, talosconfig, libvirt).
    result = inv_here(task, flag, env={"INVOKE_STATE_DIR": str(tmp_path)})
    assert result.returncode == 0, result.output
    assert result.stdout.startswith(f"Usage: inv[oke] [--core-opts] {task} [--options]")
    assert option in result.stdout
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []


#: Every namespace, and "" for the root tasks (doctor, validate); the check also fails when the
#: collection holds a namespace this list misses, so a new namespace cannot go unchecked.
NAMESPACES = ("", "aks", "gitops", "images", "infra", "release", "secrets", "talos")

#: Run in a fresh interpreter: Invoke's Task.get_arguments() pops the help strings it consumes,
#: so a task already parsed in this process (by another test) would look help-less.
UNDOCUMENTED = """
import json, sys
from tasks import ns
found = {}
unlisted = sorted(set(ns.collections) - set(sys.argv[1:]))
if unlisted:
    found["(namespaces not checked)"] = unlisted
for space in sys.argv[1:]:
    collection = ns.collections[space] if space else ns
    for name in collection.tasks:
        task = collection.tasks[name]
        missing = [a.name for a in task.get_arguments() if not (a.help or "").strip()]
        if missing or not (task.__doc__ or "").strip():
            found[f"{space}.{name}" if space else name] = missing or ["(docstring)"]
print(json.dumps(found))
"""
