"""The runner: dry-run output, masking, retries, timeouts, failures a person can act on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.core.errors import Aborted, CommandFailed, ToolMissing
from tasks.core.runner import Command, Retry, Runner, WriteFile, cmd, confirm, mask
from tests.fakes import FakeTools

pytestmark = pytest.mark.integration


class Out:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)


def test_display_quotes_and_prints_env_first() -> None:
    command = cmd("helm", "upgrade", "--set", "a=b c", env={"KUBECONFIG": "/k 1"})
    assert command.display() == "KUBECONFIG='/k 1' helm upgrade --set 'a=b c'"


def test_secret_env_prints_masked() -> None:
    command = cmd("sops", "-d", "f", secret_env={"SOPS_AGE_KEY": "AGE-SECRET-KEY-1XYZ"})
    assert command.display() == "SOPS_AGE_KEY=*** sops -d f"


def test_dry_run_prints_commands_and_writes_nothing(tmp_path: Path) -> None:
    out = Out()
    runner = Runner(dry=True, out=out)
    target = tmp_path / "sub" / "file.txt"
    results = runner.execute(
        [cmd("definitely-not-a-tool", "x", "y z"), WriteFile(target, "content")]
    )
    assert out.lines == ["$ definitely-not-a-tool x 'y z'", f"# write {target}"]
    assert results[0].dry
    assert not target.exists()


def test_dry_run_still_runs_read_only_probes_when_the_tool_exists() -> None:
    runner = Runner(dry=True, out=Out())
    assert runner.capture(cmd("echo", "probe")).strip() == "probe"


def test_write_creates_secret_files_0600(tmp_path: Path) -> None:
    target = tmp_path / "a" / "secret"
    Runner(out=Out()).write(WriteFile(target, "s3cr3t", secret=True))
    assert target.read_text() == "s3cr3t"
    assert target.stat().st_mode & 0o777 == 0o600


def test_capture_returns_stdout_and_passes_stdin() -> None:
    assert Runner().run(cmd("cat", stdin="hello")).stdout == "hello"


def test_env_reaches_the_process() -> None:
    result = Runner().run(cmd("sh", "-c", 'printf %s "$X"', env={"X": "42"}))
    assert result.stdout == "42"


def test_failure_names_step_command_code_and_stderr_masked() -> None:
    runner = Runner(secrets=["hunter22"])
    script = "echo token hunter22 rejected >&2; exit 3"
    command = cmd("sh", "-c", script, step="log in", hint="check the token")
    with pytest.raises(CommandFailed) as excinfo:
        runner.run(command)
    text = excinfo.value.text
    assert "log in failed." in text
    assert "exit code: 3" in text
    assert "token *** rejected" in text
    assert "try: check the token" in text
    assert "hunter22" not in text


def test_missing_tool_names_install_hint() -> None:
    runner = Runner(tool_hint=lambda name: f"Install: apt-get install {name}")
    with pytest.raises(ToolMissing) as excinfo:
        runner.run(cmd("no-such-tool-xyz", step="probe"))
    assert "`no-such-tool-xyz` is not installed" in excinfo.value.text
    assert "apt-get install no-such-tool-xyz" in excinfo.value.text


def test_retries_named_transient_failures_with_backoff(fake_tools: FakeTools) -> None:
    fake_tools.scenario(
        [{"match": ["apply-config"], "fail_times": 2, "fail_stderr": "connection refused"}]
    )
    sleeps: list[float] = []
    runner = Runner(out=Out(), sleep=sleeps.append)
    retry = Retry(attempts=3, delay=1, backoff=2, on=("connection refused",))
    assert runner.run(cmd("talosctl", "apply-config", retry=retry)).ok
    assert sleeps == [1, 2]
    assert len(fake_tools.calls("talosctl")) == 3


def test_does_not_retry_other_failures(fake_tools: FakeTools) -> None:
    fake_tools.scenario([{"match": ["apply-config"], "exit": 1, "stderr": "bad config"}])
    runner = Runner(out=Out(), sleep=lambda _: None)
    with pytest.raises(CommandFailed):
        runner.run(cmd("talosctl", "apply-config", retry=Retry(on=("connection refused",))))
    assert len(fake_tools.calls("talosctl")) == 1


def test_gives_up_after_bounded_attempts(fake_tools: FakeTools) -> None:
    fake_tools.scenario([{"match": ["health"], "fail_times": 99, "fail_stderr": "timeout"}])
    runner = Runner(out=Out(), sleep=lambda _: None)
    with pytest.raises(CommandFailed, match="after 4 attempts"):
        runner.run(cmd("talosctl", "health", retry=Retry(attempts=4)))


def test_ok_if_turns_known_output_into_success(fake_tools: FakeTools) -> None:
    fake_tools.scenario(
        [{"match": ["bootstrap"], "exit": 1, "stderr": "rpc error: code = AlreadyExists"}]
    )
    assert Runner().run(cmd("talosctl", "bootstrap", ok_if=("AlreadyExists",))).ok


def test_timeout_kills_and_reports(fake_tools: FakeTools) -> None:
    fake_tools.scenario([{"match": ["logs"], "sleep": 30}])
    with pytest.raises(CommandFailed) as excinfo:
        Runner().run(cmd("talosctl", "logs", timeout=0.5, step="read logs"))
    assert "exit code: 124" in excinfo.value.text
    assert "timed out after" in excinfo.value.text


def test_stdin_secret_is_masked_in_failures() -> None:
    with pytest.raises(CommandFailed) as excinfo:
        Runner().run(cmd("sh", "-c", "cat >&2; exit 1", stdin="AGE-SECRET-KEY-1ABCDEF"))
    assert "AGE-SECRET-KEY" not in excinfo.value.text


def test_mask_ignores_tiny_values_and_prefers_longest() -> None:
    assert mask("abc abcdef", ["abc", "abcdef"]) == "abc ***"


def test_command_requires_argv() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        Command(argv=())


def test_confirm_refuses_without_terminal_and_yes() -> None:
    with pytest.raises(Aborted, match="pass --yes"):
        confirm("Destroy everything?", yes=False, interactive=False)
    confirm("Destroy everything?", yes=True, interactive=False)


def test_echo_prints_before_running() -> None:
    out = Out()
    Runner(echo=True, out=out).run(cmd("true"))
    assert out.lines == ["$ true"]


def test_stream_returns_exit_code() -> None:
    assert Runner().stream(cmd("sh", "-c", "exit 4")) == 4


def test_cwd_is_used(tmp_path: Path) -> None:
    assert Runner().run(cmd("pwd", cwd=tmp_path)).stdout.strip() == os.path.realpath(tmp_path)


def test_unwritable_file_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    from tasks.core.errors import UserError

    with pytest.raises(UserError, match=r"Cannot write .*Check that the directory"):
        Runner(out=Out()).write(WriteFile(blocker / "x.yaml", "content", step="machine config"))


def test_secrets_are_masked_in_every_form_a_tool_prints_them() -> None:
    import base64

    from tasks.core.runner import secret_forms

    key = "AGE-SECRET-KEY-1" + "Q" * 100
    runner = Runner()
    runner.add_secret(key)
    encoded = base64.b64encode(key.encode()).decode()
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    quoted = f"error: invalid value {key!r} for field"
    for text in (key, encoded, wrapped, quoted, key[:76] + "\n" + key[76:]):
        masked = runner.mask(text)
        # What is left of the secret on any line: at most a short tail, never 8 characters of it.
        for line in masked.replace("***", "\n").splitlines():
            leftover = line.replace("error: invalid value '", "").replace("' for field", "")
            assert len(leftover.strip()) < 8, (text, masked)
    assert key in secret_forms(key)
    assert "short" in secret_forms("short")
