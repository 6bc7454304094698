"""`inv validate --only cluster` as a person runs it: message, exit code 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Inv

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
INVALID = sorted((REPO / "tests/fixtures/cluster/invalid").glob("*.yaml"))


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_spec_exits_1_with_message(inv: Inv, fixture: Path) -> None:
    result = inv("validate", "--only", "cluster", env={"INVOKE_CLUSTER_FILE": str(fixture)})
    expect = fixture.read_text().splitlines()[0].removeprefix("# expect: ")
    assert result.returncode == 1, result.output
    assert expect in result.output
    assert "Traceback" not in result.output


def test_valid_spec_passes(inv: Inv) -> None:
    result = inv("validate", "--only", "cluster")
    assert result.returncode == 0, result.output
    assert "0 problems" in result.output


def test_missing_spec_file(inv: Inv, tmp_path: Path) -> None:
    result = inv(
        "validate", "--only", "cluster", env={"INVOKE_CLUSTER_FILE": str(tmp_path / "x.yaml")}
    )
    assert result.returncode == 1
    assert "does not exist" in result.output and "Traceback" not in result.output
