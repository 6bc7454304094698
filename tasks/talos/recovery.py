"""``talos.restore``: etcd back from a snapshot, as Talos documents its disaster recovery.

The control planes' EPHEMERAL partition (etcd's data) is wiped and they reboot with their machine
config intact; etcd then waits, in state ``Preparing``, to be bootstrapped; the first control plane
is bootstrapped with ``--recover-from`` the snapshot and the others join it. Phases are recorded
like ``talos.bootstrap``'s, so an interrupted restore resumes; a finished one is forgotten, so the
next restore starts from the beginning.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core import console
from tasks.core import operation as op
from tasks.core.errors import UserError
from tasks.talos import ops, plan, snapshots
from tasks.talos.phases import Flow, Phase

if TYPE_CHECKING:
    from tasks.core.operation import Op
    from tasks.core.runner import Runner

FLOW = "talos.restore"
_STATE = re.compile(r"^STATE\s+(\S+)", re.MULTILINE)


def service_state(output: str) -> str | None:
    """The STATE line of ``talosctl service etcd``."""
    match = _STATE.search(output)
    return match.group(1) if match else None


def _wipe(env: ops.Env) -> Op[None]:
    for node in env.spec.control_planes:
        yield from op.run(plan.wipe_etcd(env.settings, node))


def _wait_preparing(env: ops.Env) -> Op[None]:
    s = env.settings
    node = plan.first_control_plane(env.spec)

    def probe(runner: Runner) -> tuple[bool, str]:
        result = runner.check(plan.etcd_service(s, node, s.timeouts.command))
        if not result.ok:
            return False, (result.stderr or result.stdout).strip()[-300:] or "no answer"
        state = service_state(result.stdout)
        return state == "Preparing", f"etcd is {state or 'in an unknown state'}"

    yield from op.wait(
        probe,
        timeout=s.timeouts.bootstrap,
        interval=s.poll_interval,
        what=f"etcd on {node.name} to reboot empty and wait for its bootstrap (Preparing)",
        look_at=plan.LOOK_AT_ETCD,
    )


def _recover(snapshot: Path, env: ops.Env) -> Op[None]:
    yield from op.run(plan.recover_etcd(env.settings, env.spec, snapshot))


def _health(env: ops.Env) -> Op[None]:
    s = env.settings
    yield from ops.until_ok(
        env,
        plan.health(s, env.spec, s.timeouts.health),
        timeout=s.timeouts.health,
        what="the cluster to be healthy on the restored etcd",
        look_at=plan.LOOK_AT_HEALTH,
    )


def flow(snapshot: Path) -> Flow:
    return Flow(
        FLOW,
        f"inv talos.restore {snapshot} --yes",
        (
            Phase("wipe-etcd", "wipe etcd's data on the control planes", _wipe),
            Phase(
                "wait-etcd",
                "etcd waiting for its bootstrap",
                _wait_preparing,
                lambda t: t.bootstrap + t.command,
            ),
            Phase(
                "recover",
                "bootstrap etcd from the snapshot",
                functools.partial(_recover, snapshot),
                lambda t: 2 * t.command,
            ),
            Phase("health", "cluster healthy", _health, lambda t: t.health + t.command),
        ),
    )


def find(env: ops.Env, given: str) -> snapshots.Snapshot | Path:
    """The snapshot file: a path, or a name in <state>/backups."""
    path = Path(given).expanduser()
    if not path.is_file():
        path = env.settings.backups / given
    if not path.is_file():
        known = [s.path.name for s in snapshots.found_in(ops.listing(env.settings.backups))]
        listed = "\n  ".join(known[-5:]) if known else "(none yet: `inv talos.snapshot`)"
        raise UserError(
            f"No snapshot {given!r} (neither a file nor in {env.settings.backups}).\n"
            f"The newest there:\n  {listed}"
        )
    if path.stat().st_size == 0:
        raise UserError(f"{path} is empty: not an etcd snapshot.")
    return snapshots.parse(path) or path


def restore(
    env: ops.Env, given: str, *, yes: bool, from_: str | None = None, only: str | None = None
) -> Op[None]:
    yield from ops.require_talosconfig(env)
    found = find(env, given)
    path = found.path if isinstance(found, snapshots.Snapshot) else found
    steps = flow(path)
    steps.selected(from_, only)  # bad phase names fail before anything is asked
    about = found.versions if isinstance(found, snapshots.Snapshot) else "versions not recorded"
    console.info(f"snapshot {path} ({about})")
    if isinstance(found, snapshots.Snapshot) and found.talos:
        spec_talos = env.spec.versions.talos
        if found.talos != spec_talos:
            console.warn(
                f"the snapshot was taken on Talos {found.talos}; the spec pins {spec_talos}"
            )
    names = ", ".join(n.name for n in env.spec.control_planes)
    yield op.Confirm(
        f"Wipe etcd on {names} and bring it back from {path.name}? Everything the cluster "
        "stored after that snapshot is lost.",
        yes,
    )
    yield from steps.run(env, from_=from_, only=only)
    # Done: the next restore (another snapshot, another day) starts from the first phase.
    yield op.Proof(lambda: env.settings.state.forget(FLOW))
