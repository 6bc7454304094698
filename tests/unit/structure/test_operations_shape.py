"""Operations hold no runner: what a task does is a generator of steps (tasks.core.operation) that
the task converges, so a plan can be read, driven and tested as data. Only facts (read-only
probes) and the task layer touch a runner."""

from __future__ import annotations

import ast
from pathlib import Path

TASKS = Path(__file__).resolve().parents[3] / "tasks"
#: What a fact function (or a wait's probe) may ask of a runner: read-only probes, the masker,
#: and progress lines, which print alike in every mode.
PROBES = {"check", "capture", "has", "mask", "say"}
#: What a task may ask of its runner besides probes: converge an operation, execute a pure plan
#: (a list of steps), report the outcome.
TASK_CALLS = PROBES | {"converge", "execute", "report"}
#: Modules whose functions are operations (facts gathered inside them are fact functions).
OPERATION_MODULES = sorted(
    p for p in TASKS.rglob("*.py") if p.name in {"ops.py", "phases.py", "recovery.py", "iso.py"}
)


def runner_calls(path: Path, allowed: set[str] = PROBES) -> list[str]:
    """``line: runner.method`` for every call on something named ``runner`` beyond ``allowed``,
    and, in an operation module, every ``converge`` (operations compose with ``yield from``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        method = node.func.attr
        stray_converge = method == "converge" and "converge" not in allowed
        if stray_converge or (name == "runner" and method not in allowed):
            found.append(f"{node.lineno}: {name}.{method}")
    return found


def test_the_operation_modules_are_found() -> None:
    names = {str(p.relative_to(TASKS)) for p in OPERATION_MODULES}
    assert {
        "infra/ops.py",
        "talos/ops.py",
        "secrets/ops.py",
        "gitops/ops.py",
        "aks/ops.py",
    } <= names
    assert {"core/phases.py", "talos/phases.py", "aks/phases.py", "talos/recovery.py"} <= names


def test_no_operation_drives_a_runner() -> None:
    found = {
        str(path.relative_to(TASKS)): calls
        for path in OPERATION_MODULES
        if (calls := runner_calls(path))
    }
    assert found == {}, "yield steps instead (tasks.core.operation); only tasks converge"


def test_tasks_converge_operations_and_execute_plans_only() -> None:
    entries = [*TASKS.glob("*/__init__.py"), TASKS / "doctor.py"]
    found = {
        str(path.relative_to(TASKS)): calls
        for path in sorted(entries)
        if (calls := runner_calls(path, TASK_CALLS))
    }
    assert found == {}, "move the sequence into an operation in <area>/ops.py"


def test_the_check_sees_each_form(tmp_path: Path) -> None:
    sample = tmp_path / "ops.py"
    sample.write_text(
        "def f(env, runner):\n"
        "    env.runner.run(x)\n"
        "    runner.execute([])\n"
        "    runner.check(x)\n"
        "    other.converge(op())\n"
    )
    assert runner_calls(sample) == ["2: runner.run", "3: runner.execute", "5: other.converge"]
