"""``inv validate`` family ``sops``: the checks of ``inv secrets.check`` that need sops.

Every file a creation rule matches is encrypted for exactly the recipients in ``.sops.yaml`` and
decrypts with the local key when there is one; ``.sops.yaml`` is what the toolkit generates; the
key file is outside the repository and 0600. (The plaintext scan is the ``secrets`` family's.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasks.validate.registry import register_family

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result


def check_sops(ws: Workspace, result: Result) -> None:
    from tasks.core.errors import ToolMissing
    from tasks.secrets import facts
    from tasks.secrets.keys import default_key_file

    if not (ws.root / "deploy").is_dir():
        return
    try:
        findings = facts.check(ws.runner, ws.root, default_key_file(), scan=False)
    except ToolMissing as exc:
        result.notes.append(f"sops family skipped: {exc.text}")
        return
    for finding in findings:
        result.add(finding.path, finding.line, "sops", finding.message)


register_family(
    "sops", check_sops, "secret files encrypted for the recipients in .sops.yaml", external=True
)
