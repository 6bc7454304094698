"""``inv secrets.*``: SOPS + age for every secret committed under deploy/.

The age key lives where SOPS looks by default (``$SOPS_AGE_KEY_FILE``, else
``$XDG_CONFIG_HOME/sops/age/keys.txt``), outside the repository; ``.sops.yaml`` is generated from
the creation rules and the recipients (config ``secrets.age_recipients``, default the local key).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.tasks import task

from tasks.core import console
from tasks.core.errors import UserError
from tasks.core.lock import secrets_locked
from tasks.core.runner import Runner
from tasks.core.sections import SecretsConfig
from tasks.core.settings import load_section

if TYPE_CHECKING:
    from invoke.context import Context


def _key_file() -> Path:
    from tasks.secrets.keys import default_key_file

    return default_key_file()


def _list(value: list[str] | str | None) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


@task(
    help={
        "values_file": "YAML mapping of prompt label -> value, for prompts without a terminal "
        "(alternatively PROPERTEA_SECRET_<LABEL> environment variables)",
        "yes": "rewrite a .sops.yaml that was edited by hand without asking (the diff is shown)",
    }
)
@secrets_locked
def init(c: Context, values_file: str | None = None, yes: bool = False) -> None:
    """Create the age key, .sops.yaml and every secrets.yaml from its template, encrypted."""
    import getpass

    from tasks.secrets import ops
    from tasks.secrets.templates import load_values_file

    root = ops.repo_root()
    runner = Runner.from_context(c)
    values = load_values_file(Path(values_file)) if values_file else {}
    ask = (lambda label: getpass.getpass(f"{label}: ")) if sys.stdin.isatty() else None
    runner.converge(
        ops.init(
            root,
            _key_file(),
            configured=_list(load_section(c, "secrets", SecretsConfig).age_recipients),
            values=values,
            env=dict(os.environ),
            ask=ask,
            yes=yes,
        )
    )


@task(
    iterable=["path"],
    help={"path": "file to encrypt (repeatable; default: every plaintext file a rule matches)"},
)
@secrets_locked
def encrypt(c: Context, path: list[str] | None = None) -> None:
    """Encrypt in place the secret files that are plaintext (idempotent)."""
    from tasks.secrets import ops

    Runner.from_context(c).converge(ops.encrypt(ops.repo_root(), list(path or [])))


@task(
    help={
        "path": "the encrypted file (relative to the repository root, or absolute)",
        "in_place": "write the plaintext over the file (re-encrypt with inv secrets.encrypt; "
        "secrets.check fails until then) instead of printing it",
    }
)
@secrets_locked
def decrypt(c: Context, path: str, in_place: bool = False) -> None:
    """Print a secret file's plaintext (or decrypt it in place with --in-place)."""
    from tasks.core.taskhelp import asked_for_help
    from tasks.secrets import ops

    if asked_for_help(path, "secrets", decrypt):
        return
    root = ops.repo_root()
    [relpath] = ops.selected(root, [path])
    Runner.from_context(c).converge(ops.decrypt(root, relpath, in_place=in_place))


@task(help={"path": "the encrypted file to open in $EDITOR (via sops edit)"})
@secrets_locked
def edit(c: Context, path: str) -> None:
    """Edit a secret file in $EDITOR; sops re-encrypts it on save."""
    from tasks.core.taskhelp import asked_for_help
    from tasks.secrets import ops

    if asked_for_help(path, "secrets", edit):
        return
    root = ops.repo_root()
    [relpath] = ops.selected(root, [path])
    Runner.from_context(c).converge(ops.edit(root, relpath))


@task(help={"json": "print the findings as JSON"})
def check(c: Context, json: bool = False) -> None:
    """Every secret file encrypted for .sops.yaml's recipients; no plaintext secret in deploy/."""
    from dataclasses import asdict

    from tasks.secrets import facts, ops

    root = ops.repo_root()
    findings = facts.check(Runner.from_context(c), root, _key_file())
    if json:
        console.print_json({"ok": not findings, "findings": [asdict(f) for f in findings]})
    else:
        for finding in findings:
            print(finding)
    if findings:
        raise UserError(f"secrets.check: {len(findings)} problem(s)")
    if not json:
        console.ok("secrets: every secret file is encrypted for the recipients in .sops.yaml")


@task(
    iterable=["add", "remove"],
    help={
        "add": "age recipient (public key age1...) to add (repeatable or comma-separated)",
        "remove": "age recipient to remove (repeatable)",
        "yes": "do not ask before removing a recipient (required without a terminal)",
    },
)
@secrets_locked
def rotate(
    c: Context, add: list[str] | None = None, remove: list[str] | None = None, yes: bool = False
) -> None:
    """Change the recipients: every file re-encrypted under a new data key beside itself and
    verified, then all renamed into place, then .sops.yaml; a re-run finishes an interrupted one."""
    from tasks.secrets import ops

    Runner.from_context(c).converge(
        ops.rotate(ops.repo_root(), _key_file(), add=_list(add), remove=_list(remove), yes=yes)
    )


@task
def bootstrap(c: Context) -> None:
    """Create the Argo CD Secret holding the age key for helm-secrets (never in argv/output)."""
    from tasks.gitops import kube
    from tasks.secrets import ops

    runner = Runner.from_context(c)
    access = runner.converge(kube.resolve(c))
    runner.converge(ops.bootstrap(access.kubectl(), _key_file()))
    runner.report("secret argocd/helm-secrets-private-keys: applied")


ns = Collection("secrets", init, encrypt, decrypt, edit, check, rotate, bootstrap)
