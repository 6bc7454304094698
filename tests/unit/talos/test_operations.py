"""The talos operations as data: given facts, the steps they plan (no runner, no subprocess).

Each test plays an operation by hand: a fact is answered from canned probe results, a command
from a table, and an error is thrown in at the step that raised it, as ``Runner.converge`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, cast

import pytest

from tasks.core import operation as op
from tasks.core.config import ClusterSpec, Node
from tasks.core.errors import Aborted, CommandFailed
from tasks.core.runner import Command, MakeDir, Remove, Result, Runner, WriteFile
from tasks.talos import facts, ops, phases, recovery
from tasks.talos.settings import Settings
from tests.play import play as play_like_the_runner
from tests.unit.talos.conftest import make_context

Answer = Callable[[op.Step], Any]
OK = Result(0, "", "")


class Probes:
    """The read-only half of a runner, for facts: ``check`` answers from ``reply``."""

    def __init__(self, reply: Callable[[Command], Result]) -> None:
        self.reply = reply

    def check(self, command: Command) -> Result:
        return self.reply(command)


def play(
    operation: Generator[op.Step, Any, Any],
    answer: Answer,
    *,
    dry: bool = False,
    steps: list[op.Step] | None = None,
) -> tuple[list[op.Step], Any]:
    """Drive ``operation`` like the runner (``tests.play``): ``answer`` may return an exception to
    throw in at that step."""
    return play_like_the_runner(operation, answer, dry=dry, steps=steps)


def commands(steps: list[op.Step]) -> list[tuple[str, ...]]:
    return [s.argv for s in steps if isinstance(s, Command)]


def env_for(tmp_path: Path, spec: ClusterSpec, **talos: Any) -> ops.Env:
    c = make_context(tmp_path / "state", {"poll_interval": 0.01, **talos})
    return ops.Env(c, spec, Settings.from_context(c, spec), Runner(out=lambda _: None))


def configured(env: ops.Env, nodes: list[Node]) -> None:
    """What talos.config leaves behind: the nodes' machine configs and the talosconfig."""
    for node in nodes:
        env.settings.node_config(node).parent.mkdir(parents=True, exist_ok=True)
        env.settings.node_config(node).write_text("version: v1alpha1\n")
    env.settings.talosconfig.parent.mkdir(parents=True, exist_ok=True)
    env.settings.talosconfig.write_text("context: propertea-local\n")


# -- apply -------------------------------------------------------------------------------------


def test_apply_is_insecure_in_maintenance_and_mtls_once_configured(
    tmp_path: Path, spec: ClusterSpec
) -> None:
    env = env_for(tmp_path, spec)
    configured(env, list(spec.nodes))
    cp, first, second = spec.nodes[0], spec.nodes[1], spec.nodes[2]
    unanswered = {second.ip}  # answers on the second probe only

    def probe(command: Command) -> Result:
        ip = command.argv[command.argv.index("--nodes") + 1]
        if "--insecure" in command.argv:  # maintenance mode: cp and, later, the second worker
            if ip in unanswered:
                unanswered.discard(ip)
                return Result(1, "", "connection refused")
            return OK if ip in (cp.ip, second.ip) else Result(1, "", "tls: certificate required")
        return OK if ip == first.ip else Result(1, "", "connection refused")

    def answer(step: op.Step) -> Any:
        if isinstance(step, op.Fact):
            return step.gather(cast("Runner", Probes(probe)))
        return OK

    steps, modes = play(ops.apply(env, list(spec.nodes)), answer)
    assert modes == {
        cp.name: facts.Mode.MAINTENANCE,
        first.name: facts.Mode.CONFIGURED,
        second.name: facts.Mode.MAINTENANCE,
    }
    applied = {argv[argv.index("--nodes") + 1]: argv for argv in commands(steps)}
    assert list(applied) == [cp.ip, first.ip, second.ip]
    assert "--insecure" in applied[cp.ip] and "--insecure" in applied[second.ip]
    assert "--insecure" not in applied[first.ip]
    assert "--talosconfig" in applied[first.ip]
    # The unreachable worker was asked twice (the first miss waits), and applied once.
    assert len([s for s in steps if isinstance(s, op.Fact)]) == 4


