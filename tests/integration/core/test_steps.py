"""The runner's step kinds and what only a real run does: --dry prints every step and changes
nothing, a real run does exactly what was printed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.core.errors import Aborted, CommandFailed, UserError
from tasks.core.runner import Command, MakeDir, Remove, Runner, WriteFile, cmd
from tests.integration.core.test_runner import Out

pytestmark = pytest.mark.integration


def test_make_dir_and_remove(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    victim = tmp_path / "old.yaml"
    victim.write_text("x")
    plan = [MakeDir(target, mode=0o700), Remove(victim), Remove(tmp_path / "gone")]

    out = Out()
    Runner(dry=True, out=out).execute(plan)
    assert out.lines == [
        f"# mkdir -p {target}",
        f"# remove {victim}",
        f"# remove {tmp_path / 'gone'}",
    ]
    assert not target.exists() and victim.exists()

    Runner(out=Out()).execute(plan)
    assert target.is_dir() and target.stat().st_mode & 0o777 == 0o700
    assert not victim.exists()


def test_make_dir_failure_names_the_path_and_the_hint(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserError) as err:
        Runner().make_dir(MakeDir(blocker / "d", step="the age key", hint="point X elsewhere"))
    assert err.value.text == (
        f"Cannot create {blocker / 'd'} for the age key (Not a directory): point X elsewhere."
    )


def test_report_and_when_executed_belong_to_real_runs() -> None:
    for dry in (True, False):
        out = Out()
        runner = Runner(dry=dry, out=out)
        runner.report("applied")
        assert runner.when_executed(lambda: "proved") == (None if dry else "proved")
        assert out.lines == ([] if dry else ["applied"])


def test_confirm_is_never_asked_under_dry() -> None:
    Runner(dry=True).confirm("Destroy?", yes=False)
    with pytest.raises(Aborted):
        Runner().confirm("Destroy?", yes=False)


def test_assume_when_planning() -> None:
    class Unreachable(UserError):
        pass

    def observe() -> str:
        raise Unreachable("no hypervisor")

    assert Runner(dry=True).assume_when_planning(observe, fresh="fresh", unobservable=Unreachable)
    with pytest.raises(Unreachable):
        Runner().assume_when_planning(observe, fresh="fresh", unobservable=Unreachable)


def write_into(text: str, *, fail: bool = False) -> Callable[[Path], Command]:
    script = f"printf '{text}' > \"$0\"" + ("; exit 3" if fail else "")
    return lambda out: cmd("sh", "-c", script, str(out), step=f"write {text}")


def test_staging_renames_every_file_only_when_all_succeeded(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("old a")
    a.chmod(0o600)
    runner = Runner()
    with pytest.raises(CommandFailed), runner.staging() as staging:
        staging.stage(a, write_into("new a"))
        staging.stage(b, write_into("new b", fail=True))
    assert a.read_text() == "old a" and not b.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml"], "no temporary file left"

    with runner.staging() as staging:
        staged = staging.stage(a, write_into("new a"))
        assert staged != a and staged.read_text() == "new a"
        staging.stage(b, write_into("new b"))
    assert (a.read_text(), b.read_text()) == ("new a", "new b")
    assert a.stat().st_mode & 0o777 == 0o600, "the replaced file keeps its mode"


def test_a_failed_proof_keeps_the_old_files(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    a.write_text("old")
    runner = Runner()

    def prove() -> None:
        raise UserError("does not decrypt")

    with pytest.raises(UserError), runner.staging() as staging:
        staging.stage(a, write_into("new"))
        runner.when_executed(prove)
    assert a.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.yaml"]


def test_staging_under_dry_prints_the_command_writing_the_target(tmp_path: Path) -> None:
    out = Out()
    a = tmp_path / "a.yaml"
    with Runner(dry=True, out=out).staging() as staging:
        assert staging.stage(a, write_into("new")) == a
    assert len(out.lines) == 1 and out.lines[0].endswith(f"{a}")
    assert not a.exists()


def test_write_file_is_printed_under_dry() -> None:
    out = Out()
    Runner(dry=True, out=out).execute([WriteFile(Path("/nonexistent/x"), "c")])
    assert out.lines == ["# write /nonexistent/x"]
