"""What each secrets task does: operations (:mod:`tasks.core.operation`) the tasks converge.

Facts first (:mod:`tasks.secrets.facts`: which files the rules match, what their SOPS metadata
names, which keys this machine holds), then only the steps that differ; plans come from
:mod:`tasks.secrets.plan`.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core import console
from tasks.core import operation as op
from tasks.core.errors import UserError
from tasks.core.operation import Op
from tasks.core.steps import MASK, Command, MakeDir, WriteFile
from tasks.secrets import facts, plan, sopsconfig
from tasks.secrets.facts import file_recipients, managed_files, read_sops_config, rel, sops_metadata
from tasks.secrets.keys import identities
from tasks.secrets.templates import (
    Template,
    answer_prompts,
    env_name,
    find_templates,
    output_path,
)

if TYPE_CHECKING:
    from tasks.core.runner import Runner


def repo_root(cwd: Path | None = None) -> Path:
    root = (cwd or Path.cwd()).resolve()
    if not (root / "deploy").is_dir():
        raise UserError(
            f"No deploy/ directory in {root}: run the secrets tasks from the repository root."
        )
    return root


def _hand_edited(text: str) -> bool:
    """Whether ``.sops.yaml`` differs from what the toolkit generates for its own recipients."""
    try:
        recipients = sopsconfig.recipients_in(text, sopsconfig.SOPS_CONFIG)
    except UserError:
        return True
    return sopsconfig.render(recipients) != text


def sops_config_step(root: Path, recipients: Iterable[str]) -> WriteFile | None:
    """The ``.sops.yaml`` write, or None when it already says exactly this."""
    path = root / sopsconfig.SOPS_CONFIG
    text = sopsconfig.render(recipients)
    if path.exists() and path.read_text() == text:
        return None
    return WriteFile(path, text, step="write .sops.yaml")


# -- keys ----------------------------------------------------------------------------------


def ensure_key(key_file: Path, root: Path) -> Op[bool]:
    """Create the age key when missing (never overwritten). True when it was created."""
    if key_file.exists():
        return (yield from op.just(False))
    if key_file.resolve().is_relative_to(root):
        raise UserError(
            f"The age key file {key_file} would be inside the repository: point "
            "SOPS_AGE_KEY_FILE somewhere else (default ~/.config/sops/age/keys.txt)."
        )
    yield MakeDir(
        key_file.parent,
        mode=0o700,
        step="the age key",
        hint="point SOPS_AGE_KEY_FILE at a file in a directory you can write",
    )
    yield from op.run(plan.keygen(key_file))
    yield from op.proof(lambda: key_file.chmod(0o600))
    return True


def local_recipients(key_file: Path) -> Op[list[str]]:
    out = yield from op.capture(plan.public_keys(key_file))
    return sopsconfig.normalize(out.split())


def held_identities(key_file: Path) -> Op[dict[str, str]]:
    """recipient -> identity for every identity in the key file (each masked from now on)."""
    if not key_file.exists():
        return (yield from op.just({}))
    held: dict[str, str] = {}
    for identity in identities(key_file.read_text()):
        yield op.Secret((identity,))
        recipient = yield from op.capture(plan.public_key_of(identity))
        held[recipient.strip()] = identity
    return held


# -- init ----------------------------------------------------------------------------------


def init(
    root: Path,
    key_file: Path,
    *,
    configured: list[str],
    values: dict[str, str],
    env: dict[str, str],
    ask: Callable[[str], str] | None,
    yes: bool = False,
) -> Op[None]:
    """The age key, ``.sops.yaml`` and every missing secret file from its template, encrypted.

    ``yes`` rewrites a hand-edited ``.sops.yaml`` without asking (the diff is shown first)."""
    # Every value is known before anything is written, so a missing one leaves no trace.
    from tasks.core.paths import irregularity

    for found in find_templates(root / "deploy"):
        for path in (found, output_path(found)):
            why = irregularity(path)
            if why is not None:
                raise UserError(
                    f"{rel(root, path)} is {why}; secrets.init reads templates and writes "
                    "secret files as regular files only (replace it with the file itself)."
                )
    pending = [t for t in find_templates(root / "deploy") if not output_path(t).exists()]
    loaded = [Template.load(t) for t in pending]
    labels = list(dict.fromkeys(label for t in loaded for label in t.prompts))
    # Asked only when something will be encrypted: --dry shows the plan without asking.
    asked = yield from op.proof(lambda: answer_prompts(labels, values=values, env=env, ask=ask))
    answers = asked or {
        label: values.get(label) or env.get(env_name(label)) or MASK for label in labels
    }
    yield op.Secret(tuple(answers.values()))
    if (yield from ensure_key(key_file, root)):
        yield op.Report(f"age key: {key_file} (created)")
    else:
        yield op.Say(f"age key: {key_file} (exists, kept)")
    _, existing = read_sops_config(root)
    configured = sopsconfig.normalize(configured)
    if existing and configured and configured != existing:
        raise UserError(
            "secrets.age_recipients differs from the recipients in .sops.yaml "
            f"({', '.join(existing)}). Change recipients with inv secrets.rotate --add/--remove."
        )
    if not key_file.exists():  # only while planning: a real run has just created it
        recipients = existing or configured
        if not recipients:
            yield op.Say("# write .sops.yaml (recipient: the public key of the new age key)")
    else:
        recipients = existing or configured
        if not recipients:
            recipients = yield from local_recipients(key_file)
        mine = yield from local_recipients(key_file)
        if not set(mine) & set(recipients):
            yield op.Say(
                f"warning: the local key ({', '.join(mine)}) is not a recipient: it cannot decrypt"
            )
    if recipients:
        step = sops_config_step(root, recipients)
        current, _ = read_sops_config(root)
        if step is not None and current is not None and _hand_edited(current):
            # Not what the toolkit writes for its own recipients: someone edited it. Show what
            # would change and ask, instead of silently dropping their rules.
            import difflib

            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                str(step.content).splitlines(keepends=True),
                ".sops.yaml (yours)",
                ".sops.yaml (generated)",
            )
            yield op.Say("".join(diff).rstrip("\n"))
            yield op.Confirm(
                ".sops.yaml was edited by hand: replace it with the generated one above?", yes
            )
        if step is None:
            yield op.Say(".sops.yaml: up to date")
        else:
            yield step
            yield op.Report(f".sops.yaml: written for {', '.join(recipients)}")
    for kept in find_templates(root / "deploy"):
        if kept not in pending:
            relpath = rel(root, output_path(kept))
            whole = yield from op.fact(
                functools.partial(facts.whole_sops_file, root=root, relpath=relpath)
            )
            if not whole:
                raise UserError(
                    f"{relpath} exists but is not a whole sops file (an interrupted write, or "
                    "edited by hand?), so it is not kept. Restore it from git "
                    f"(git checkout -- {relpath}) or move it aside and run inv secrets.init "
                    f"again to recreate it from {kept.name}."
                )
            yield op.Say(f"{relpath}: exists, kept (edit: inv secrets.edit)")
    for template in loaded:
        plaintext, filled = template.render(answers)
        yield op.Secret(tuple(filled))
        target = rel(root, output_path(template.path))

        def encrypt_to(out: str, target: str = target, plaintext: str = plaintext) -> Command:
            return plan.encrypt_new(root, target, plaintext, output=out)

        yield from write_encrypted(root, target, encrypt_to)
        yield op.Report(f"{target}: created from {template.path.name} and encrypted")
    if not pending:
        yield op.Say("secret files: nothing to create")


# -- encrypt / decrypt ---------------------------------------------------------------------


def write_encrypted(root: Path, relpath: str, encrypt: Callable[[str], Command]) -> Op[None]:
    """Run ``encrypt(output)`` into a temporary file beside ``relpath``, prove the result
    decrypts, then rename it over ``relpath``: a full disk, a killed sops or output that does
    not decrypt leaves the previous file (or none) in place, never a truncated one.
    """
    prove = functools.partial(facts.prove_decrypts, root=root, relpath=relpath)
    yield from write_whole(root, relpath, encrypt, prove=prove, mode=0o644)


def write_whole(
    root: Path,
    relpath: str,
    produce: Callable[[str], Command],
    *,
    prove: Callable[[Runner, str], None] | None = None,
    mode: int | None = None,
) -> Op[None]:
    """Run ``produce(output)`` into a temporary file beside ``relpath``, ``prove`` it (read-only
    probes of the runner, read back by a real run), then rename it over ``relpath`` (the
    runner's staging)."""

    def body(stager: op.Stager) -> Op[None]:
        out = yield from stager.stage(
            root / relpath, lambda tmp: produce(rel(root, tmp)), mode=mode
        )
        if prove is not None:
            yield from op.read_back(lambda runner: prove(runner, rel(root, out)))

    yield from op.staged(body)


def is_encrypted(root: Path, relpath: str) -> Op[bool]:
    result = yield from op.probe(plan.filestatus(root, relpath))
    if not result.observed:
        return sops_metadata(root / relpath) is not None
    if not result.ok:
        raise UserError(f"{relpath}: sops cannot read it:\n{result.stderr.strip()}")
    return bool(json.loads(result.stdout).get("encrypted"))


def selected(root: Path, paths: list[str]) -> list[str]:
    if not paths:
        return managed_files(root)
    from tasks.core.paths import require_inside

    chosen = []
    for raw in paths:
        full = require_inside(root, Path(raw), "the secret files")
        relpath = rel(root, full)
        if not (root / relpath).is_file():
            raise UserError(f"{raw}: no such file")
        if sopsconfig.rule_for(relpath) is None:
            raise UserError(
                f"{relpath}: no creation rule in .sops.yaml matches it (secrets.yaml values "
                "files, *.secret.yaml manifests and the Talos bundle under deploy/)"
            )
        chosen.append(relpath)
    return chosen


def require_recipients(root: Path) -> list[str]:
    _, recipients = read_sops_config(root)
    if not recipients:
        raise UserError(".sops.yaml names no recipients yet: run inv secrets.init first.")
    return recipients


def encrypt(root: Path, paths: list[str]) -> Op[None]:
    require_recipients(root)
    chosen = selected(root, paths)
    if not chosen:
        yield op.Say(
            "no secret file under deploy/ yet (inv secrets.init creates them): nothing to do"
        )
        return
    todo = []
    for relpath in chosen:
        if not (yield from is_encrypted(root, relpath)):
            todo.append(relpath)
    for relpath in todo:

        def encrypt_to(out: str, relpath: str = relpath) -> Command:
            return plan.encrypt_file(root, relpath, output=out)

        yield from write_encrypted(root, relpath, encrypt_to)
        yield op.Report(f"{relpath}: encrypted")
    if not todo:
        yield op.Say("every matched file is already encrypted: nothing to do")


def decrypt(root: Path, relpath: str, *, in_place: bool) -> Op[None]:
    """Print the plaintext, or write it over the file (``in_place``)."""
    if in_place:
        yield from write_whole(
            root, relpath, lambda out: plan.decrypt_file(root, relpath, output=out)
        )
        console.warn(f"{relpath} is plaintext now: run inv secrets.encrypt before committing")
        return
    # Straight to the terminal: the plaintext never passes through this process.
    code = yield from op.stream(plan.decrypt_to_stdout(root, relpath), terminal=True)
    if code:
        raise UserError(f"sops could not decrypt {relpath} (exit {code}).", code=code)


def edit(root: Path, relpath: str) -> Op[None]:
    """``sops edit`` in $EDITOR; sops re-encrypts on save."""
    code = yield from op.stream(plan.edit(root, relpath), terminal=True)
    if code:
        raise UserError(f"sops edit {relpath} failed (exit {code}).", code=code)


# -- rotate --------------------------------------------------------------------------------


def rotate(root: Path, key_file: Path, *, add: list[str], remove: list[str], yes: bool) -> Op[None]:
    """Change the recipients; ``yes`` removes one without asking."""
    current = require_recipients(root)
    add, remove = sopsconfig.normalize(add), sopsconfig.normalize(remove)
    unknown = [r for r in remove if r not in current]
    if unknown:
        raise UserError(f"--remove: {', '.join(unknown)} is not a recipient in .sops.yaml")
    new = sorted((set(current) | set(add)) - set(remove))
    if not new:
        raise UserError("Refusing to remove every recipient: nobody could decrypt the secrets.")
    held = yield from held_identities(key_file)
    if not set(held) & set(current):
        raise UserError(
            f"The key file {key_file} holds none of the current recipients' keys, so the files "
            "cannot be re-encrypted here. Run this on a machine with one of: " + ", ".join(current)
        )
    if remove:
        yield op.Confirm(
            f"Remove {', '.join(remove)} from every secret file? Its holder loses access to "
            "future versions (the data keys are rotated too).",
            yes,
        )
    # A file already at the new set is done: that is what makes a re-run after an interrupted
    # rotation finish the rest instead of starting over.
    files = [
        f
        for f in managed_files(root)
        if sops_metadata(root / f) is not None and file_recipients(root / f) != new
    ]
    if not files:
        yield op.Say(f"every secret file is encrypted for {', '.join(new)}: nothing to do")
        return
    removed_held = {r: held[r] for r in remove if r in held}

    # Every file re-encrypted beside itself and proven before any is replaced; .sops.yaml
    # last, so an interrupted run leaves the old recipient list, under which a re-run
    # finishes the remaining files.
    def body(stager: op.Stager) -> Op[None]:
        staged: dict[str, Path] = {}
        for relpath in files:
            staged[relpath] = yield from stager.stage(
                root / relpath, _rotate_into(root, relpath, new)
            )
        yield from op.read_back(
            functools.partial(
                facts.verify_rotation,
                root=root,
                files=staged,
                recipients=new,
                removed_held=removed_held,
                can_decrypt=bool(set(held) & set(new)),
            )
        )

    yield from op.staged(body)
    step = sops_config_step(root, new)
    if step is not None:
        yield step
    yield op.Report(f"recipients: {', '.join(new)}; {len(files)} file(s) re-encrypted and verified")
    if not set(held) & set(new):
        yield op.Say(
            f"warning: {key_file} holds none of the new recipients: this machine cannot decrypt"
        )


def _rotate_into(root: Path, relpath: str, new: list[str]) -> Callable[[Path], Command]:
    """sops rotate for exactly the difference (sops adds a present recipient twice), writing
    the file it is given."""
    have = file_recipients(root / relpath)
    add = [r for r in new if r not in have]
    remove = [r for r in have if r not in new]
    return lambda out: plan.rotate(root, relpath, add=add, remove=remove, output=rel(root, out))


# -- bootstrap -----------------------------------------------------------------------------


class NoKey(UserError):
    """The age key file is not there yet."""


def _read_key(key_file: Path) -> str | None:
    if not key_file.exists():
        raise NoKey(f"No age key at {key_file}: run inv secrets.init first.")
    return key_file.read_text()


def bootstrap(kubectl: tuple[str, ...], key_file: Path) -> Op[None]:
    """The helm-secrets key Secret in argocd, applied from stdin; the key is masked throughout."""
    apply = Command(
        (*kubectl, "apply", "--filename", "-"),
        step=f"apply the Secret {plan.HELM_SECRETS_SECRET}",
        timeout=60,
        hint="does the argocd namespace exist? inv gitops.install",
    )
    content = yield from op.assume(lambda: _read_key(key_file), fresh=None, unobservable=NoKey)
    if content is None:  # planned before secrets.init made the key
        yield op.Say(f"$ {plan.secret_manifest(key_file).display()}  # once secrets.init ran")
        yield from op.run(apply)
        return
    yield op.Secret(
        (content.strip(), base64.b64encode(content.encode()).decode(), *identities(content))
    )
    manifest = yield from op.capture(plan.secret_manifest(key_file))
    yield from op.run(replace(apply, stdin=manifest))
