"""`inv NS.TASK --help` on a task with a positional argument prints its help, runs nothing."""

from __future__ import annotations

from typing import Any

import pytest


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
    inv_here: Any, tmp_path: Any, task: str, option: str, flag: str
) -> None:
    # An empty state dir: had the task run, it would fail (no kubeconfig, talosconfig, libvirt).
    result = inv_here(task, flag, env={"INVOKE_STATE_DIR": str(tmp_path)})
    assert result.returncode == 0, result.output
    assert result.stdout.startswith(f"Usage: inv[oke] [--core-opts] {task} [--options]")
    assert option in result.stdout
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []
