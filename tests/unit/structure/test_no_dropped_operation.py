"""An operation called as a statement does nothing: a generator runs only when iterated, so
``ops.apply(env, nodes)`` without ``yield from`` or ``runner.converge`` would silently skip
every step. This finds such calls across tasks/ by resolving each called name to the function
it imports or defines."""

from __future__ import annotations

import ast

from tests.unit.structure.test_import_cycles import TASKS, modules


def _is_generator(fn: ast.FunctionDef) -> bool:
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue  # a nested function's yield is its own
        if isinstance(node, ast.Yield | ast.YieldFrom):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def generator_functions(trees: dict[str, ast.Module]) -> set[str]:
    """``module.function`` of every module-level generator function."""
    return {
        f"{module}.{node.name}"
        for module, tree in trees.items()
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and _is_generator(node)
    }


def dropped_calls(module: str, tree: ast.Module, generators: set[str]) -> list[str]:
    """Statements in ``module`` that call a generator function and discard it."""
    names: dict[str, str] = {}  # local name -> what it refers to (module or module.function)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name] = alias.name
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            continue
        func = node.value.func
        if isinstance(func, ast.Name):
            target = names.get(func.id, f"{module}.{func.id}")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            target = f"{names.get(func.value.id, func.value.id)}.{func.attr}"
        else:
            continue
        if target in generators:
            found.append(f"{module}:{node.lineno}: {ast.unparse(node.value)[:60]}")
    return found


def _trees() -> dict[str, ast.Module]:
    return {name: ast.parse(path.read_text(), str(path)) for name, path in modules(TASKS).items()}


def test_no_operation_is_called_and_dropped() -> None:
    trees = _trees()
    generators = generator_functions(trees)
    assert "tasks.talos.ops.apply" in generators  # the scan sees the operations
    found = [
        hit for module, tree in trees.items() for hit in dropped_calls(module, tree, generators)
    ]
    assert found == [], "yield from it (in an operation) or runner.converge it (in a task)"


def test_the_scan_sees_each_way_of_calling() -> None:
    ops = ast.parse("def apply():\n    yield 1\n")
    caller = ast.parse(
        "from tasks.x import ops\n"
        "from tasks.x.ops import apply as go\n"
        "def task(runner):\n"
        "    ops.apply()\n"
        "    go()\n"
        "    runner.converge(ops.apply())\n"
        "    x = yield from ops.apply()\n"
    )
    generators = generator_functions({"tasks.x.ops": ops})
    assert generators == {"tasks.x.ops.apply"}
    assert dropped_calls("tasks.x.task", caller, generators) == [
        "tasks.x.task:4: ops.apply()",
        "tasks.x.task:5: go()",
    ]
