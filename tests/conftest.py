"""Fixtures shared by every test: repository paths, the fake CLIs, running `inv` as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from tests.fakes import FakeTools, installed

REPO = Path(__file__).resolve().parent.parent
#: Tests reach only loopback: `inv validate` never fetches a missing schema unless a test says
#: so (and then from a loopback server).
os.environ["INVOKE_VALIDATE_FETCH_MISSING"] = "0"
#: Third-party schemas for offline validation (DESIGN.md): ../shared/schemas beside the clone.
SHARED_SCHEMAS = REPO.parent / "shared" / "schemas"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_schemas() -> Path:
    if not SHARED_SCHEMAS.is_dir():
        pytest.skip(f"no shared schemas at {SHARED_SCHEMAS}")
    return SHARED_SCHEMAS


@pytest.fixture
def fake_tools(tmp_path: Path) -> Iterator[FakeTools]:
    """talosctl, helm, argocd, dotnet, cilium, hubble and kubectl faked, first on PATH."""
    with installed(FakeTools(tmp_path / "fake-tools")) as fake:
        yield fake


@dataclass(frozen=True)
class InvResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Inv(Protocol):
    """The ``inv`` fixture: ``inv(*args, cwd=, env=, stdin=, timeout=)`` in a subprocess."""

    def __call__(
        self,
        *args: str,
        cwd: Path = ...,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        timeout: float = ...,
    ) -> InvResult: ...


class InvHere(Protocol):
    """The ``inv_here`` fixture: ``inv_here(*args, env=)`` in this process."""

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> InvResult: ...


@pytest.fixture
def inv() -> Inv:
    """Run `inv ARGS` in a subprocess (as a person would), from the repository root by default.

    The current os.environ is passed on, so `fake_tools` (which updates it) applies.
    """

    def run(
        *args: str,
        cwd: Path = REPO,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        timeout: float = 120,
    ) -> InvResult:
        full_env = {**os.environ, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
            cwd=cwd,
            env=full_env,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return InvResult(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def inv_here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> InvHere:
    """`inv ARGS` in this process through Invoke's own Program: same parsing and exits, faster.

    ``env`` reaches Invoke's config and every tool the runner starts (both read os.environ).
    """
    from invoke import Program

    from tasks import ns

    def run(*args: str, env: dict[str, str] | None = None) -> InvResult:
        with monkeypatch.context() as patch:
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            code: int | str | None = 0
            capsys.readouterr()
            try:
                Program(namespace=ns, version="test").run(["inv", *args], exit=True)
            except SystemExit as exc:
                code = exc.code
            out = capsys.readouterr()
        return InvResult(int(code or 0), out.out, out.err)

    return run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With PROPERTEA_NO_SKIPS=1 (CI) a skipped test fails: it means something was not installed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("PROPERTEA_NO_SKIPS") == "1" and report.skipped:
        if hasattr(report, "wasxfail"):
            return
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped on CI, where every test must run: {reason}"


def _work_tree_status() -> str:
    proc = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else ""


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the xdist controller, or a plain run
        session.config.stash[_TREE_KEY] = _work_tree_status()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tests work in tmp dirs: a file they leave in the repository fails the run."""
    before = session.config.stash.get(_TREE_KEY, None)
    if before is None:
        return
    after = _work_tree_status()
    if after != before:
        added = sorted(set(after.splitlines()) - set(before.splitlines()))
        writer = session.config.get_terminal_writer()
        writer.line("")
        writer.line(
            "tests changed the repository work tree: " + ("; ".join(added) or after.strip()),
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_TREE_KEY = pytest.StashKey[str]()