def test_apply_retries_a_transient_refusal_but_not_a_bad_config(
    tmp_path: Path, spec: ClusterSpec
) -> None:
    env = env_for(tmp_path, spec)
    node = spec.nodes[0]
    configured(env, [node])
    refusals = [CommandFailed("refused", returncode=1, stderr="connection refused")]

    def answer(step: op.Step) -> Any:
        if isinstance(step, op.Fact):
            return facts.NodeMode(facts.Mode.MAINTENANCE)
        return refusals.pop() if refusals else OK

    steps, _ = play(ops.apply(env, [node]), answer)
    assert len(commands(steps)) == 2  # refused once (transient), then applied

    def invalid(step: op.Step) -> Any:
        if isinstance(step, op.Fact):
            return facts.NodeMode(facts.Mode.MAINTENANCE)
        return CommandFailed("bad", returncode=1, stderr="invalid machine config")

    seen: list[op.Step] = []
    with pytest.raises(CommandFailed, match="bad"):
        play(ops.apply(env, [node]), invalid, steps=seen)
    assert len(commands(seen)) == 1  # not transient: no second try


def test_apply_without_machine_configs_plans_them_under_dry_and_stops_a_real_run(
    tmp_path: Path, spec: ClusterSpec
) -> None:
    env = env_for(tmp_path, spec)
    node = spec.nodes[0]

    def answer(step: op.Step) -> Any:
        assert not isinstance(step, Command), "no apply-config without a machine config"
        return facts.NodeMode(facts.Mode.UNREACHABLE, "no answer")

    with pytest.raises(ops.NotConfigured, match=r"run `inv talos\.config` first"):
        play(ops.apply(env, [node]), answer)

    def planned(step: op.Step) -> Any:
        return (
            facts.NodeMode(facts.Mode.UNREACHABLE, "no answer") if isinstance(step, op.Fact) else OK
        )

    # --dry: no config yet and no node answering are both planned for a fresh world.
    steps, modes = play(ops.apply(env, [node]), planned, dry=True)
    assert modes == {node.name: facts.Mode.MAINTENANCE}
    [argv] = commands(steps)
    assert "--insecure" in argv


# -- config ------------------------------------------------------------------------------------


def test_config_removes_the_decrypted_bundle_even_when_gen_config_fails(
    tmp_path: Path, spec: ClusterSpec
) -> None:
    env = env_for(tmp_path, spec)
    bundle = "cluster:\n  secret: a-cluster-secret-value\n"

    def answer(step: op.Step) -> Any:
        if isinstance(step, Command) and step.argv[:2] == ("talosctl", "gen"):
            return CommandFailed("gen config failed", returncode=1)
        return Result(0, bundle, "") if isinstance(step, Command) else None

    steps: list[op.Step] = []
    with pytest.raises(CommandFailed, match="gen config failed"):
        play(ops.config(env), answer, dry=True, steps=steps)
    decrypted = env.settings.decrypted_secrets
    written = [s for s in steps if isinstance(s, WriteFile)]
    assert [(w.path, w.secret) for w in written] == [(decrypted, True)]
    assert op.Secret(("a-cluster-secret-value",)) in steps
    # Removed before decrypting (a stale one) and after the failure (the finally).
    removed = [i for i, s in enumerate(steps) if isinstance(s, Remove) and s.path == decrypted]
    assert len(removed) == 2
    assert removed[-1] == len(steps) - 1
    assert steps.index(written[0]) < removed[-1]
    assert not any(isinstance(s, op.Proof) and "machine configs" in repr(s) for s in steps)


