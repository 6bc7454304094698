"""Small helpers for task bodies: ``--help`` on tasks with a positional argument, and durations.

Invoke's parser fills a missing positional argument before it looks for core flags, so
``inv talos.logs --help`` runs the task with ``--help`` as the service name (only
``inv --help talos.logs`` prints the help). A task with a positional argument calls
:func:`asked_for_help` first and, when it returns True, does nothing else.

Invoke passes option values as strings; :func:`seconds` turns a duration option into a number
or an error that names the option.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tasks.core.errors import UserError

if TYPE_CHECKING:
    from invoke.tasks import Task

HELP_FLAGS = frozenset({"-h", "--help"})

#: Longer than any wait makes sense (about 115 days); also keeps the value finite.
MAX_SECONDS = 10**7


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


def seconds(
    option: str,
    value: str | float | None,
    default: float,
    *,
    minimum: float = 1.0,
    allow_zero: bool = False,
) -> float:
    """The ``--option`` duration in seconds, ``default`` when not given.

    Accepts a finite number from ``minimum`` up to :data:`MAX_SECONDS` (and exactly 0 with
    ``allow_zero``); anything else is a usage error (exit code 2) naming the option.
    """
    if value is None:
        return default
    try:
        number = float(str(value))
    except ValueError:
        raise UserError(f"--{option} {value!r}: expected a number of seconds.", code=2) from None
    if (allow_zero and number == 0) or (minimum <= number < MAX_SECONDS):
        return number
    zero = "0 or " if allow_zero and minimum > 0 else ""
    limits = f"{zero}from {minimum:g} to {MAX_SECONDS - 1}"
    raise UserError(f"--{option} {value!r}: must be {limits} seconds.", code=2)
