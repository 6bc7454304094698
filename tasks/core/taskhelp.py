"""``inv NS.TASK --help`` for tasks that take a positional argument.

Invoke's parser fills a missing positional argument before it looks for core flags, so
``inv talos.logs --help`` runs the task with ``--help`` as the service name (only
``inv --help talos.logs`` prints the help). A task with a positional argument calls
:func:`asked_for_help` first and, when it returns True, does nothing else.

Shared by every namespace with a positional argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from invoke.tasks import Task

HELP_FLAGS = frozenset({"-h", "--help"})


def asked_for_help(value: object, namespace: str, task: Task[Any]) -> bool:
    """Print the task's help (exactly as ``inv --help NS.TASK``) when ``value`` is a help flag."""
    if value not in HELP_FLAGS:
        return False
    from invoke.collection import Collection
    from invoke.program import Program

    root = Collection()
    root.add_collection(Collection(namespace, task))
    program = Program(namespace=root, binary="inv[oke]")
    program.run(["inv", "--help", f"{namespace}.{task.name}"], exit=False)
    return True
