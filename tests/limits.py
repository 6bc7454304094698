"""A full disk for one child process: its files may not grow past a byte limit."""

from __future__ import annotations

from collections.abc import Callable


def file_size_limit(limit: int) -> Callable[[], None]:
    """A ``preexec_fn`` setting RLIMIT_FSIZE to ``limit`` bytes; a write past it fails with
    EFBIG (SIGXFSZ is ignored) instead of killing the child, as a full disk would."""

    def apply() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply
