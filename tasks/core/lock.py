"""One run at a time per cluster state directory, and per repository for its secrets.

Two ``inv talos.bootstrap`` started a second apart would generate two Talos secrets bundles and
bootstrap etcd twice; two ``secrets.rotate`` would interleave ``.sops.yaml`` and the re-encryption.
So every state-changing task holds an exclusive lock for its whole run, and a second run fails at
once, naming the holder.

The lock is ``flock(2)`` on a file: the kernel releases it when the holder exits, however it exits
(SIGKILL, a crash, a lost terminal), so a lock left by a dead process is simply free again and is
taken over; the file's content (PID, start time, command) only names the holder in the message.
Locks live outside the repository: the state dir's ``.lock`` for a cluster, and
``<state root>/locks/secrets-<hash of the repository path>.lock`` for a repository's secrets.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from tasks.core.errors import UserError
from tasks.core.runner import plans_only

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.state import ClusterState

P = ParamSpec("P")
R = TypeVar("R")


class Locked(UserError):
    """Another run holds the lock."""


#: Locks this process holds: a task that calls another locked task (bootstrap -> gitops.install)
#: already has the lock, and flock on a second descriptor would conflict with the first.
_HELD: set[Path] = set()


def _holder(path: Path, *, patience: float = 1.0) -> str:
    """Who holds ``path``. A holder names itself just after taking the lock, so an empty file
    is read again for up to ``patience`` seconds before settling for "another process"."""
    end = time.monotonic() + patience
    while True:
        try:
            text = path.read_text().strip()
        except OSError:
            return "another process"
        if text or time.monotonic() >= end:
            return text or "another process"
        time.sleep(0.02)


@contextlib.contextmanager
def hold(path: Path, what: str) -> Iterator[None]:
    """Hold the exclusive lock ``path`` for the block, or raise :class:`Locked` at once."""
    path = path.resolve()
    if path in _HELD:
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise UserError(
            f"Cannot create the lock {path} for {what}: {exc.strerror or exc}. Set state.dir "
            "(INVOKE_STATE_DIR) to a writable directory."
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(
                f"{what} is in use by {_holder(path)}. Wait for that run to finish (or stop it); "
                f"the lock ({path}) frees itself when its holder exits.",
                code=1,
            ) from None
        started = datetime.now(UTC).isoformat(timespec="seconds")
        command = shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
        os.ftruncate(fd, 0)
        os.write(fd, f"PID {os.getpid()} ({command}, since {started})\n".encode())
        _HELD.add(path)
        try:
            yield
        finally:
            _HELD.discard(path)
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing releases the flock


def cluster_lock_path(state_dir: Path) -> Path:
    return state_dir / ".lock"


def secrets_lock_path(state_root: Path, repo: Path) -> Path:
    digest = hashlib.sha256(str(repo.resolve()).encode()).hexdigest()[:16]
    return state_root / "locks" / f"secrets-{digest}.lock"


def _cluster_state_dir(c: Context) -> Path | None:
    from tasks.core import config
    from tasks.core.state import ClusterState

    try:
        name = config.load(c).cluster.name
    except UserError:
        return None  # the task itself reports the bad spec
    return ClusterState.for_cluster(c, name).ensure()


def _no_lock_needed(c: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """--dry changes nothing; ``inv task --help`` with a positional argument only prints help."""
    from tasks.core.taskhelp import HELP_FLAGS

    values = [*args[1:], *kwargs.values()]
    return plans_only(c) or any(isinstance(v, str) and v in HELP_FLAGS for v in values)


@contextlib.contextmanager
def cluster_held(c: Any, state: ClusterState, what: str = "the cluster state") -> Iterator[None]:
    """The cluster lock around a block, for tasks that lock only part of their work
    (``talos.certs --renew``, the aks tasks); under ``--dry`` nothing is held or created."""
    if plans_only(c):
        yield
        return
    root = state.ensure()
    with hold(cluster_lock_path(root), f"{what} {root}"):
        yield


def cluster_locked(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a task that changes a cluster: one run per cluster state directory."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        c: Any = args[0]
        state_dir = None if _no_lock_needed(c, args, kwargs) else _cluster_state_dir(c)
        if state_dir is None:
            return fn(*args, **kwargs)
        with hold(cluster_lock_path(state_dir), f"the cluster state {state_dir}"):
            return fn(*args, **kwargs)

    return wrapper


def secrets_locked(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a task that rewrites the repository's secrets: one run per repository."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from tasks.core.state import state_root

        c: Any = args[0]
        if _no_lock_needed(c, args, kwargs):
            return fn(*args, **kwargs)
        repo = Path.cwd().resolve()
        with hold(secrets_lock_path(state_root(c), repo), f"the secrets of {repo}"):
            return fn(*args, **kwargs)

    return wrapper
