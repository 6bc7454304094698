"""The local age key: where SOPS looks for it and what a key file holds.

The private key is only ever read from its file, handed to tools by path, stdin or a 0600 file,
and registered with the runner for masking. It never goes into argv or printed output.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

_IDENTITY_RE = re.compile(r"^AGE-SECRET-KEY-1[0-9A-Z]+$")


def default_key_file(env: Mapping[str, str] | None = None) -> Path:
    """SOPS's default: ``$SOPS_AGE_KEY_FILE``, else ``$XDG_CONFIG_HOME/sops/age/keys.txt``."""
    env = os.environ if env is None else env
    if env.get("SOPS_AGE_KEY_FILE"):
        return Path(env["SOPS_AGE_KEY_FILE"]).expanduser()
    config_home = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")) / ".config")
    return Path(config_home).expanduser() / "sops" / "age" / "keys.txt"


def identities(text: str) -> list[str]:
    """The private identities in an age key file (comments and blank lines skipped)."""
    return [line.strip() for line in text.splitlines() if _IDENTITY_RE.match(line.strip())]


def key_file_problems(path: Path, repo_root: Path) -> list[str]:
    """A key file must live outside the repository and be readable by its owner only."""
    problems: list[str] = []
    resolved = path.resolve()
    if resolved.is_relative_to(repo_root.resolve()):
        problems.append(
            f"the age key file {path} is inside the repository: move it out "
            "(default ~/.config/sops/age/keys.txt) and point SOPS_AGE_KEY_FILE at it"
        )
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        problems.append(f"the age key file {path} has mode {mode:o}: run `chmod 600 {path}`")
    return problems
