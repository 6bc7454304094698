"""The one gateway to external CLIs.

Every external command goes through :class:`Runner` as an argv list (never a shell string). A plan
is a sequence of steps (:mod:`tasks.core.steps`), or an operation (:mod:`tasks.core.operation`)
that yields them and receives facts mid-way; the runner executes it (:meth:`Runner.converge`), or
under ``inv --dry`` prints each step (``$ <argv>`` / ``# write <path>``) and changes nothing.

Secrets travel by environment, stdin or 0600 files and are masked as ``***`` in everything printed,
including error messages. Tools are found on the live PATH and started through plumbum, which
is imported only when a tool runs (never by ``inv --list``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE, TimeoutExpired
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from tasks.core.errors import CommandFailed, ToolMissing, UserError
from tasks.core.steps import (
    MASK,
    STDERR_TAIL_LINES,
    WRAP_COLUMNS,
    Command,
    MakeDir,
    Plan,
    Remove,
    Retry,
    Step,
    WriteFile,
    cmd,
    mask,
    secret_forms,
    tail,
)

# The steps are defined in tasks.core.steps and used from here by most modules.
__all__ = [
    "DEFAULT_TIMEOUT",
    "MASK",
    "STDERR_TAIL_LINES",
    "WRAP_COLUMNS",
    "Command",
    "MakeDir",
    "Plan",
    "Printer",
    "Remove",
    "Result",
    "Retry",
    "Runner",
    "Staging",
    "Step",
    "WriteFile",
    "cmd",
    "confirm",
    "mask",
    "plans_only",
    "secret_forms",
    "tail",
    "which",
]

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core import operation
    from tasks.core.operation import Op
    from tasks.core.waits import Clock

T = TypeVar("T")
U = TypeVar("U")

#: Bound for a captured command that names no timeout of its own: a hung tool must not hang a
#: task past every deadline. Interactive streams (logs -f, dashboards) stay unbounded.
DEFAULT_TIMEOUT = 900.0


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str
    dry: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def observed(self) -> bool:
        """False when the command did not run (printed under ``--dry``): no fact to read."""
        return not self.dry


class Printer(Protocol):
    def __call__(self, line: str) -> None: ...


def _stdout_print(line: str) -> None:
    print(line, flush=True)


class Runner:
    """Executes plans, or prints them under dry-run. One per task invocation."""

    def __init__(
        self,
        *,
        dry: bool = False,
        echo: bool = False,
        secrets: Iterable[str] = (),
        out: Printer = _stdout_print,
        sleep: Callable[[float], None] = time.sleep,
        tool_hint: Callable[[str], str] | None = None,
    ) -> None:
        self.dry = dry
        self.echo = echo
        self._secrets: set[str] = set()
        self.add_secret(*secrets)
        # Tools running now (several at once under in_parallel): see stop_running().
        self._running: set[Any] = set()
        self._stopping = False
        # (monotonic end, budget, what) of the phase running now: see deadline().
        self._deadline: tuple[float, float, str] | None = None
        self._out = out
        self._sleep = sleep
        self._tool_hint = tool_hint

    @classmethod
    def from_context(cls, c: Context, **kwargs: Any) -> Runner:
        """The runner for an Invoke task: honours ``inv --dry`` and ``inv --echo``."""
        from tasks.core.settings import section
        from tasks.core.tools import install_hint

        run_cfg = section(c, "run")
        return cls(
            dry=bool(run_cfg.get("dry", False)),
            echo=bool(run_cfg.get("echo", False)),
            tool_hint=install_hint,
            **kwargs,
        )

    # -- secrets -----------------------------------------------------------------------------

    def add_secret(self, *values: str) -> None:
        """Register values to mask in everything this runner prints or raises, in each form a
        tool may print them back: as given, base64-encoded, and either one wrapped at 76 columns
        (PEM, ``base64`` and Kubernetes tooling wrap there), line by line."""
        self._secrets.update(form for v in values if v for form in secret_forms(v))

    def mask(self, text: str) -> str:
        return mask(text, self._secrets)

    def say(self, line: str) -> None:
        self._out(self.mask(line))

    # -- tools -------------------------------------------------------------------------------

    def has(self, tool: str) -> bool:
        return which(tool) is not None

    def _resolve(self, command: Command) -> Any:
        from plumbum import local

        found = which(command.tool)
        if found is not None:
            return local[found]
        hint = self._tool_hint(command.tool) if self._tool_hint else ""
        what = f" ({command.step})" if command.step else ""
        raise ToolMissing(
            f"`{command.tool}` is not installed or not on PATH{what}."
            + (f"\n{hint}" if hint else "")
            + "\nRun `inv doctor` to see every tool this toolkit needs."
        )

    # -- deadlines ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def deadline(self, seconds: float | None, what: str) -> Iterator[None]:
        """Every command run inside gets at most what is left of ``seconds`` (its own timeout
        still applies when shorter): a phase's budget bounds the phase, however many commands
        and retries it takes. ``None`` sets no deadline. Nested deadlines keep the earlier end.
        """
        outer = self._deadline
        if seconds is not None:
            end = time.monotonic() + seconds
            if outer is None or end < outer[0]:
                self._deadline = (end, seconds, what)
        try:
            yield
        finally:
            self._deadline = outer

    def _timeout(self, command: Command, default: float | None) -> tuple[float | None, str]:
        """The timeout for one run of ``command`` and, when the phase deadline set it, why."""
        own = command.timeout if command.timeout is not None else default
        if self._deadline is None:
            return own, ""
        end, budget, what = self._deadline
        left = end - time.monotonic()
        reason = f"{what} ran past its deadline of {budget:g}s"
        if left <= 0:
            raise CommandFailed(
                f"{reason} before {command.step or command.tool} could start.\n"
                "  Raise the phase's timeout in the talos.timeouts config if the machine is slow.",
                returncode=124,
            )
        if own is None or left < own:
            return left, reason
        return own, ""

    # -- execution ---------------------------------------------------------------------------

    def execute(self, plan: Plan) -> list[Result]:
        """Run every step in order; stop at the first failure (raised as a user error)."""
        results: list[Result] = []
        for step in plan:
            if isinstance(step, WriteFile):
                self.write(step)
            elif isinstance(step, MakeDir):
                self.make_dir(step)
            elif isinstance(step, Remove):
                self.remove(step)
            else:
                results.append(self.run(step))
        return results

    def converge(self, operation: Op[T]) -> T:
        """Drive an operation (:mod:`tasks.core.operation`): perform each step it yields (or
        print it under ``--dry``) and send back its answer; the operation's value is returned.
        An error a step raises is raised inside the operation at that ``yield``."""
        answer: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = operation.send(answer) if error is None else operation.throw(error)
            except StopIteration as done:
                return cast("T", done.value)
            try:
                answer, error = self._perform(step), None
            except BaseException as exc:  # Ctrl-C too: the operation's `finally` must run
                answer, error = None, exc

    def _perform(self, step: Step | operation.Step) -> Any:
        """One step of an operation, done (or printed); its answer."""
        from tasks.core import operation as op

        match step:
            case Command():
                return self.run(step)
            case WriteFile():
                return self.write(step)
            case MakeDir():
                return self.make_dir(step)
            case Remove():
                return self.remove(step)
            case op.Probe(command):
                return self.check(command)
            case op.Capture(command):
                return self.capture(command)
            case op.Report(line):
                return self.report(line)
            case op.PlanNote(action):
                return self.when_planning(action)
            case op.Say(line):
                return self.say(line)
            case op.Secret(values):
                return self.add_secret(*values)
            case op.Mask(text):
                return self.mask(text)
            case op.Act(line, action):
                return self.act(line, action)
            case op.Proof(action):
                return self.when_executed(action)
            case op.ReadBack(gather):
                return self.when_executed(lambda: gather(self))
            case op.Wait():
                probe = step.probe
                return self.wait_until(
                    lambda: probe(self),
                    timeout=step.timeout,
                    interval=step.interval,
                    what=step.what,
                    look_at=step.look_at,
                    strict=step.strict,
                    clock=step.clock,
                )
            case op.Poll(attempt, timeout, interval, what, look_at, clock):
                from tasks.core.waits import until

                return until(
                    lambda: self.converge(attempt()),
                    timeout=timeout,
                    interval=interval,
                    what=what,
                    look_at=look_at,
                    say=self.say,
                    clock=clock,
                )
            case op.UntilOk(command, timeout, interval, what, look_at, clock):
                from tasks.core.waits import until_ok

                return until_ok(
                    self,
                    command,
                    timeout=timeout,
                    interval=interval,
                    what=what,
                    look_at=look_at,
                    clock=clock,
                )
            case op.Confirm(question, yes):
                return self.confirm(question, yes=yes)
            case op.Assume(observe, fresh, unobservable):
                return self.assume_when_planning(observe, fresh=fresh, unobservable=unobservable)
            case op.Fact(gather):
                return gather(self)
            case op.Parallel(operations, noun):
                return self.in_parallel(
                    dict(operations), lambda make: self.converge(make()), noun=noun
                )
            case op.Within(seconds, what, inner):
                with self.deadline(seconds, what):
                    return self.converge(inner)
            case op.Stream(command, terminal):
                return self.stream(command, terminal=terminal)
            case op.Staged(body):
                with self.staging() as staging:
                    return self.converge(body(op.Stager(staging)))
            case op.Stage(stager, target, command_for, mode) if isinstance(stager.handle, Staging):
                return stager.handle.stage(target, command_for, mode=mode)
        raise TypeError(f"not a step this runner performs (a Stage outside Staged?): {step!r}")

    def make_dir(self, md: MakeDir) -> None:
        if not self._shown(f"# mkdir -p {md.path}"):
            return
        try:
            md.path.mkdir(parents=True, exist_ok=True, mode=md.mode)
        except OSError as exc:
            what = f" for {md.step}" if md.step else ""
            raise UserError(
                f"Cannot create {md.path}{what} ({exc.strerror or exc}): {md.hint}."
            ) from None

    def remove(self, rm: Remove) -> None:
        if not self._shown(f"# remove {rm.path}"):
            return
        try:
            rm.path.unlink(missing_ok=True)
        except OSError as exc:
            what = f" ({rm.step})" if rm.step else ""
            raise UserError(f"Cannot remove {rm.path}{what}: {exc.strerror or exc}.") from None

    @contextlib.contextmanager
    def staging(self) -> Iterator[Staging]:
        """Files produced whole, all or none: each ``stage`` runs a tool into a temporary file
        beside its target; when the block ends without an error (proofs inside it run through
        :meth:`when_executed`), every staged file is renamed over its target, else all are
        removed. ``--dry`` prints each command writing its target and renames nothing."""
        with contextlib.ExitStack() as stack:
            staging = Staging(self, stack)
            yield staging
            staging._commit()

    # -- what only a real run does -------------------------------------------------------------

    def report(self, line: str) -> None:
        """Say what was done: printed by a real run only (``--dry`` already showed the steps)."""
        if not self.dry:
            self.say(line)

    def when_executed(self, action: Callable[[], T]) -> T | None:
        """``action()`` in a real run (proofs and read-backs after the steps); nothing under
        ``--dry``, where the steps did not run and there is nothing to prove."""
        return None if self.dry else action()

    def act(self, line: str, action: Callable[[], T]) -> T | None:
        """A step done in Python rather than by a tool (an HTTP call, a download): ``--dry``
        prints ``# line`` and returns None, a real run returns ``action()``."""
        return action() if self._shown(f"# {line}") else None

    def wait_until(
        self,
        probe: Callable[[], tuple[bool, str]],
        *,
        timeout: float,
        interval: float,
        what: str,
        look_at: str,
        strict: bool = True,
        clock: Clock | None = None,
    ) -> bool:
        """Poll ``probe`` (read-only: returns done, detail) until done or ``timeout``. At the
        deadline ``strict`` raises :class:`TimedOut` with the last detail, else returns False.
        ``--dry`` prints the wait and plans as if it succeeded."""
        if self.dry:
            self.say(f"# wait up to {timeout:g}s for {what}")
            return True
        from tasks.core.waits import TimedOut, until

        try:
            until(
                probe,
                timeout=timeout,
                interval=interval,
                what=what,
                look_at=look_at,
                say=self.say,
                clock=clock,
            )
        except TimedOut:
            if strict:
                raise
            return False
        return True

    def when_planning(self, action: Callable[[], None]) -> None:
        """``action()`` under ``--dry`` only: how a plan ends (what a real run would report)."""
        if self.dry:
            action()

    def confirm(self, question: str, *, yes: bool) -> None:
        """Ask before something destructive; ``--dry`` changes nothing, so it never asks."""
        confirm(question, yes=yes or self.dry)

    def assume(self, *, unobserved: bool, observed: T, fresh: T) -> T:
        """A fact that cannot be observed yet (``unobserved``: no node answers, nothing made
        yet) is taken as ``fresh`` while planning; a real run keeps what it ``observed``."""
        return fresh if (self.dry and unobserved) else observed

    def assume_when_planning(
        self, observe: Callable[[], T], *, fresh: T, unobservable: type[Exception]
    ) -> T:
        """``observe()``; when it raises ``unobservable`` (no cluster, no hypervisor yet), a real
        run fails with that error while ``--dry`` plans for a fresh world: ``fresh``."""
        try:
            return observe()
        except unobservable:
            if not self.dry:
                raise
            return fresh

    def _shown(self, line: str) -> bool:
        """Print a step's line under ``--dry`` or ``--echo``; whether the step is to be done."""
        if self.dry or self.echo:
            self.say(line)
        return not self.dry

    def write(self, wf: WriteFile) -> None:
        if not self._shown(f"# write {wf.path}"):
            return
        from tasks.core.atomic import write_atomic

        try:
            # Whole or not at all, created with its final mode (a secret is never readable by
            # others, even briefly): a full disk or an interrupt keeps the previous file.
            write_atomic(wf.path, wf.content, mode=wf.effective_mode)
        except OSError as exc:
            what = f" ({wf.step})" if wf.step else ""
            raise UserError(
                f"Cannot write {wf.path}{what}: {exc.strerror or exc}. Check that the directory "
                "exists and is writable (state dir: config state.dir / INVOKE_STATE_DIR)."
            ) from None

    def run(self, command: Command) -> Result:
        """Run and capture. Raises :class:`CommandFailed` on failure after retries."""
        if self.dry and not (command.read_only and self.has(command.tool)):
            self.say(f"$ {command.display(self._secrets)}")
            return Result(0, "", "", dry=True)
        if self.echo:
            self.say(f"$ {command.display(self._secrets)}")
        delays = iter(command.retry.delays()) if command.retry else iter(())
        attempt = 1
        while True:
            result = self._run_once(command)
            if result.ok:
                return result
            output = result.stderr + result.stdout
            if command.ok_if and any(re.search(p, output) for p in command.ok_if):
                return Result(0, result.stdout, result.stderr)
            delay = next(delays, None) if command.retry and command.retry.retries(output) else None
            if delay is None:
                raise self._failure(command, result, attempt)
            what = command.step or command.tool
            self.say(f"  {what}: attempt {attempt} failed, retrying in {delay:.0f}s")
            self._sleep(delay)
            attempt += 1

    def capture(self, command: Command) -> str:
        """Run a read-only probe and return its stdout (runs under ``--dry`` too)."""
        probe = command if command.read_only else _as_read_only(command)
        return self.run(probe).stdout

    def check(self, command: Command) -> Result:
        """Run a read-only probe and return the result without raising on a non-zero exit."""
        probe = command if command.read_only else _as_read_only(command)
        if self.dry and not self.has(probe.tool):
            self.say(f"$ {probe.display(self._secrets)}")
            return Result(0, "", "", dry=True)
        return self._run_once(probe)

    def stream(self, command: Command, *, terminal: bool = False) -> int:
        """Run while showing its output as it comes (logs, port-forwards); returns the exit code.

        Output is read line by line and masked like everything else this runner prints.
        ``terminal=True`` hands the terminal itself to the tool instead (editors, TUIs, a
        console, plaintext the user asked to see): nothing passes through this process to mask.
        """
        if self.dry:
            self.say(f"$ {command.display(self._secrets)}")
            return 0
        if self.echo:
            self.say(f"$ {command.display(self._secrets)}")
        timeout, reason = self._timeout(command, None)
        if not terminal:
            return self._stream_masked(command, timeout, reason)
        exe = self._resolve(command)
        env = _child_env(command)
        proc = exe[list(command.argv[1:])].popen(
            stdin=None if command.stdin is None else PIPE,
            stdout=None,
            stderr=None,
            cwd=str(command.cwd) if command.cwd else None,
            env=env,
        )
        try:
            proc.communicate(
                input=command.stdin.encode() if command.stdin is not None else None,
                timeout=timeout,
            )
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait()
            return 130
        except TimeoutExpired:
            proc.kill()
            proc.wait()
            raise self._failure(command, Result(124, "", _timed_out(timeout, reason)), 1) from None
        return int(proc.returncode)

    def _stream_masked(self, command: Command, timeout: float | None, reason: str) -> int:
        import threading
        from subprocess import STDOUT

        exe = self._resolve(command)
        env = _child_env(command)
        secrets = {
            *self._secrets,
            *(f for v in command.secret_env.values() for f in secret_forms(v)),
        }
        # Its own session, as _run_once: Ctrl-C reaches this process, which stops the group.
        proc = exe[list(command.argv[1:])].popen(
            stdin=PIPE if command.stdin is not None else None,
            stdout=PIPE,
            stderr=STDOUT,
            cwd=str(command.cwd) if command.cwd else None,
            env=env,
            start_new_session=True,
            preexec_fn=_dies_with_parent(),
        )
        if command.stdin is not None:
            proc.stdin.write(command.stdin.encode())
            proc.stdin.close()

        def pump() -> None:
            for raw in iter(proc.stdout.readline, b""):
                self._out(mask(_text(raw).rstrip("\n"), secrets))

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            proc.wait(timeout=timeout)
        except KeyboardInterrupt:
            _stop_group(proc)
            reader.join(timeout=5)
            return 130
        except TimeoutExpired:
            _stop_group(proc)
            reader.join(timeout=5)
            raise self._failure(command, Result(124, "", _timed_out(timeout, reason)), 1) from None
        reader.join()
        return int(proc.returncode)

    def _run_once(self, command: Command) -> Result:
        if self._stopping:
            raise UserError(
                f"Interrupted: {command.step or command.tool} was not started.", code=130
            )
        exe = self._resolve(command)
        env = _child_env(command)
        limit, reason = self._timeout(command, DEFAULT_TIMEOUT)
        timeout = DEFAULT_TIMEOUT if limit is None else limit
        # Its own process group: Ctrl-C reaches this process only, which then stops the tool and
        # everything it started (a hung tool's helpers included), instead of leaving them behind.
        proc = exe[list(command.argv[1:])].popen(
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
            cwd=str(command.cwd) if command.cwd else None,
            env=env,
            start_new_session=True,
            preexec_fn=_dies_with_parent(),
        )
        self._running.add(proc)
        try:
            out, err = proc.communicate(
                input=command.stdin.encode() if command.stdin is not None else None,
                timeout=timeout,
            )
        except TimeoutExpired:
            _stop_group(proc)
            out, err = proc.communicate()
            why = f" ({reason})" if reason else ""
            return Result(124, _text(out), _text(err) + f"\ntimed out after {timeout:.0f}s{why}")
        except KeyboardInterrupt:
            _stop_group(proc)
            step = command.step or f"running {command.tool}"
            raise UserError(
                f"Interrupted during {step}: {command.tool} (and what it started) was stopped. "
                "Run the task again to resume.",
                code=130,
            ) from None
        finally:
            self._running.discard(proc)
        return Result(int(proc.returncode), _text(out), _text(err))

    def in_parallel(
        self, items: Mapping[str, U], work: Callable[[U], T], *, noun: str = "item"
    ) -> dict[str, T]:
        """``work`` for every item at once (name -> result); one after the other under
        ``--dry``, so the printed plan reads in order. Every item is attempted and the failures
        are reported together; Ctrl-C stops every tool the workers run and exits 130."""
        results: dict[str, T] = {}
        errors: dict[str, str] = {}

        def guarded(name: str) -> None:
            try:
                results[name] = work(items[name])
            except UserError as exc:
                errors[name] = exc.text

        if self.dry or len(items) == 1:
            for name in items:
                guarded(name)
        else:
            from concurrent.futures import ThreadPoolExecutor, wait

            with ThreadPoolExecutor(max_workers=len(items)) as pool:
                futures = [pool.submit(guarded, name) for name in items]
                try:
                    for future in futures:
                        future.result()
                except KeyboardInterrupt:
                    # Ctrl-C reaches only this thread: stop the workers' tools, then say so.
                    stopped = self.stop_running()
                    wait(futures)
                    tools = ", ".join(sorted(set(stopped))) or "nothing was running"
                    raise UserError(
                        f"Interrupted during work on {len(items)} {noun}s: stopped {tools} (and "
                        "what they started). Run the task again to resume.",
                        code=130,
                    ) from None
        if errors:
            detail = "\n".join(f"- {name}: {text}" for name, text in sorted(errors.items()))
            raise UserError(f"{len(errors)} of {len(items)} {noun}(s) failed:\n{detail}")
        return results

    def stop_running(self) -> list[str]:
        """Stop every tool this runner is running (from worker threads, whose waits Ctrl-C does
        not reach) with its process group; returns what was stopped, for the message."""
        self._stopping = True  # and no worker starts another (a retry loop would)
        stopped = []
        for proc in list(self._running):
            stopped.append(Path(str(proc.args[0])).name if proc.args else "a tool")
            _stop_group(proc)
        return stopped

    def _failure(self, command: Command, result: Result, attempts: int) -> CommandFailed:
        secrets = [*self._secrets, *command.secret_env.values()]
        if command.stdin:
            secrets.append(command.stdin.strip())
        step = command.step or f"running {command.tool}"
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        lines = [
            f"{step} failed{tries}.",
            f"  command: {command.display(secrets)}",
            f"  exit code: {result.returncode}",
        ]
        last = tail(result.stderr) or tail(result.stdout)
        if last:
            lines.append("  last output:")
            lines += [f"    {line}" for line in mask(last, secrets).splitlines()]
        if command.hint:
            lines.append(f"  try: {command.hint}")
        return CommandFailed(
            "\n".join(lines), returncode=result.returncode, stderr=mask(result.stderr, secrets)
        )


