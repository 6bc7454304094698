"""Operations (plans that receive facts mid-way) and the runner that drives them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.core import operation as op
from tasks.core.errors import Aborted, UserError
from tasks.core.runner import Command, MakeDir, Remove, Result, Runner, WriteFile, cmd
from tests.play import play


def runner(*, dry: bool) -> tuple[Runner, list[str]]:
    said: list[str] = []
    return Runner(dry=dry, out=said.append, secrets=["s3cret-value"]), said


def converge_network(exists: bool) -> op.Op[str]:
    """A small operation in the house shape: a fact read mid-way decides the steps."""
    info = yield from op.probe(cmd("virsh", "net-info", "talos", read_only=True))
    if info.observed and info.ok and exists:
        return "kept"
    yield from op.execute([cmd("virsh", "net-define", "talos.xml"), cmd("virsh", "net-start")])
    state = yield from op.proof(lambda: "active")
    yield op.Report(f"network started ({state})")
    return "created"


def test_an_operation_is_data_without_a_runner() -> None:
    def answer(step: op.Step) -> Any:
        if isinstance(step, op.Probe):
            return Result(0, "Active: yes", "")
        if isinstance(step, op.Proof):
            return step.action()
        return Result(0, "", "") if isinstance(step, Command) else None

    steps, value = op.drive(converge_network(exists=True), answer)
    assert value == "kept"
    assert [type(s).__name__ for s in steps] == ["Probe"]

    steps, value = op.drive(converge_network(exists=False), answer)
    assert value == "created"
    argv = [s.argv for s in steps if isinstance(s, Command)]
    assert argv == [("virsh", "net-define", "talos.xml"), ("virsh", "net-start")]
    assert steps[-1] == op.Report("network started (active)")


def test_dry_prints_each_command_and_proves_nothing() -> None:
    r, said = runner(dry=True)
    r.has = lambda tool: False  # type: ignore[method-assign]  # no virsh: nothing observed
    assert r.converge(converge_network(exists=True)) == "created"
    assert said == [
        "$ virsh net-info talos",
        "$ virsh net-define talos.xml",
        "$ virsh net-start",
    ]


def test_a_real_run_answers_file_steps_and_reports(tmp_path: Path) -> None:
    target = tmp_path / "state" / "out.txt"
    gone = tmp_path / "old.txt"
    gone.write_text("x")

    def write() -> op.Op[str]:
        yield MakeDir(target.parent)
        yield WriteFile(target, "hello\n")
        yield Remove(gone)
        read = yield from op.proof(target.read_text)
        yield op.Report(f"wrote {read!r} with s3cret-value")
        yield op.PlanNote(lambda: pytest.fail("only a dry run notes its plan"))
        return read or ""

    r, said = runner(dry=False)
    assert r.converge(write()) == "hello\n"
    assert not gone.exists()
    assert said == ["wrote 'hello\\n' with ***"]


def test_dry_writes_nothing_and_notes_its_plan(tmp_path: Path) -> None:
    noted: list[str] = []

    def write() -> op.Op[None]:
        yield WriteFile(tmp_path / "f", "x")
        yield op.Act("POST https://factory.example/schematics", lambda: noted.append("posted"))
        yield op.PlanNote(lambda: noted.append("planned"))

    r, said = runner(dry=True)
    r.converge(write())
    assert not (tmp_path / "f").exists()
    assert noted == ["planned"]
    assert said == [f"# write {tmp_path / 'f'}", "# POST https://factory.example/schematics"]


def test_a_failing_step_is_raised_inside_the_operation_where_it_can_be_handled() -> None:
    seen: list[str] = []

    def guarded() -> op.Op[str]:
        try:
            yield op.Confirm("Destroy everything?", yes=False)
        except Aborted:
            seen.append("caught")
        try:
            yield op.Confirm("Really?", yes=False)
        finally:
            seen.append("cleaned up")
        return "unreachable"

    r, _ = runner(dry=False)
    with pytest.raises(Aborted, match="Really"):
        r.converge(guarded())
    assert seen == ["caught", "cleaned up"]


def test_assume_plans_for_a_fresh_world_only_under_dry() -> None:
    class NoCluster(UserError):
        pass

    def observe() -> list[str]:
        raise NoCluster("no cluster answers")

    def nodes() -> op.Op[list[str]]:
        found = yield from op.assume(observe, fresh=[], unobservable=NoCluster)
        return found

    assert runner(dry=True)[0].converge(nodes()) == []
    with pytest.raises(NoCluster):
        runner(dry=False)[0].converge(nodes())


def test_parallel_answers_by_name_and_reports_every_failure() -> None:
    def one(name: str) -> op.Op[str]:
        if name == "bad":
            raise UserError(f"{name} broke")
        yield op.Say(f"working on {name}")
        return name.upper()

    r, said = runner(dry=True)
    answers = r.converge(op.parallel({n: (lambda n=n: one(n)) for n in ("a", "b")}, noun="node"))
    assert answers == {"a": "A", "b": "B"}
    assert said == ["working on a", "working on b"]
    with pytest.raises(UserError, match=r"1 of 2 node\(s\) failed:\n- bad: bad broke"):
        r.converge(op.parallel({n: (lambda n=n: one(n)) for n in ("a", "bad")}, noun="node"))


def test_a_read_back_is_gathered_by_a_real_run_only() -> None:
    def defined() -> op.Op[bool | None]:
        found = yield from op.read_back(lambda r: r.has("definitely-not-a-tool"))
        return found

    assert runner(dry=True)[0].converge(defined()) is None
    assert runner(dry=False)[0].converge(defined()) is False


def test_facts_and_nested_operations_answer_their_values() -> None:
    def inner() -> op.Op[int]:
        yield op.Say("inner")
        return 41

    def outer() -> op.Op[int]:
        tools = yield from op.fact(lambda r: r.has("definitely-not-a-tool"))
        value = yield from op.within(30, "phase inner", inner())
        yield op.Secret(("hunter2-password",))
        yield op.Say("password hunter2-password")
        error = yield from op.masked("refused hunter2-password and s3cret-value")
        assert error == "refused *** and ***"
        return value + (0 if tools else 1)

    r, said = runner(dry=True)
    assert r.converge(outer()) == 42
    assert said == ["inner", "password ***"]


def test_staged_files_are_printed_as_their_targets_under_dry(tmp_path: Path) -> None:
    target = tmp_path / "bundle.enc.yaml"

    def body(stager: op.Stager) -> op.Op[Path]:
        written = yield from stager.stage(
            target, lambda out: cmd("sops", "--encrypt", "--output", out), mode=0o600
        )
        return written

    r, said = runner(dry=True)
    assert r.converge(op.staged(body)) == target
    assert said == [f"$ sops --encrypt --output {target}"]


def test_a_stage_outside_its_staged_operation_is_refused() -> None:
    def stray() -> op.Op[None]:
        yield from op.Stager().stage(Path("x"), lambda out: cmd("true", out))

    with pytest.raises(TypeError, match="Stage outside Staged"):
        runner(dry=True)[0].converge(stray())


def test_a_wait_is_printed_under_dry_and_polls_in_a_real_run() -> None:
    polls: list[int] = []

    def ready(_: Runner) -> tuple[bool, str]:
        polls.append(1)
        return len(polls) >= 2, f"{len(polls)} of 2 ready"

    def waiting() -> op.Op[bool]:
        done = yield from op.wait(
            ready, timeout=5, interval=0.0, what="nodes", look_at="talosctl health"
        )
        return done

    r, said = runner(dry=True)
    assert r.converge(waiting()) is True
    assert said == ["# wait up to 5s for nodes"] and polls == []
    r, said = runner(dry=False)
    assert r.converge(waiting()) is True
    assert len(polls) == 2


def test_poll_runs_an_operation_until_its_deadline_in_every_mode() -> None:
    from tasks.core.waits import Clock, TimedOut

    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    def attempt() -> op.Op[tuple[bool, str]]:
        result = yield from op.run(cmd("talosctl", "apply-config"))
        return False, f"refused (dry {result.dry})"

    clock = Clock(now=lambda: now[0], sleep=sleep)
    r, said = runner(dry=True)
    with pytest.raises(
        TimedOut, match=r"(?s)after 2.5s waiting for the node \(4 attempt.*dry True"
    ):
        r.converge(
            op.poll(
                attempt,
                timeout=2.5,
                interval=1,
                what="the node",
                look_at="its console",
                clock=clock,
            )
        )
    assert said.count("$ talosctl apply-config") == 4  # at 0, 1, 2 and the deadline 2.5
    assert slept == [1, 1, 0.5]
    assert said.count("    waiting for the node (up to 2.5s)") == 1


def test_until_ok_retries_a_command_until_it_succeeds() -> None:
    def healthy() -> op.Op[Result]:
        result = yield from op.until_ok(
            cmd("talosctl", "health"), timeout=5, interval=1, what="health", look_at="talosctl"
        )
        return result

    r, said = runner(dry=True)
    assert r.converge(healthy()) == Result(0, "", "", dry=True)
    assert said == ["$ talosctl health"]


def test_commands_answer_results_and_just_answers_without_steps() -> None:
    def plan() -> op.Op[list[Result]]:
        nothing = yield from op.just("value")
        assert nothing == "value"
        results = yield from op.execute([Command(("helm", "version"))])
        return results

    r, said = runner(dry=True)
    assert r.converge(plan()) == [Result(0, "", "", dry=True)]
    assert said == ["$ helm version"]


def test_play_runs_an_operation_as_the_runner_would_without_one() -> None:
    from tasks.core.waits import TimedOut

    class NoNode(UserError):
        pass

    def unreachable() -> str:
        raise NoNode("no node answers")

    def attempt() -> op.Op[tuple[bool, str]]:
        result = yield from op.run(cmd("talosctl", "apply-config"))
        return result.ok, result.stderr

    def bring_up() -> op.Op[str]:
        mode = yield from op.assume(unreachable, fresh="maintenance", unobservable=NoNode)
        try:
            yield cmd("talosctl", "bootstrap")
        except UserError:
            mode += ", bootstrap refused"
        done = yield from op.within(60, "phase", op.parallel({"n1": lambda: just_one(mode)}))
        yield from op.poll(attempt, timeout=5, interval=1, what="the node", look_at="console")
        return done["n1"]

    def just_one(mode: str) -> op.Op[str]:
        yield op.Say(mode)
        return mode

    def answer(step: op.Step) -> Any:
        if isinstance(step, Command) and step.argv[1] == "bootstrap":
            return UserError("refused")  # thrown in at that step
        return Result(1, "", "not yet") if isinstance(step, Command) else None

    with pytest.raises(NoNode):
        play(bring_up(), answer)  # a real run observes, and fails
    with pytest.raises(TimedOut, match="the node: not yet"):
        play(bring_up(), answer, dry=True)
    steps, value = play(
        bring_up(), lambda s: Result(0, "", "") if isinstance(s, Command) else None, dry=True
    )
    assert value == "maintenance"
    kinds = [type(s).__name__ for s in steps]
    assert kinds == ["Assume", "Command", "Within", "Parallel", "Say", "Poll", "Command"]
