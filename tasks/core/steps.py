"""The steps of a plan, as data: commands, files, directories, and what a command returns.

A pure plan returns these; :class:`tasks.core.runner.Runner` executes them (or prints them under
``inv --dry``) and :mod:`tasks.core.operation` adds the steps an operation yields mid-way. Kept
apart from the runner so that both import them without importing each other.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MASK = "***"
STDERR_TAIL_LINES = 12


@dataclass(frozen=True)
class Retry:
    """Bounded retries with exponential backoff for named transient failures.

    ``on`` holds regular expressions matched against stderr+stdout; an empty tuple retries any
    failure. ``attempts`` counts the first try.
    """

    attempts: int = 3
    delay: float = 2.0
    backoff: float = 2.0
    max_delay: float = 30.0
    on: tuple[str, ...] = ()

    def retries(self, output: str) -> bool:
        return not self.on or any(re.search(p, output) for p in self.on)

    def delays(self) -> Iterable[float]:
        delay = self.delay
        for _ in range(self.attempts - 1):
            yield min(delay, self.max_delay)
            delay *= self.backoff


@dataclass(frozen=True)
class Command:
    """One external command: what a plan returns and the runner executes.

    ``env`` is printed under ``--dry`` (it matters to the reader); ``secret_env`` is passed to the
    process but printed as ``KEY=***``. ``stdin`` is never printed. ``ok_if`` lists patterns whose
    presence in the output turns a non-zero exit into success (``AlreadyExists`` on a re-run).
    """

    argv: tuple[str, ...]
    step: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    secret_env: Mapping[str, str] = field(default_factory=dict)
    stdin: str | None = None
    cwd: Path | None = None
    timeout: float | None = None
    retry: Retry | None = None
    ok_if: tuple[str, ...] = ()
    hint: str = ""
    #: A read-only probe: runs even under ``--dry`` when the tool exists.
    read_only: bool = False

    def __post_init__(self) -> None:
        if not self.argv:
            raise ValueError("a Command needs a non-empty argv")
        object.__setattr__(self, "argv", tuple(str(a) for a in self.argv))

    @property
    def tool(self) -> str:
        return self.argv[0]

    def display(self, secrets: Iterable[str] = ()) -> str:
        """The command as one shell-quoted line, environment first, secrets masked."""
        parts = [f"{k}={shlex.quote(v)}" for k, v in self.env.items()]
        parts += [f"{k}={MASK}" for k in self.secret_env]
        parts += [shlex.quote(a) for a in self.argv]
        if self.cwd is not None:
            parts = ["cd", shlex.quote(str(self.cwd)), "&&", *parts]
        return mask(" ".join(parts), [*secrets, *self.secret_env.values()])


def cmd(*argv: str | Path, **kwargs: Any) -> Command:
    """Shorthand: ``cmd("virsh", "net-start", name, step="start network")``."""
    return Command(argv=tuple(str(a) for a in argv), **kwargs)


@dataclass(frozen=True)
class WriteFile:
    """A file a plan wants written. ``secret`` content is never printed and defaults to 0600."""

    path: Path
    content: str | bytes
    mode: int | None = None
    secret: bool = False
    step: str = ""

    @property
    def effective_mode(self) -> int:
        if self.mode is not None:
            return self.mode
        return 0o600 if self.secret else 0o644


@dataclass(frozen=True)
class MakeDir:
    """A directory a plan needs (with its parents); an existing one is left as it is.
    ``step`` names what it is for, ``hint`` what to do when it cannot be made."""

    path: Path
    mode: int = 0o755
    step: str = ""
    hint: str = "check that its parent is writable (state dir: config state.dir / INVOKE_STATE_DIR)"


@dataclass(frozen=True)
class Remove:
    """A file a plan removes; one already gone is fine."""

    path: Path
    step: str = ""


Step = Command | WriteFile | MakeDir | Remove
Plan = Sequence[Step]


def mask(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret value (longest first, ignoring very short ones) with ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


#: Where base64 and PEM writers wrap their lines.
WRAP_COLUMNS = 76


def secret_forms(value: str) -> set[str]:
    """``value``, its base64 encoding, and the 76-column lines of each when they wrap."""
    import base64

    encoded = base64.b64encode(value.encode()).decode()
    forms = {value, encoded}
    for text in (value.strip(), encoded):
        if len(text) > WRAP_COLUMNS:
            forms.update(text[i : i + WRAP_COLUMNS] for i in range(0, len(text), WRAP_COLUMNS))
    for line in value.splitlines():
        if len(line.strip()) >= 8:
            forms.add(line.strip())
    return {f for f in forms if len(f) >= 8 or f == value}


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])
