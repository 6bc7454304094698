"""yamllint and check-jsonschema verdicts are reused on a warm run, and only for unchanged files."""

from __future__ import annotations

from pathlib import Path

from tasks.core.runner import Command, Result, Runner
from tasks.validate.engine import Workspace, run
from tasks.validate.model import Result as Findings
from tests.integration.validate.conftest import settings_for


class Recording(Runner):
    """A real runner that remembers the argv of every probe it starts."""

    def __init__(self) -> None:
        super().__init__()
        self.started: list[tuple[str, ...]] = []

    def check(self, command: Command) -> Result:
        self.started.append(command.argv)
        return super().check(command)


def _validate(root: Path, shared: Path, cache: Path, family: str) -> tuple[Findings, Recording]:
    runner = Recording()
    ws = Workspace(None, root=root, settings=settings_for(shared, cache), runner=runner)
    return run(ws, [family]), runner


def _problems(result: Findings, check: str) -> list[tuple[str, int | None]]:
    return [(p.path, p.line) for p in result.problems if p.check == check]


def test_yamllint_runs_again_only_for_files_changed_since_the_last_run(
    base_tree: Path, shared_schemas: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    broken = base_tree / "deploy/broken.yaml"
    broken.write_text("key: value   \n")  # trailing spaces: a yamllint error

    cold, runner = _validate(base_tree, shared_schemas, cache, "yaml")
    assert [a[0] for a in runner.started] == ["yamllint"]
    assert _problems(cold, "yaml/lint") == [("deploy/broken.yaml", 1)]

    warm, runner = _validate(base_tree, shared_schemas, cache, "yaml")
    assert runner.started == []
    assert _problems(warm, "yaml/lint") == [("deploy/broken.yaml", 1)]

    broken.write_text("key: value\nother: x   \n")
    edited, runner = _validate(base_tree, shared_schemas, cache, "yaml")
    assert runner.started == [
        ("yamllint", "-f", "parsable", "-c", ".yamllint", "deploy/broken.yaml")
    ]
    assert _problems(edited, "yaml/lint") == [("deploy/broken.yaml", 2)]


def test_a_changed_yamllint_config_invalidates_every_verdict(
    base_tree: Path, shared_schemas: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _validate(base_tree, shared_schemas, cache, "yaml")
    config = base_tree / ".yamllint"
    config.write_text(config.read_text() + "\n")

    _, runner = _validate(base_tree, shared_schemas, cache, "yaml")
    assert [a[0] for a in runner.started] == ["yamllint"]


def test_workflow_schema_errors_survive_the_cache_and_an_edit_is_checked_again(
    base_tree: Path, shared_schemas: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    workflow = base_tree / ".github/workflows/bad.yml"
    workflow.write_text(
        "name: bad\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps: 3\n"
    )

    cold, runner = _validate(base_tree, shared_schemas, cache, "workflows")
    assert [a[0] for a in runner.started] == ["check-jsonschema"]
    assert _problems(cold, "workflows/schema") == [(".github/workflows/bad.yml", 6)]

    warm, runner = _validate(base_tree, shared_schemas, cache, "workflows")
    assert runner.started == []
    assert warm.problems == cold.problems

    workflow.write_text(
        "name: bad\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ok\n"
    )
    fixed, runner = _validate(base_tree, shared_schemas, cache, "workflows")
    assert [a[0] for a in runner.started] == ["check-jsonschema"]
    assert _problems(fixed, "workflows/schema") == []
