"""User-facing errors: one paragraph, a non-zero exit code, never a traceback."""

from __future__ import annotations

from invoke.exceptions import Exit


class UserError(Exit):
    """An error the person running the task can act on.

    Invoke prints an ``Exit``'s message and exits with its code, without a traceback.
    """

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message=message.rstrip() + "\n", code=code)
        self.text = message


class ConfigError(UserError):
    """The cluster spec or an Invoke setting is wrong: names the file, line and field."""


class ToolMissing(UserError):
    """A CLI the task needs is not on PATH."""


class CommandFailed(UserError):
    """An external command exited non-zero (or timed out)."""

    def __init__(self, message: str, *, returncode: int | None, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class Aborted(UserError):
    """The person declined a confirmation, or none could be asked."""