class Staging:
    """Temporary files beside their targets, renamed over them together (see Runner.staging)."""

    def __init__(self, runner: Runner, stack: contextlib.ExitStack) -> None:
        self._runner = runner
        self._stack = stack  # removes every temporary file not renamed when the block ends
        self._staged: dict[Path, Path] = {}

    def stage(
        self, target: Path, command_for: Callable[[Path], Command], *, mode: int | None = None
    ) -> Path:
        """Run ``command_for(output)`` with a temporary ``output`` beside ``target`` (created
        with ``mode``, default the target's); returns the file to read back (the target itself
        under ``--dry``)."""
        if self._runner.dry:
            self._runner.run(command_for(target))
            return target
        from tasks.core import atomic

        if mode is None:
            mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        tmp = self._stack.enter_context(atomic.temporary_beside(target, mode))
        self._runner.run(command_for(tmp))
        self._staged[target] = tmp
        return tmp

    def _commit(self) -> None:
        from tasks.core import atomic

        for target, tmp in self._staged.items():
            atomic.commit(tmp, target)


@functools.cache
def _libc_prctl() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True).prctl


def which(tool: str) -> str | None:
    """Where ``tool`` is on the PATH as it is now (plumbum's own lookup reads the copy of the
    environment it took at import, so a PATH set later, by a test or a task, would be missed)."""
    import shutil

    return shutil.which(tool, path=os.environ.get("PATH", os.defpath))