def test_an_encrypted_bundle_is_kept_without_a_step(
    tmp_path: Path, spec: ClusterSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_for(tmp_path, spec)
    monkeypatch.setattr(facts, "bundle_state", lambda _: facts.Bundle.ENCRYPTED)
    steps, _ = play(ops.secrets(env), lambda _: pytest.fail("no step expected"))
    assert steps == []


# -- day 2 -------------------------------------------------------------------------------------


def running(version: str) -> Answer:
    """Facts of a live cluster whose every node runs ``version``."""

    def answer(step: op.Step) -> Any:
        if isinstance(step, op.Fact):
            probe = Probes(lambda c: Result(0, f"Server:\n\tTag:         v{version}\n", ""))
            return step.gather(cast("Runner", probe))
        return OK

    return answer


def test_upgrade_with_every_node_at_the_target_takes_no_snapshot(
    tmp_path: Path, spec: ClusterSpec
) -> None:
    env = env_for(tmp_path, spec)
    configured(env, [])
    steps, _ = play(ops.upgrade(env, list(spec.nodes), force=False), running(spec.versions.talos))
    assert commands(steps) == []
    assert not any(isinstance(s, op.Staged | MakeDir) for s in steps)


def test_upgrade_snapshots_then_rolls_control_planes_first_with_a_health_gate(
    tmp_path: Path, spec: ClusterSpec
) -> None:
    env = env_for(tmp_path, spec)
    configured(env, [])
    major, minor, _ = spec.versions.talos.split(".")
    older = f"{major}.{int(minor) - 1}.0"  # one minor behind: a supported upgrade
    nodes = list(reversed(spec.nodes))  # the order asked for does not matter
    steps, _ = play(ops.upgrade(env, nodes, force=False), running(older))
    kinds = [type(s).__name__ for s in steps if not isinstance(s, op.Fact | op.Assume)]
    assert kinds.index("Staged") < kinds.index("Command")  # etcd saved before any node moves
    upgraded = [argv for argv in commands(steps) if argv[1] == "upgrade"]
    order = [spec.control_planes[0].ip, *(w.ip for w in spec.workers)]
    assert [argv[argv.index("--nodes") + 1] for argv in upgraded] == order
    gates = [s for s in steps if isinstance(s, op.UntilOk)]
    assert len(gates) == len(order) and all(g.command.argv[1] == "health" for g in gates)
    assert isinstance(steps[-1], op.Report) and f"v{spec.versions.talos}" in steps[-1].line


def test_reset_asks_before_any_wipe(tmp_path: Path, spec: ClusterSpec) -> None:
    env = env_for(tmp_path, spec)
    configured(env, [])

    def declined(step: op.Step) -> Any:
        return Aborted("no") if isinstance(step, op.Confirm) else OK

    steps: list[op.Step] = []
    with pytest.raises(Aborted):
        play(ops.reset(env, list(spec.nodes), yes=False), declined, steps=steps)
    assert commands(steps) == []
    steps, _ = play(ops.reset(env, list(spec.nodes), yes=True), lambda _: OK)
    assert isinstance(steps[1], op.Confirm) and steps[1].yes
    wiped = [argv[argv.index("--nodes") + 1] for argv in commands(steps)]
    assert wiped == [*(w.ip for w in spec.workers), spec.control_planes[0].ip]


def test_restore_confirms_then_wipes_waits_recovers_and_checks(
    tmp_path: Path, spec: ClusterSpec
) -> None:
    env = env_for(tmp_path, spec)
    configured(env, [])
    snapshot = tmp_path / "etcd.snapshot"
    snapshot.write_text("etcd snapshot bytes\n")
    steps, _ = play(recovery.restore(env, str(snapshot), yes=True), lambda _: OK)
    kinds = [type(s).__name__ for s in steps]
    assert kinds.index("Confirm") < kinds.index("Within")
    # Each phase is played in place: its first step follows the Within that holds it.
    starts = [i for i, s in enumerate(steps) if isinstance(s, op.Within)]
    assert len(starts) == len(recovery.flow(snapshot).phases)
    firsts = [steps[i + 1] for i in starts]
    assert [type(s).__name__ for s in firsts] == ["Command", "Wait", "Command", "UntilOk"]
    recover = firsts[2]
    assert isinstance(recover, Command) and recover.argv[1] == "bootstrap"
    assert recover.argv[recover.argv.index("--recover-from") + 1] == str(snapshot)


def test_each_bootstrap_phase_is_an_operation_run_within_its_budget(
    tmp_path: Path, spec: ClusterSpec
) -> None:
    env = env_for(tmp_path, spec)
    steps, _ = play(phases.BOOTSTRAP.run(env, only="bootstrap-etcd"), lambda _: OK)
    [within] = [s for s in steps if isinstance(s, op.Within)]
    assert within.what == "phase bootstrap-etcd"
    assert within.seconds == env.settings.timeouts.bootstrap + env.settings.timeouts.command
    until = steps[steps.index(within) + 1]  # the phase, played in place
    assert isinstance(until, op.UntilOk) and until.command.argv[1] == "bootstrap"
