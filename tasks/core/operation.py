"""Operations: plans that receive facts mid-way (pyinfra's shape).

An operation is a generator. It yields steps and the runner sends back what each step produced:

    def converge_network(spec, facts) -> Op[None]:
        planned = plan_network(spec, facts)              # pure: facts in, steps out
        if planned.differences:
            yield Confirm(f"Replace network {spec.network.name}?", yes=yes)
        yield from execute(planned.steps)
        state = yield from capture(virsh("net-info", name))   # a fact read mid-way
        yield Report(f"network {name} defined")           # said by a real run only

``Runner.converge(op)`` drives it: executes each step, or under ``inv --dry`` prints it, and
answers. Whether a run is a dry run is the runner's business alone: an operation never asks; a
step that only a real run can do (a read-back, a proof) is a :class:`Proof`, a fact that cannot be
observed yet (no cluster) an :class:`Assume`. A runner's exception (a failed command, a timeout,
Ctrl-C) is raised inside the operation at its ``yield``, so ``try``/``finally`` work as written.

The typed helpers (``answer = yield from probe(cmd)``) give each answer its type; bare ``yield
step`` suits steps whose answer is not needed. Tests run an operation without a runner:
:func:`drive` sends each step's answer; ``tests/play.py`` also plays nested operations and
throws errors in, as the runner does.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from tasks.core.steps import Command, MakeDir, Plan, Remove, WriteFile

if TYPE_CHECKING:
    from tasks.core.runner import Result, Runner
    from tasks.core.waits import Clock

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Probe:
    """A read-only command: runs under ``--dry`` too when the tool is installed; its result is
    answered whatever the exit code (never raises). Unobserved (``--dry``, no tool) results have
    ``observed`` False."""

    command: Command


@dataclass(frozen=True)
class Capture:
    """A read-only command whose stdout is the answer; a failure raises."""

    command: Command


@dataclass(frozen=True)
class Report:
    """What was done, said by a real run only (``--dry`` already showed the steps)."""

    line: str


@dataclass(frozen=True)
class PlanNote:
    """``action()`` under ``--dry`` only: how a plan ends (what a real run would report)."""

    action: Callable[[], None]


@dataclass(frozen=True)
class Say:
    """A line printed in every mode, masked like everything the runner prints."""

    line: str


@dataclass(frozen=True)
class Mask:
    """``text`` with every registered secret masked: for an error an operation raises, which is
    printed outside the runner. Answers the masked text."""

    text: str


@dataclass(frozen=True)
class Secret:
    """Values to mask from here on (a password read mid-way, a decrypted bundle)."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class Act(Generic[T]):
    """A step done in Python rather than by a tool (an HTTP call, a download): ``--dry`` prints
    ``# line`` and answers None, a real run answers ``action()``."""

    line: str
    action: Callable[[], T]


@dataclass(frozen=True)
class Proof(Generic[T]):
    """``action()`` in a real run, after the steps before it (a read-back, a proof); nothing
    under ``--dry``, where they did not run. Answers the action's value, or None."""

    action: Callable[[], T]


@dataclass(frozen=True)
class ReadBack(Generic[T]):
    """A fact read back after the steps before it changed it (the pool just defined, the file
    just written): gathered by a real run only, like a :class:`Proof`; None under ``--dry``."""

    gather: Callable[[Runner], T]


@dataclass(frozen=True)
class Wait:
    """Poll ``probe(runner)`` (read-only, like a :class:`Fact`: returns done, detail) until done
    or ``timeout``; the answer is whether it finished (``strict`` raises at the deadline).
    ``--dry`` prints the wait and answers True."""

    probe: Callable[[Runner], tuple[bool, str]]
    timeout: float
    interval: float
    what: str
    look_at: str
    strict: bool = True
    clock: Clock | None = None


@dataclass(frozen=True)
class Poll:
    """Run the operation ``attempt()`` (answers done, detail) until done, every ``interval`` up
    to ``timeout`` (``waits.until``): the first miss is said, the last try is at the deadline,
    which raises ``TimedOut`` with its detail. Unlike :class:`Wait` the attempts run in every
    mode (their own steps print under ``--dry``, their probes answer): an attempt may act, e.g.
    apply a config once the node answers."""

    attempt: Callable[[], Op[tuple[bool, str]]]
    timeout: float
    interval: float
    what: str
    look_at: str
    clock: Clock | None = None


@dataclass(frozen=True)
class UntilOk:
    """Run ``command`` every ``interval`` until it succeeds, each try capped by what is left of
    ``timeout`` (see ``waits.until_ok``); answers the successful result."""

    command: Command
    timeout: float
    interval: float
    what: str
    look_at: str
    clock: Clock | None = None


@dataclass(frozen=True)
class Confirm:
    """Ask before something destructive; ``yes`` skips; ``--dry`` changes nothing, never asks."""

    question: str
    yes: bool


