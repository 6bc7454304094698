"""--dry lives in the runner alone: no module outside tasks/core/runner.py reads a dry flag, so
what --dry prints is what a real run executes (no second code path to drift)."""

from __future__ import annotations

import ast
from pathlib import Path

TASKS = Path(__file__).resolve().parents[3] / "tasks"
RUNNER = TASKS / "core" / "runner.py"


def dry_reads(path: Path) -> list[int]:
    """Lines where ``path`` reads an attribute, key or name called ``dry``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        named = (
            (isinstance(node, ast.Attribute) and node.attr == "dry")
            or (isinstance(node, ast.Constant) and node.value == "dry")
            or (isinstance(node, ast.Name) and node.id == "dry")
        )
        if named:
            lines.append(node.lineno)
    return lines


def test_no_module_outside_the_runner_reads_the_dry_flag() -> None:
    found = {
        str(path.relative_to(TASKS.parent)): lines
        for path in sorted(TASKS.rglob("*.py"))
        if path != RUNNER and (lines := dry_reads(path))
    }
    assert found == {}, "branch on the runner's steps instead (report, when_executed, act...)"


def test_the_check_itself_sees_each_form(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "if runner.dry:\n    pass\nx = c.config['run'].get('dry')\ndef f(dry): return dry\n"
    )
    assert dry_reads(sample) == [1, 3, 4]
