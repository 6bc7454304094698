"""Pure argv builders for sops, age-keygen and kubectl: no I/O, nothing runs here.

Every sops command runs from the repository root (``cwd``) so SOPS finds ``.sops.yaml`` and
matches its ``path_regex`` against repository-relative paths. Plaintext only ever travels on
stdin; key material only by file path or stdin.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tasks.core.runner import Command, cmd
from tasks.gitops.kube import ARGOCD_NAMESPACE

#: The Secret the Argo CD repo-server mounts for helm-secrets (SOPS_AGE_KEY_FILE=.../key.txt).
HELM_SECRETS_SECRET = "helm-secrets-private-keys"  # noqa: S105 (a name, not a secret)
HELM_SECRETS_KEY = "key.txt"
#: Encrypted files are never rewritten when this sops exits non-zero, so no partial state.
SOPS_TIMEOUT = 120.0


def keygen(key_file: Path) -> Command:
    return cmd("age-keygen", "-o", key_file, step=f"create the age key {key_file}")


def public_keys(key_file: Path) -> Command:
    return cmd(
        "age-keygen", "-y", key_file, step=f"read the public key of {key_file}", read_only=True
    )


def public_key_of(identity: str) -> Command:
    """The recipient of one identity, passed on stdin."""
    return cmd(
        "age-keygen", "-y", stdin=identity + "\n", step="derive a public key", read_only=True
    )


def _sops(
    root: Path,
    *args: str | Path,
    step: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    read_only: bool = False,
) -> Command:
    return Command(
        argv=("sops", *map(str, args)),
        cwd=root,
        step=step,
        timeout=SOPS_TIMEOUT,
        stdin=stdin,
        env=env or {},
        read_only=read_only,
    )


def encrypt_new(
    root: Path,
    relpath: str,
    plaintext: str | None = None,
    *,
    source: Path | None = None,
    output: str | None = None,
) -> Command:
    """Encrypt ``plaintext`` (stdin) or ``source`` (a file outside the repository) as ``relpath``,
    with ``relpath``'s creation rule, into ``output`` (default ``relpath``): plaintext never lands
    in the repo. Writers pass a temporary ``output`` and rename it (``ops.write_encrypted``).
    """
    if (plaintext is None) == (source is None):
        raise ValueError("encrypt_new takes exactly one of plaintext or source")
    return _sops(
        root,
        "encrypt",
        "--filename-override",
        relpath,
        "--output",
        output or relpath,
        *([source] if source is not None else []),
        step=f"encrypt {relpath}",
        stdin=plaintext,
    )


def encrypt_file(root: Path, relpath: str, *, output: str) -> Command:
    """Encrypt the plaintext file ``relpath`` into ``output`` (a temporary file beside it)."""
    return encrypt_new(root, relpath, source=Path(relpath), output=output)


def decrypt_file(root: Path, relpath: str, *, output: str) -> Command:
    """Decrypt ``relpath`` into ``output`` (a temporary file beside it, renamed over it once
    sops succeeded: a full disk never leaves half a file where the encrypted one was)."""
    return _sops(root, "decrypt", "--output", output, relpath, step=f"decrypt {relpath}")


def decrypt_to_stdout(root: Path, relpath: str) -> Command:
    return _sops(root, "decrypt", relpath, step=f"decrypt {relpath}")


def edit(root: Path, relpath: str) -> Command:
    return cmd("sops", "edit", relpath, cwd=root, step=f"edit {relpath}")


def decrypts(root: Path, relpath: str) -> Command:
    """Decrypt to /dev/null: proves a key works without the plaintext reaching this process."""
    return _sops(
        root,
        "decrypt",
        "--output",
        "/dev/null",
        relpath,
        step=f"decrypt {relpath}",
        read_only=True,
    )


def age_opens(identity_file: Path, stanza: str) -> Command:
    """Whether one identity opens one age-encrypted data key stanza (output discarded)."""
    return cmd(
        "age",
        "--decrypt",
        "--identity",
        identity_file,
        "--output",
        "/dev/null",
        stdin=stanza,
        step="try a removed key",
        read_only=True,
    )


def filestatus(root: Path, relpath: str) -> Command:
    return _sops(root, "filestatus", relpath, step=f"sops filestatus {relpath}", read_only=True)


def rotate(
    root: Path, relpath: str, *, add: Iterable[str], remove: Iterable[str], output: str
) -> Command:
    """Re-encrypt ``relpath`` under a new data key for its recipients plus ``add`` minus
    ``remove``, into ``output``: the file itself is replaced only once the result is proven
    (``ops.rotate``). A new data key on every change means a removed recipient cannot read even
    values it saw before. sops adds an already present recipient twice, so callers pass only the
    difference.
    """
    add, remove = list(add), list(remove)
    return _sops(
        root,
        "rotate",
        *(("--add-age", ",".join(add)) if add else ()),
        *(("--rm-age", ",".join(remove)) if remove else ()),
        "--filename-override",
        relpath,
        "--output",
        output,
        relpath,
        step=f"re-encrypt {relpath}",
    )


def secret_manifest(key_file: Path) -> Command:
    """The helm-secrets key Secret as YAML, built client-side from the key file's path."""
    return cmd(
        "kubectl",
        "create",
        "secret",
        "generic",
        HELM_SECRETS_SECRET,
        "--namespace",
        ARGOCD_NAMESPACE,
        f"--from-file={HELM_SECRETS_KEY}={key_file}",
        "--dry-run=client",
        "--output",
        "yaml",
        step=f"build the Secret {HELM_SECRETS_SECRET}",
        read_only=True,
    )