def _child_env(command: Command) -> dict[str, str]:
    """The environment a tool starts with: this process's as it is now, then the command's own
    (plumbum lays its import-time copy underneath; every key in it is overridden here)."""
    return {**os.environ, **command.env, **command.secret_env}


def _dies_with_parent() -> Callable[[], None] | None:
    """A child set-up that has the kernel SIGKILL the tool when this process dies (Linux
    PR_SET_PDEATHSIG): a task killed with SIGKILL leaves no tool running on. The tool runs in a
    session of its own (so Ctrl-C reaches only us), which is why nothing else would stop it.

    Resolved here, in the parent: the child only makes one libc call before exec (no import, no
    Python lock), which is what keeps a preexec function safe beside worker threads.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = _libc_prctl()
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def arm() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os._exit(137)

    return arm


def _timed_out(timeout: float | None, reason: str) -> str:
    return f"timed out after {timeout or 0:.0f}s" + (f" ({reason})" if reason else "")


def _stop_group(proc: Any, grace: float = 5.0) -> None:
    """SIGTERM the process group of ``proc``, SIGKILL what is left after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            # The leader is gone; helpers it started may still run in its group.
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        except TimeoutExpired:
            continue
        return


def _as_read_only(command: Command) -> Command:
    from dataclasses import replace

    return replace(command, read_only=True)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data


def plans_only(c: Context) -> bool:
    """Whether this invocation only prints its plan (``inv --dry``): for decisions made before
    a runner exists, such as taking the cluster lock."""
    return bool(c.config.run.dry)


def confirm(question: str, *, yes: bool, interactive: bool | None = None) -> None:
    """Ask before something destructive; ``--yes`` skips, no terminal and no ``--yes`` refuses."""
    from tasks.core.errors import Aborted

    if yes:
        return
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise Aborted(f"{question}\nRefusing without a terminal to confirm: pass --yes.")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in {"y", "yes"}:
        raise Aborted("Aborted: nothing was changed.")
