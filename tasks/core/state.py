"""Per-cluster state directory, outside the repository.

Holds what must never be committed and what is derived per operator: generated machine configs,
talosconfig, kubeconfig, downloaded ISOs and the phase markers that let long bring-ups resume.
Location: Invoke config ``state.dir`` (``INVOKE_STATE_DIR``), else ``$XDG_STATE_HOME/propertea``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core.errors import UserError
from tasks.core.settings import load_section

if TYPE_CHECKING:
    from invoke.context import Context


def default_root() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "propertea"


def state_root(c: Context | None) -> Path:
    from tasks.core.sections import StateConfig

    configured = load_section(c, "state", StateConfig).dir
    return Path(configured).expanduser() if configured else default_root()


@dataclass(frozen=True)
class ClusterState:
    """The state directory of one cluster: ``<root>/<cluster name>/``."""

    root: Path

    @classmethod
    def for_cluster(cls, c: Context | None, cluster_name: str) -> ClusterState:
        return cls(state_root(c) / cluster_name)

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    @property
    def talosconfig(self) -> Path:
        return self.path("talosconfig")

    @property
    def kubeconfig(self) -> Path:
        return self.path("kubeconfig")

    @property
    def cache(self) -> Path:
        return self.path("cache")

    def ensure(self) -> Path:
        """Create the directory, private to the operator (it holds credentials)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.root.chmod(0o700)
        except OSError as exc:
            raise UserError(
                f"Cannot create the state directory {self.root}: {exc.strerror or exc}. "
                "Set state.dir in invoke.yaml or INVOKE_STATE_DIR to a writable directory."
            ) from None
        return self.root

    # -- phase markers -----------------------------------------------------------------------

    @property
    def _phases_file(self) -> Path:
        return self.path("phases.json")

    def _read_phases(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self._phases_file.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(
                f"{self._phases_file}: cannot read the phase markers ({exc}). "
                "Delete the file to start the bring-up from the beginning."
            ) from None
        return data if isinstance(data, dict) else {}

    def done_phases(self, flow: str) -> list[str]:
        return list(self._read_phases().get(flow, {}))

    def is_done(self, flow: str, phase: str) -> bool:
        return phase in self._read_phases().get(flow, {})

    def mark_done(self, flow: str, phase: str) -> None:
        data = self._read_phases()
        data.setdefault(flow, {})[phase] = datetime.now(UTC).isoformat(timespec="seconds")
        self._write_phases(data)

    def forget(self, flow: str, phases: Sequence[str] | None = None) -> None:
        """Forget finished phases (all of a flow when ``phases`` is None), e.g. for ``--from``."""
        data = self._read_phases()
        if flow not in data:
            return
        if phases is None:
            del data[flow]
        else:
            for phase in phases:
                data[flow].pop(phase, None)
        self._write_phases(data)

    def _write_phases(self, data: dict[str, dict[str, Any]]) -> None:
        """Replace phases.json whole or not at all: a full disk keeps the old markers."""
        from tasks.core.atomic import write_atomic

        self.ensure()
        try:
            write_atomic(
                self._phases_file, json.dumps(data, indent=2, sort_keys=True) + "\n", mode=0o600
            )
        except OSError as exc:
            raise UserError(
                f"Cannot record the phase markers in {self._phases_file}: "
                f"{exc.strerror or exc}. The previous markers are intact; free space (or raise "
                "the limit) and run the task again."
            ) from None
