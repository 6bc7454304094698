"""etcd snapshots in the state dir: how they are named, found and pruned (pure).

A name carries when it was taken and what the cluster ran then, so a restore can tell at a
glance whether the snapshot fits the Talos and Kubernetes it is going back into:
``etcd-20261204T061500Z-talos1.13.9-k8s1.36.3.snapshot``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SUFFIX = ".snapshot"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(
    r"^etcd-(?P<stamp>\d{8}T\d{6}Z)"
    r"(?:-talos(?P<talos>[0-9][0-9A-Za-z.+-]*?))?"
    r"(?:-k8s(?P<k8s>[0-9][0-9A-Za-z.+-]*?))?" + re.escape(SUFFIX) + "$"
)


@dataclass(frozen=True)
class Snapshot:
    path: Path
    taken: datetime
    talos: str | None
    kubernetes: str | None

    @property
    def versions(self) -> str:
        parts = [
            f"Talos {self.talos}" if self.talos else "",
            f"Kubernetes {self.kubernetes}" if self.kubernetes else "",
        ]
        return ", ".join(p for p in parts if p) or "versions not recorded"


def name_for(taken: datetime, *, talos: str | None, kubernetes: str | None) -> str:
    stamp = taken.astimezone(UTC).strftime(_STAMP)
    return (
        f"etcd-{stamp}"
        + (f"-talos{talos}" if talos else "")
        + (f"-k8s{kubernetes}" if kubernetes else "")
        + SUFFIX
    )


def parse(path: Path) -> Snapshot | None:
    """The snapshot a file name describes; None for anything else (partial files included)."""
    match = _NAME.match(path.name)
    if not match:
        return None
    taken = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
    return Snapshot(path, taken, match["talos"], match["k8s"])


def found_in(paths: Iterable[Path]) -> list[Snapshot]:
    """The snapshots among ``paths``, oldest first."""
    return sorted((s for p in paths if (s := parse(p))), key=lambda s: (s.taken, s.path.name))


def to_prune(snapshots: Iterable[Snapshot], keep: int) -> list[Snapshot]:
    """The oldest snapshots beyond the newest ``keep``."""
    ordered = sorted(snapshots, key=lambda s: (s.taken, s.path.name))
    return ordered[: max(len(ordered) - keep, 0)]
