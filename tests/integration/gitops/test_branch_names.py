"""gitops.set-repo --branch accepts exactly what git accepts as a branch name."""

from __future__ import annotations

import subprocess

import pytest

from tasks.gitops.tree_tasks import _is_branch_name

pytestmark = pytest.mark.integration

NAMES = [
    "main", "feat/ok", "release/v1.2", "a-b_c", "x@y",
    "bad branch", "a..b", "-x", "/x", "x/", "x.", "x.lock", "a/.b", "a\\b", "a:b", "a~1",
    "a^", "a?", "a*", "a[b", "a@{b", "a//b", "", "tab\tname",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_same_verdict_as_git_check_ref_format(name: str) -> None:
    git = subprocess.run(
        ["git", "check-ref-format", "--branch", name], capture_output=True, check=False
    )
    assert _is_branch_name(name) == (git.returncode == 0)
