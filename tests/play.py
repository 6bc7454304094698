"""Play an operation as ``Runner.converge`` would, without a runner or a subprocess: for tests
that assert what an operation plans for given facts, including a real run's and ``--dry``'s
answers to an Assume and the operations nested in Parallel, Within, Staged and Poll."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tasks.core.operation import Assume, Op, Parallel, Poll, Staged, Stager, Step, Within

T = TypeVar("T")
U = TypeVar("U")


#: How many attempts :func:`play` makes of a Poll before it times out.
PLAYED_POLL_ATTEMPTS = 5


def play(
    operation: Op[T],
    answer: Callable[[Step], Any],
    *,
    dry: bool = False,
    steps: list[Step] | None = None,
) -> tuple[list[Step], T]:
    """Run ``operation`` without a runner, the way ``Runner.converge`` does: ``answer(step)``
    answers each step, and an exception it raises or returns is thrown into the operation at
    that step. An :class:`Assume` is answered as a real run (or ``dry``) would; the operations
    inside :class:`Parallel`, :class:`Within`, :class:`Staged` and :class:`Poll` (up to
    :data:`PLAYED_POLL_ATTEMPTS` attempts, no clock) are played in place, their steps listed
    after the step holding them. Returns every step in order and the operation's value."""
    from tasks.core.waits import TimedOut

    seen: list[Step] = [] if steps is None else steps

    def inner(nested: Op[U]) -> U:
        return play(nested, answer, dry=dry, steps=seen)[1]

    sent: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = operation.send(sent) if error is None else operation.throw(error)
        except StopIteration as stop:
            return seen, stop.value
        seen.append(step)
        sent, error = None, None
        try:
            match step:
                case Assume(observe, fresh, unobservable):
                    try:
                        sent = observe()
                    except unobservable:
                        if not dry:
                            raise
                        sent = fresh
                case Parallel(operations):
                    sent = {name: inner(make()) for name, make in operations.items()}
                case Within(_, _, nested):
                    sent = inner(nested)
                case Staged(body):
                    sent = inner(body(Stager()))
                case Poll(attempt, _, _, what):
                    detail = ""
                    for _ in range(PLAYED_POLL_ATTEMPTS):
                        finished, detail = inner(attempt())
                        if finished:
                            break
                    else:
                        raise TimedOut(f"Timed out waiting for {what}: {detail}")
                case _:
                    sent = answer(step)
                    if isinstance(sent, BaseException):
                        sent, error = None, sent
        except Exception as exc:
            sent, error = None, exc
