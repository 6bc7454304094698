"""What the secrets tasks read: the files the rules match, their SOPS metadata, and the
read-only sops/age probes (functions of the runner, read by the operations as facts or as
read-backs after their steps).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core.errors import UserError
from tasks.secrets import plan, sopsconfig
from tasks.secrets.keys import key_file_problems

if TYPE_CHECKING:
    from tasks.core.runner import Runner


@dataclass(frozen=True)
class Finding:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


def rel(root: Path, path: Path) -> str:
    return (path if not path.is_absolute() else path.relative_to(root)).as_posix()


def managed_files(root: Path) -> list[str]:
    """Repository-relative paths under deploy/ that a creation rule matches.

    A symlink or FIFO such a rule matches is refused: rewriting it would rewrite its target.
    """
    from tasks.core.paths import irregularity

    deploy = root / "deploy"
    found = []
    for path in sorted(deploy.rglob("*")):
        relpath = rel(root, path)
        if sopsconfig.rule_for(relpath) is None:
            continue
        why = irregularity(path)
        if why == "a directory":
            continue
        if why is not None:
            raise UserError(
                f"{relpath} is {why}; the secrets tasks read and rewrite regular files only "
                "(replace it with the file itself)."
            )
        found.append(relpath)
    return found


def sops_metadata(path: Path) -> dict[str, Any] | None:
    """The ``sops`` section of an encrypted YAML file, None for plaintext or unreadable."""
    from ruamel.yaml.error import YAMLError

    from tasks.core import yamldata

    try:
        data = yamldata.load(path.read_text())
    except (YAMLError, OSError, UnicodeDecodeError):
        return None
    meta = data.get("sops") if isinstance(data, dict) else None
    return meta if isinstance(meta, dict) and "mac" in meta else None


def file_recipients(path: Path) -> list[str]:
    meta = sops_metadata(path) or {}
    return sorted({str(a.get("recipient")) for a in meta.get("age") or [] if isinstance(a, dict)})


def read_sops_config(root: Path) -> tuple[str | None, list[str]]:
    """The current ``.sops.yaml`` text (None when absent) and its recipients."""
    path = root / sopsconfig.SOPS_CONFIG
    if not path.exists():
        return None, []
    text = path.read_text()
    return text, sopsconfig.recipients_in(text, path)


def whole_sops_file(runner: Runner, root: Path, relpath: str) -> bool:
    """Complete sops output we hold no key for (recipients chosen by config): it parses and
    carries sops metadata, so nothing was cut off."""
    status = runner.check(plan.filestatus(root, relpath))
    if not status.observed:  # sops itself is missing while planning: nothing to judge
        return True
    if not status.ok:
        return False
    try:
        return bool(json.loads(status.stdout).get("encrypted"))
    except ValueError:
        return False


def prove_decrypts(runner: Runner, tmp_rel: str, *, root: Path, relpath: str) -> None:
    """The sops output written to ``tmp_rel`` for ``relpath`` decrypts here, or is whole sops
    output for recipients whose key this machine does not hold (a read-back)."""
    proof = runner.check(plan.decrypts(root, tmp_rel))
    if not proof.ok and not whole_sops_file(runner, root, tmp_rel):
        raise UserError(
            f"{relpath}: sops wrote output that does not decrypt, so it was not used "
            f"(the previous file is untouched):\n{proof.stderr.strip()}"
        )


def check(runner: Runner, root: Path, key_file: Path, *, scan: bool = True) -> list[Finding]:
    """Every problem ``inv secrets.check`` reports.

    ``scan=False`` leaves out the plaintext scan of deploy/ (``inv validate`` has its own
    ``secrets`` family for that and runs this check as the ``sops`` family).
    """
    findings: list[Finding] = []
    config_path = sopsconfig.SOPS_CONFIG.as_posix()
    try:
        text, recipients = read_sops_config(root)
    except UserError as exc:
        return [Finding(config_path, None, exc.text)]
    if text is None:
        findings.append(Finding(config_path, None, "missing: run inv secrets.init"))
    elif text != sopsconfig.render(recipients):
        findings.append(
            Finding(
                config_path,
                None,
                "differs from what the toolkit generates for its recipients (edited by hand, "
                "or rules changed): regenerate with inv secrets.init",
            )
        )
    have_key = key_file.exists()
    for relpath in managed_files(root):
        result = runner.check(plan.filestatus(root, relpath))
        if not result.observed:
            continue
        if not result.ok:
            findings.append(Finding(relpath, None, f"sops cannot read it: {result.stderr.strip()}"))
            continue
        if not json.loads(result.stdout).get("encrypted"):
            findings.append(
                Finding(relpath, None, "plaintext secret file: encrypt it with inv secrets.encrypt")
            )
            continue
        found = file_recipients(root / relpath)
        if found != recipients:
            findings.append(
                Finding(
                    relpath,
                    None,
                    f"encrypted for {', '.join(found) or 'no age recipient'} but .sops.yaml names "
                    f"{', '.join(recipients) or 'none'}: run inv secrets.rotate",
                )
            )
        if have_key and not runner.check(plan.decrypts(root, relpath)).ok:
            findings.append(
                Finding(relpath, None, f"does not decrypt with the local key {key_file}")
            )
    if scan:
        findings += plaintext_findings(runner, root)
    if have_key:
        findings += [Finding(str(key_file), None, p) for p in key_file_problems(key_file, root)]
    return findings


def plaintext_findings(runner: Runner, root: Path) -> list[Finding]:
    """Plaintext Secrets and secret-looking values in deploy/: the validator's ``secrets`` family
    (one heuristic, with its allow-lists), not a second scan."""
    from tasks.validate.engine import Workspace, run

    result = run(Workspace(None, root=root, runner=runner), ["secrets"])
    return [
        Finding(p.path, p.line, f"{p.obj + ': ' if p.obj else ''}[{p.check}] {p.message}")
        for p in result.problems
        # Unencrypted secret files are the sops status check's finding above.
        if p.check.startswith("secrets/") and p.check != "secrets/unencrypted-file"
    ]


def verify_rotation(
    runner: Runner,
    *,
    root: Path,
    files: Mapping[str, Path],
    recipients: list[str],
    removed_held: dict[str, str],
    can_decrypt: bool,
) -> None:
    """Each file (relpath -> the file to check) names exactly ``recipients``, decrypts here (when
    a held key is among them), and none of its age stanzas opens with a removed identity this
    machine holds.

    The negative check goes to age itself, one stanza at a time, so no other key source SOPS
    might consult (SOPS_AGE_KEY, SSH keys) can blur it.
    """
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="propertea-rotate-") as tmp:
        removed_files: list[Path] = []
        for n, identity in enumerate(removed_held.values()):
            path = Path(tmp) / f"removed-{n}.txt"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(identity + "\n")
            removed_files.append(path)
        for relpath, candidate in files.items():
            found = file_recipients(candidate)
            if found != recipients:
                problems.append(f"{relpath}: recipients are {', '.join(found) or 'none'}")
            if can_decrypt and not runner.check(plan.decrypts(root, rel(root, candidate))).ok:
                problems.append(f"{relpath}: does not decrypt with the new recipient set")
            stanzas = [str(a["enc"]) for a in (sops_metadata(candidate) or {}).get("age") or []]
            for path in removed_files:
                if any(runner.check(plan.age_opens(path, enc)).ok for enc in stanzas):
                    problems.append(f"{relpath}: a removed key still opens its data key")
    if problems:
        raise UserError(
            "Rotation could not be verified, so no file was changed:\n"
            + "\n".join(f"  {p}" for p in problems)
        )
