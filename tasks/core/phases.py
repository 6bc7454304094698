"""Resumable bring-ups: named phases run in order, each finished one recorded in the state dir.

``talos.bootstrap``, the talos recovery flows and ``aks.bootstrap`` share this: a re-run skips
finished phases, ``--from`` re-runs a phase and every later one, ``--only`` just one, every phase
runs under its budget (the runner's deadline) and a failing phase's message says how to resume.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from tasks.core import console
from tasks.core import operation as op
from tasks.core.errors import UserError

if TYPE_CHECKING:
    from tasks.core.operation import Op
    from tasks.core.state import ClusterState


class Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...


P = TypeVar("P", bound=Named)


def selected(names: Sequence[str], from_: str | None, only: str | None) -> list[str]:
    """The phases a run considers (done ones are still skipped unless forced)."""
    if from_ and only:
        raise UserError("--from and --only exclude each other: pick one.", code=2)
    for option, name in (("--only", only), ("--from", from_)):
        if name and name not in names:
            raise UserError(
                f"{option} {name!r}: not a phase. Phases, in order: {', '.join(names)}.", code=2
            )
    if only:
        return [only]
    if from_:
        return list(names[names.index(from_) :])
    return list(names)


def run(
    phases: Sequence[P],
    *,
    flow: str,
    command: str,
    state: ClusterState,
    execute: Callable[[P], Op[bool | None]],
    budget: Callable[[P], float | None],
    from_: str | None = None,
    only: str | None = None,
) -> Op[None]:
    """Run the chosen phases; a phase operation answering False leaves it unrecorded."""
    chosen = selected([p.name for p in phases], from_, only)
    forced = set(chosen) if (from_ or only) else set()
    if forced:
        yield op.Proof(lambda: state.forget(flow, sorted(forced)))
    total = len(phases)
    unfinished: list[str] = []
    for index, phase in enumerate(phases, 1):
        if phase.name not in chosen:
            continue
        label = f"[{index}/{total}] {phase.name}"
        if phase.name not in forced and state.is_done(flow, phase.name):
            console.info(f"{label}: done earlier, skipped")
            continue
        console.step(f"{label}: {phase.title}")
        try:
            finished = yield from op.within(budget(phase), f"phase {phase.name}", execute(phase))
        except UserError as exc:
            raise UserError(
                f"{exc.text}\n\nPhase {phase.name} did not finish. Fix the cause and run "
                f"`{command}` again: finished phases are skipped (recorded in "
                f"{state.root}/phases.json); `--only {phase.name}` retries just this one.",
                code=exc.code,
            ) from None
        if finished is False:
            unfinished.append(phase.name)
        else:
            yield op.Proof(functools.partial(state.mark_done, flow, phase.name))
    ran = ", ".join(chosen) if (from_ or only) else "all phases"
    left = f" (still to do: {', '.join(unfinished)})" if unfinished else ""
    yield op.Proof(lambda: console.ok(f"{flow}: {ran} done{left}"))
    yield op.PlanNote(lambda: console.info(f"{flow}: {ran} planned (--dry: nothing was changed)"))
