"""State dir: private, outside the repo, phase markers that survive interruptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.core.errors import UserError
from tasks.core.state import ClusterState


def test_phase_markers_round_trip(tmp_path: Path) -> None:
    state = ClusterState(tmp_path / "c")
    assert not state.is_done("bootstrap", "apply")
    state.mark_done("bootstrap", "apply")
    state.mark_done("bootstrap", "etcd")
    assert state.done_phases("bootstrap") == ["apply", "etcd"]
    state.forget("bootstrap", ["etcd"])
    assert state.done_phases("bootstrap") == ["apply"]
    state.forget("bootstrap")
    assert state.done_phases("bootstrap") == []
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o700


def test_corrupt_markers_give_an_actionable_error(tmp_path: Path) -> None:
    state = ClusterState(tmp_path)
    (tmp_path / "phases.json").write_text("{not json")
    with pytest.raises(UserError, match="Delete the file"):
        state.done_phases("bootstrap")


def test_uncreatable_state_dir_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="INVOKE_STATE_DIR"):
        ClusterState(blocker / "cluster").ensure()
