"""The secrets operations as data: the steps each plans for given facts (no runner, no sops)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tasks.core import operation as op
from tasks.core.runner import Command, MakeDir, Result, WriteFile
from tasks.secrets import ops, sopsconfig

A = "age1pdqssxeld5um2vyqn99a7np74dz5ylcy43p9n5y2j3p4ehvdm95s9myez4"
B = "age1evu7y3fcux82px4rhaceg3k5nv3x2vtg2lj69s8hpw2yrvkskdksp9cwpd"
IDENTITY = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"


class Answers:
    """Answers each step by its class name (``by_kind``); a Staged body is driven in place (its
    steps kept in ``staged``); commands succeed with empty output."""

    def __init__(self, **by_kind: Callable[[Any], Any]) -> None:
        self.by_kind = by_kind
        self.staged: list[op.Step] = []

    def __call__(self, step: op.Step) -> Any:
        kind = type(step).__name__
        if kind in self.by_kind:
            return self.by_kind[kind](step)
        if isinstance(step, op.Staged):
            inner, value = op.drive(step.body(op.Stager()), self)
            self.staged.extend(inner)
            return value
        if isinstance(step, op.Stage):
            return step.target
        if isinstance(step, Command):
            return Result(0, "", "")
        return None


def repo(tmp_path: Path, recipients: list[str], files: dict[str, list[str] | None]) -> Path:
    """deploy/ with the given secret files: relpath -> the recipients it is encrypted for
    (None: plaintext)."""
    (tmp_path / ".sops.yaml").write_text(sopsconfig.render(recipients))
    for relpath, names in files.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if names is None:
            path.write_text("password: plain\n")
            continue
        age = "".join(f"    - recipient: {r}\n      enc: stanza-of-{r[-6:]}\n" for r in names)
        path.write_text(f"password: ENC[x]\nsops:\n  age:\n{age}  mac: ENC[mac]\n")
    return tmp_path


def test_bootstrap_before_the_key_exists_plans_the_apply_without_reading_it(
    tmp_path: Path,
) -> None:
    key = tmp_path / "keys.txt"
    kubectl = ("kubectl", "--kubeconfig", "kc")
    # The Assume is answered with its fresh world: no key yet (--dry before secrets.init).
    steps, _ = op.drive(ops.bootstrap(kubectl, key), Answers(Assume=lambda s: s.fresh))
    assert [type(s).__name__ for s in steps] == ["Assume", "Say", "Command"]
    assert isinstance(steps[1], op.Say) and steps[1].line.endswith("# once secrets.init ran")
    apply = steps[2]
    assert isinstance(apply, Command) and apply.stdin is None
    assert apply.argv == (*kubectl, "apply", "--filename", "-")


def test_bootstrap_masks_the_key_before_reading_the_manifest(tmp_path: Path) -> None:
    key = tmp_path / "keys.txt"
    content = f"# public key: {A}\n{IDENTITY}\n"
    key.write_text(content)
    steps, _ = op.drive(
        ops.bootstrap(("kubectl",), key),
        Answers(Assume=lambda s: s.observe(), Capture=lambda s: "kind: Secret\n"),
    )
    assert [type(s).__name__ for s in steps] == ["Assume", "Secret", "Capture", "Command"]
    secret = steps[1]
    assert isinstance(secret, op.Secret)
    assert IDENTITY in secret.values
    assert base64.b64encode(content.encode()).decode() in secret.values
    apply = steps[3]
    assert isinstance(apply, Command) and apply.stdin == "kind: Secret\n"


def test_encrypt_stages_only_the_plaintext_files(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        [A],
        {"deploy/a/secrets.yaml": [A], "deploy/b/secrets.yaml": None},
    )

    def status(step: op.Probe) -> Result:
        path = step.command.argv[-1]
        return Result(0, json.dumps({"encrypted": "deploy/a/" in path}), "")

    answer = Answers(Probe=status)
    steps, _ = op.drive(ops.encrypt(root, []), answer)
    staged = answer.staged
    assert [s.target for s in staged if isinstance(s, op.Stage)] == [root / "deploy/b/secrets.yaml"]
    # The proof that the output decrypts is a read-back: a real run only.
    assert [type(s).__name__ for s in staged] == ["Stage", "ReadBack"]
    assert steps[-1] == op.Report("deploy/b/secrets.yaml: encrypted")


def test_rotate_asks_before_removing_and_writes_sops_yaml_after_the_files(tmp_path: Path) -> None:
    root = repo(tmp_path, [A, B], {"deploy/a/secrets.yaml": [A, B]})
    key = tmp_path / "keys.txt"
    key.write_text(IDENTITY + "\n")
    answer = Answers(Capture=lambda s: A + "\n")
    steps, _ = op.drive(ops.rotate(root, key, add=[], remove=[B], yes=False), answer)
    kinds = [type(s).__name__ for s in steps]
    assert kinds == ["Secret", "Capture", "Confirm", "Staged", "WriteFile", "Report"]
    confirm = steps[2]
    assert isinstance(confirm, op.Confirm) and not confirm.yes and B in confirm.question
    write = steps[4]
    assert isinstance(write, WriteFile) and write.content == sopsconfig.render([A])
    [stage] = [s for s in answer.staged if isinstance(s, op.Stage)]
    argv = stage.command_for(stage.target).argv
    assert "--rm-age" in argv and B in argv and "--add-age" not in argv


def test_rotate_with_every_file_at_the_new_recipients_changes_nothing(tmp_path: Path) -> None:
    root = repo(tmp_path, [A, B], {"deploy/a/secrets.yaml": [B]})
    key = tmp_path / "keys.txt"
    key.write_text(IDENTITY + "\n")
    steps, _ = op.drive(
        ops.rotate(root, key, add=[], remove=[A], yes=True),
        Answers(Capture=lambda s: A + "\n"),
    )
    assert [type(s).__name__ for s in steps] == ["Secret", "Capture", "Confirm", "Say"]
    assert not any(isinstance(s, (op.Staged, WriteFile)) for s in steps)


def test_init_creates_a_missing_key_outside_the_repo_then_proves_its_mode(tmp_path: Path) -> None:
    key = tmp_path / "home" / "keys.txt"
    steps, created = op.drive(ops.ensure_key(key, tmp_path / "repo"), Answers())
    assert created is True
    assert [type(s).__name__ for s in steps] == ["MakeDir", "Command", "Proof"]
    make = steps[0]
    assert isinstance(make, MakeDir) and make.path == key.parent and make.mode == 0o700
    key.parent.mkdir()
    key.write_text(IDENTITY + "\n")
    assert op.drive(ops.ensure_key(key, tmp_path / "repo"), Answers()) == ([], False)


def test_init_asks_before_replacing_a_hand_edited_sops_yaml(tmp_path: Path) -> None:
    root = repo(tmp_path, [A], {})
    edited = sopsconfig.render([A]) + "# my own rule\n"
    (root / ".sops.yaml").write_text(edited)
    key = tmp_path / "keys.txt"
    key.write_text(IDENTITY + "\n")
    steps, _ = op.drive(
        ops.init(root, key, configured=[], values={}, env={}, ask=None),
        Answers(Capture=lambda s: A + "\n"),
    )
    confirm = next(i for i, s in enumerate(steps) if isinstance(s, op.Confirm))
    write = next(i for i, s in enumerate(steps) if isinstance(s, WriteFile))
    assert confirm < write
    diff = steps[confirm - 1]
    assert isinstance(diff, op.Say) and "-# my own rule" in diff.line