@dataclass(frozen=True)
class Assume(Generic[T]):
    """``observe()``; when it raises ``unobservable`` (no cluster, no hypervisor yet), a real run
    fails with that error while ``--dry`` plans for a fresh world: the answer is ``fresh``."""

    observe: Callable[[], T]
    fresh: T
    unobservable: type[Exception]


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A fact gathered mid-way by a read-only function of the runner (``facts`` modules): it may
    only probe (``Runner.check``/``capture``), never change anything."""

    gather: Callable[[Runner], T]


@dataclass(frozen=True)
class Parallel(Generic[T]):
    """Operations run at once (name -> answer); one after the other under ``--dry`` so the plan
    reads in order. Every one is attempted; failures are raised together."""

    operations: Mapping[str, Callable[[], Op[T]]]
    noun: str = "item"


@dataclass(frozen=True)
class Within(Generic[T]):
    """An operation whose commands together get at most ``seconds`` (None: no deadline)."""

    seconds: float | None
    what: str
    operation: Op[T]


@dataclass(frozen=True)
class Stream:
    """A command whose output is shown as it comes (see ``Runner.stream``); answers its exit
    code."""

    command: Command
    terminal: bool = False


@dataclass(frozen=True)
class Staged(Generic[T]):
    """Files produced whole, all or none (``Runner.staging``): ``body(stager)`` is an operation
    whose :func:`stage` steps each run a tool into a temporary file beside a target; when it
    ends without an error every staged file replaces its target, else all are removed."""

    body: Callable[[Stager], Op[T]]


@dataclass
class Stager:
    """The handle a :class:`Staged` body stages files through (bound by the runner)."""

    handle: Any = field(default=None, repr=False)

    def stage(
        self, target: Path, command_for: Callable[[Path], Command], *, mode: int | None = None
    ) -> Op[Path]:
        """Run ``command_for(output)`` into a temporary file beside ``target``; answers the file
        to read back (the target itself under ``--dry``)."""
        written: Path = yield Stage(self, target, command_for, mode)
        return written


@dataclass(frozen=True)
class Stage:
    stager: Stager
    target: Path
    command_for: Callable[[Path], Command]
    mode: int | None = None


Step = (
    Command
    | WriteFile
    | MakeDir
    | Remove
    | Probe
    | Capture
    | Report
    | PlanNote
    | Say
    | Secret
    | Mask
    | Act[Any]
    | Proof[Any]
    | ReadBack[Any]
    | Wait
    | Poll
    | UntilOk
    | Confirm
    | Assume[Any]
    | Fact[Any]
    | Parallel[Any]
    | Within[Any]
    | Stream
    | Staged[Any]
    | Stage
)
#: An operation answering ``T``: yields steps, receives each step's answer.
Op = Generator[Step, Any, T]


# -- typed helpers: ``answer = yield from helper(...)`` ---------------------------------------


def run(command: Command) -> Op[Result]:
    """Run ``command``; a failure raises :class:`CommandFailed` at this point of the operation."""
    result: Result = yield command
    return result


def execute(plan: Plan) -> Op[list[Result]]:
    """Every step of a pure plan in order; the commands' results."""
    results: list[Result] = []
    for step in plan:
        answer = yield step
        if isinstance(step, Command):
            results.append(answer)
    return results


def probe(command: Command) -> Op[Result]:
    result: Result = yield Probe(command)
    return result


def capture(command: Command) -> Op[str]:
    out: str = yield Capture(command)
    return out


def masked(text: str) -> Op[str]:
    out: str = yield Mask(text)
    return out


def act(line: str, action: Callable[[], T]) -> Op[T | None]:
    answer: T | None = yield Act(line, action)
    return answer


def proof(action: Callable[[], T]) -> Op[T | None]:
    answer: T | None = yield Proof(action)
    return answer


def read_back(gather: Callable[[Runner], T]) -> Op[T | None]:
    answer: T | None = yield ReadBack(gather)
    return answer


def wait(
    probe: Callable[[Runner], tuple[bool, str]],
    *,
    timeout: float,
    interval: float,
    what: str,
    look_at: str,
    strict: bool = True,
    clock: Clock | None = None,
) -> Op[bool]:
    done: bool = yield Wait(probe, timeout, interval, what, look_at, strict, clock)
    return done


def poll(
    attempt: Callable[[], Op[tuple[bool, str]]],
    *,
    timeout: float,
    interval: float,
    what: str,
    look_at: str,
    clock: Clock | None = None,
) -> Op[None]:
    yield Poll(attempt, timeout, interval, what, look_at, clock)


def until_ok(
    command: Command,
    *,
    timeout: float,
    interval: float,
    what: str,
    look_at: str,
    clock: Clock | None = None,
) -> Op[Result]:
    result: Result = yield UntilOk(command, timeout, interval, what, look_at, clock)
    return result


def assume(observe: Callable[[], T], *, fresh: T, unobservable: type[Exception]) -> Op[T]:
    answer: T = yield Assume(observe, fresh, unobservable)
    return answer


def fact(gather: Callable[[Runner], T]) -> Op[T]:
    answer: T = yield Fact(gather)
    return answer


def parallel(
    operations: Mapping[str, Callable[[], Op[T]]], *, noun: str = "item"
) -> Op[dict[str, T]]:
    answers: dict[str, T] = yield Parallel(operations, noun)
    return answers


def within(seconds: float | None, what: str, operation: Op[T]) -> Op[T]:
    answer: T = yield Within(seconds, what, operation)
    return answer


def stream(command: Command, *, terminal: bool = False) -> Op[int]:
    code: int = yield Stream(command, terminal)
    return code


def staged(body: Callable[[Stager], Op[T]]) -> Op[T]:
    answer: T = yield Staged(body)
    return answer


def just(value: T) -> Op[T]:
    """An operation that yields nothing and answers ``value`` (a branch with nothing to do)."""
    return value
    yield  # pragma: no cover - makes this a generator


def drive(operation: Op[T], answer: Callable[[Step], Any]) -> tuple[list[Step], T]:
    """Run ``operation`` without a runner: ``answer(step)`` answers each step (nested operations
    are ``answer``'s to play; ``tests/play.py`` plays them as the runner does). Returns the steps
    in order and the operation's value. For tests and for reading a plan as data."""
    steps: list[Step] = []
    sent: Any = None
    while True:
        try:
            step = operation.send(sent)
        except StopIteration as done:
            return steps, done.value
        steps.append(step)
        sent = answer(step)
