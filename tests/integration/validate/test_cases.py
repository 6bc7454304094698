"""One valid tree and one invalid variant per check: check id and location must match exactly."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.validate.model import Result

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "validate"
CASES = sorted(p.name for p in (FIXTURES / "cases").iterdir() if (p / "case.yaml").exists())


def where(result: Result) -> list[tuple[str, str, int | None]]:
    return sorted(((p.check, p.path, p.line) for p in result.problems), key=str)


def apply_case(root: Path, case: Path) -> dict:
    meta = yaml.safe_load((case / "case.yaml").read_text())
    for edit in meta.get("edits", []):
        target = root / edit["file"]
        text = target.read_text()
        assert text.count(edit["old"]) == 1, f"{case.name}: edit must match once in {edit['file']}"
        target.write_text(text.replace(edit["old"], edit["new"]))
    overlay = case / "tree"
    if overlay.is_dir():
        shutil.copytree(overlay, root, dirs_exist_ok=True)
    return meta


def test_base_tree_is_valid(base_tree: Path, validate: Any) -> None:
    result = validate(base_tree)
    assert [str(p) for p in result.problems] == []
    assert result.documents > 20
    assert "deploy/services/demo/deployment.yaml" in result.files


@pytest.mark.parametrize("name", CASES)
def test_invalid_variant_is_caught_where_it_is(name: str, base_tree: Path, validate: Any) -> None:
    meta = apply_case(base_tree, FIXTURES / "cases" / name)
    result = validate(base_tree, meta["families"])
    expected = sorted(((e["check"], e["path"], e["line"]) for e in meta["expect"]), key=str)
    assert where(result) == expected, "\n".join(str(p) for p in result.problems)
