"""secrets.* end to end with the real sops and age, in a copy of the repository."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tasks.secrets import sopsconfig
from tasks.secrets.facts import file_recipients
from tasks.secrets.keys import identities
from tasks.secrets.templates import find_templates, output_path
from tests.conftest import Inv
from tests.fakes import environment
from tests.integration.gitops.cluster_fakes import cluster_fakes
from tests.integration.secrets.conftest import SecretsRepo

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]


def sops(
    repo: SecretsRepo, *args: str, key_file: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**repo.env, "SOPS_AGE_KEY_FILE": str(key_file or repo.key_file)}
    return subprocess.run(
        ["sops", *args], cwd=repo.root, env=env, capture_output=True, text=True, check=False
    )


def public_key(repo: SecretsRepo, key_file: Path) -> str:
    return subprocess.run(
        ["age-keygen", "-y", str(key_file)], capture_output=True, text=True, check=True
    ).stdout.strip()


def new_key(repo: SecretsRepo, name: str) -> Path:
    path = repo.home / name
    subprocess.run(["age-keygen", "-o", str(path)], capture_output=True, check=True)
    return path


def secret_files(repo: SecretsRepo) -> list[Path]:
    return [output_path(t) for t in find_templates(repo.root / "deploy")]


def assert_no_key_material(repo: SecretsRepo, text: str, *key_files: Path) -> None:
    for key_file in (repo.key_file, *key_files):
        if key_file.exists():
            content = key_file.read_text()
            for identity in identities(content):
                assert identity not in text
            assert base64.b64encode(content.encode()).decode() not in text


def init(repo: SecretsRepo, inv: Inv) -> Any:
    result = inv("secrets.init", cwd=repo.root, env=repo.prompt_env())
    assert result.returncode == 0, result.output
    return result


def test_init_encrypts_every_template_and_check_passes(secrets_repo: SecretsRepo, inv: Inv) -> None:
    repo = secrets_repo
    result = init(repo, inv)
    assert repo.key_file.stat().st_mode & 0o777 == 0o600
    assert repo.key_file.parent.stat().st_mode & 0o777 == 0o700
    me = public_key(repo, repo.key_file)
    assert (repo.root / ".sops.yaml").read_text() == sopsconfig.render([me])
    files = secret_files(repo)
    assert files, "the deploy tree has secret templates"
    prompts = repo.prompt_env()
    for path in files:
        rel = path.relative_to(repo.root).as_posix()
        assert json.loads(sops(repo, "filestatus", rel).stdout) == {"encrypted": True}
        plain = sops(repo, "decrypt", rel)
        assert plain.returncode == 0, plain.stderr
        assert "<generate:" not in plain.stdout and "<prompt:" not in plain.stdout
        assert plain.stdout.count("value-of-") == sum(
            plain.stdout.count(v) for v in prompts.values()
        )
        # The plaintext never sat in the repository: the file holds only ciphertext.
        for value in prompts.values():
            assert value not in path.read_text()
    cert = YAML(typ="safe").load(
        sops(repo, "decrypt", "deploy/infrastructure/cert-manager/secrets.yaml").stdout
    )
    assert (
        cert["global"]["cloudflare"]["apiToken"] == prompts["PROPERTEA_SECRET_CLOUDFLARE_API_TOKEN"]
    )
    assert_no_key_material(repo, result.output)
    for value in prompts.values():
        assert value not in result.output

    check = inv("secrets.check", cwd=repo.root)
    assert check.returncode == 0, check.output

    before = {p: p.read_bytes() for p in [*files, repo.root / ".sops.yaml", repo.key_file]}
    again = inv("secrets.init", cwd=repo.root)
    assert again.returncode == 0, again.output
    assert "nothing to create" in again.output and ".sops.yaml: up to date" in again.output
    assert {p: p.read_bytes() for p in before} == before


def test_values_file_answers_the_prompts(
    secrets_repo: SecretsRepo, inv: Inv, tmp_path: Path
) -> None:
    repo = secrets_repo
    repo.trim()  # cert-manager's template is the one with a prompt
    values = tmp_path / "values.yaml"
    values.write_text('"Cloudflare API token (Zone.DNS Edit + Zone.Zone Read)": cf-from-file-123\n')
    result = inv("secrets.init", "--values-file", str(values), cwd=repo.root)
    assert result.returncode == 0, result.output
    plain = sops(repo, "decrypt", "deploy/infrastructure/cert-manager/secrets.yaml").stdout
    assert "cf-from-file-123" in plain


def test_missing_prompt_values_fail_before_anything_is_written(
    secrets_repo: SecretsRepo, inv: Inv
) -> None:
    repo = secrets_repo
    before = (repo.root / ".sops.yaml").read_text()
    result = inv("secrets.init", cwd=repo.root)
    assert result.returncode == 1
    assert "PROPERTEA_SECRET_CLOUDFLARE_API_TOKEN" in result.output
    assert "--values-file" in result.output
    assert "Traceback" not in result.output
    assert not repo.key_file.exists()
    assert (repo.root / ".sops.yaml").read_text() == before
    assert not any(p.exists() for p in secret_files(repo))


def test_planted_plaintext_fails_check_with_its_path(ready_repo: SecretsRepo, inv: Inv) -> None:
    repo = ready_repo
    planted = repo.root / "deploy/platform/extra/secrets.yaml"
    planted.parent.mkdir(parents=True)
    planted.write_text("password: hunter2-Plain-9\n")
    manifest = repo.root / "deploy/infrastructure/extra/cf.yaml"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cf\nstringData:\n  t: x\n"
    )

    check = inv("secrets.check", cwd=repo.root)
    assert check.returncode == 1
    assert "deploy/platform/extra/secrets.yaml: plaintext secret file" in check.output
    assert (
        "deploy/infrastructure/extra/cf.yaml:1: Secret/cf: [secrets/plaintext-secret] "
        "plaintext Secret in git" in check.output
    )
    assert "Traceback" not in check.output

    fixed = inv("secrets.encrypt", cwd=repo.root)
    assert fixed.returncode == 0, fixed.output
    assert "deploy/platform/extra/secrets.yaml: encrypted" in fixed.output
    manifest.unlink()
    assert inv("secrets.check", cwd=repo.root).returncode == 0
    assert "nothing to do" in inv("secrets.encrypt", cwd=repo.root).output


def test_a_file_for_other_recipients_is_reported(ready_repo: SecretsRepo, inv: Inv) -> None:
    repo = ready_repo
    other = public_key(repo, new_key(repo, "other.txt"))
    target = repo.root / "deploy/platform/extra/secrets.yaml"
    target.parent.mkdir(parents=True)
    encrypted = subprocess.run(
        ["sops", "encrypt", "--age", other, "--filename-override", "x/secrets.yaml"],
        input="a: b\n",
        env=repo.env,
        cwd=repo.home,  # no .sops.yaml above: --age alone decides
        capture_output=True,
        text=True,
        check=True,
    )
    target.write_text(encrypted.stdout)
    check = inv("secrets.check", "--json", cwd=repo.root)
    assert check.returncode == 1
    findings = json.loads(check.stdout)["findings"]
    mine = [f["message"] for f in findings if f["path"] == "deploy/platform/extra/secrets.yaml"]
    assert any("inv secrets.rotate" in m for m in mine)
    assert any("does not decrypt with the local key" in m for m in mine)


def test_rotate_moves_every_file_to_the_new_key(ready_repo: SecretsRepo, inv: Inv) -> None:
    repo = ready_repo
    old = public_key(repo, repo.key_file)
    new_file = new_key(repo, "new.txt")
    new = public_key(repo, new_file)
    old_file = repo.home / "old-copy.txt"
    old_file.write_text(repo.key_file.read_text())

    result = inv("secrets.rotate", "--add", new, "--remove", old, "--yes", cwd=repo.root)
    assert result.returncode == 0, result.output
    assert "re-encrypted and verified" in result.output
    assert sopsconfig.recipients_in((repo.root / ".sops.yaml").read_text()) == [new]
    for path in secret_files(repo):
        rel = path.relative_to(repo.root).as_posix()
        assert (
            sops(repo, "decrypt", "--output", "/dev/null", rel, key_file=new_file).returncode == 0
        )
        refused = sops(repo, "decrypt", "--output", "/dev/null", rel, key_file=old_file)
        assert refused.returncode != 0
    assert_no_key_material(repo, result.output, new_file)

    check = inv("secrets.check", cwd=repo.root, env={"SOPS_AGE_KEY_FILE": str(new_file)})
    assert check.returncode == 0, check.output


def test_rotate_remove_needs_confirmation(ready_repo: SecretsRepo, inv: Inv) -> None:
    repo = ready_repo
    other = public_key(repo, new_key(repo, "other.txt"))
    me = public_key(repo, repo.key_file)
    assert inv("secrets.rotate", "--add", other, cwd=repo.root).returncode == 0
    before = (repo.root / ".sops.yaml").read_text()
    result = inv("secrets.rotate", "--remove", other, cwd=repo.root)
    assert result.returncode == 1
    assert "Refusing without a terminal to confirm: pass --yes" in result.output
    assert (repo.root / ".sops.yaml").read_text() == before
    assert sopsconfig.recipients_in(before) == sorted([me, other])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--add", "age1nope"], "is not an age recipient"),
        (
            ["--remove", "age1evu7y3fcux82px4rhaceg3k5nv3x2vtg2lj69s8hpw2yrvkskdksp9cwpd"],
            "is not a recipient in .sops.yaml",
        ),
    ],
)
def test_rotate_bad_input(ready_repo: SecretsRepo, inv: Inv, args: list[str], message: str) -> None:
    result = inv("secrets.rotate", *args, "--yes", cwd=ready_repo.root)
    assert result.returncode == 1
    assert message in result.output and "Traceback" not in result.output


def test_rotate_refuses_to_remove_every_recipient(ready_repo: SecretsRepo, inv: Inv) -> None:
    repo = ready_repo
    me = public_key(repo, repo.key_file)
    result = inv("secrets.rotate", "--remove", me, "--yes", cwd=repo.root)
    assert result.returncode == 1
    assert "Refusing to remove every recipient" in result.output


def test_encrypt_before_init_says_what_to_run(secrets_repo: SecretsRepo, inv: Inv) -> None:
    result = inv("secrets.encrypt", cwd=secrets_repo.root)
    assert result.returncode == 1
    assert "run inv secrets.init first" in result.output


def test_bootstrap_pipes_the_key_secret_and_never_shows_the_key(
    ready_repo: SecretsRepo, inv: Inv, tmp_path: Path
) -> None:
    repo = ready_repo
    state = tmp_path / "state"
    kubeconfig = state / "propertea-local" / "kubeconfig"
    kubeconfig.parent.mkdir(parents=True)
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    with cluster_fakes(tmp_path / "fakes") as fake:
        result = inv("secrets.bootstrap", cwd=repo.root, env={"INVOKE_STATE_DIR": str(state)})
        assert result.returncode == 0, result.output
        [apply] = fake.calls("kubectl")
    assert apply["argv"] == ["--kubeconfig", str(kubeconfig), "apply", "--filename", "-"]
    manifest = YAML(typ="safe").load(apply["stdin"])
    assert manifest["kind"] == "Secret"
    assert manifest["metadata"]["name"] == "helm-secrets-private-keys"
    assert manifest["metadata"]["namespace"] == "argocd"
    assert base64.b64decode(manifest["data"]["key.txt"]).decode() == repo.key_file.read_text()
    for call in fake.calls():
        assert_no_key_material(repo, " ".join(call["argv"]))
    assert_no_key_material(repo, result.output)


def test_validate_runs_the_sops_family(ready_repo: SecretsRepo, inv: Inv) -> None:
    repo = ready_repo
    ok = inv("validate", "--only", "sops", cwd=repo.root)
    assert ok.returncode == 0, ok.output
    planted = repo.root / "deploy/platform/extra/secrets.yaml"
    planted.parent.mkdir(parents=True)
    planted.write_text("password: plain\n")
    bad = inv("validate", "--only", "sops", cwd=repo.root)
    assert bad.returncode == 1
    assert "deploy/platform/extra/secrets.yaml" in bad.output


def test_verification_catches_a_removed_key_that_still_opens_a_file(
    ready_repo: SecretsRepo, inv: Inv
) -> None:
    from tasks.core.errors import UserError
    from tasks.core.runner import Runner
    from tasks.secrets import facts

    repo = ready_repo
    me = public_key(repo, repo.key_file)
    [identity] = identities(repo.key_file.read_text())
    files = {p.relative_to(repo.root).as_posix(): p for p in secret_files(repo)}
    with environment({**repo.env, "SOPS_AGE_KEY_FILE": str(repo.key_file)}):
        runner = Runner()
        facts.verify_rotation(
            runner, root=repo.root, files=files, recipients=[me], removed_held={}, can_decrypt=True
        )
        with pytest.raises(UserError) as err:
            facts.verify_rotation(
                runner,
                root=repo.root,
                files=files,
                recipients=[me],
                removed_held={me: identity},
                can_decrypt=True,
            )
    assert f"{next(iter(files))}: a removed key still opens its data key" in err.value.text
    assert identity not in err.value.text


def test_configured_recipients_win_over_the_local_key(secrets_repo: SecretsRepo) -> None:
    from tasks.core.errors import UserError
    from tasks.core.runner import Runner
    from tasks.secrets import ops

    repo = secrets_repo
    repo.trim()
    team = public_key(repo, new_key(repo, "team.txt"))
    lines: list[str] = []
    with environment(repo.env):
        runner = Runner(out=lines.append)

        def run_init(configured: list[str]) -> None:
            runner.converge(
                ops.init(
                    repo.root,
                    repo.key_file,
                    configured=configured,
                    values={},
                    env=repo.prompt_env(),
                    ask=None,
                )
            )

        run_init([team])
        assert sopsconfig.recipients_in((repo.root / ".sops.yaml").read_text()) == [team]
        assert any("is not a recipient: it cannot decrypt" in line for line in lines)
        with pytest.raises(UserError, match=r"differs from the recipients in \.sops\.yaml"):
            run_init([public_key(repo, repo.key_file)])
    for path in secret_files(repo):
        rel = path.relative_to(repo.root).as_posix()
        assert (
            sops(
                repo, "decrypt", "--output", "/dev/null", rel, key_file=repo.home / "team.txt"
            ).returncode
            == 0
        )


def test_decrypt_edit_and_reencrypt(ready_repo: SecretsRepo, inv: Inv, tmp_path: Path) -> None:
    repo = ready_repo
    target = "deploy/infrastructure/cert-manager/secrets.yaml"
    token = repo.prompt_env()["PROPERTEA_SECRET_CLOUDFLARE_API_TOKEN"]
    shown = inv("secrets.decrypt", target, cwd=repo.root)
    assert shown.returncode == 0, shown.output
    assert token in shown.stdout

    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "added: by-the-editor\\n" >> "$1"\n')
    editor.chmod(0o755)
    edited = inv("secrets.edit", target, cwd=repo.root, env={"EDITOR": str(editor)})
    assert edited.returncode == 0, edited.output
    assert "by-the-editor" not in (repo.root / target).read_text()
    assert "added: by-the-editor" in sops(repo, "decrypt", target).stdout

    opened = inv("secrets.decrypt", target, "--in-place", cwd=repo.root)
    assert opened.returncode == 0 and "run inv secrets.encrypt" in opened.output
    assert token in (repo.root / target).read_text()
    assert inv("secrets.check", cwd=repo.root).returncode == 1
    assert inv("secrets.encrypt", "--path", target, cwd=repo.root).returncode == 0
    assert token not in (repo.root / target).read_text()
    assert inv("secrets.check", cwd=repo.root).returncode == 0


def test_decrypt_refuses_a_file_no_rule_covers(secrets_repo: SecretsRepo, inv: Inv) -> None:
    result = inv("secrets.decrypt", "deploy/CONVENTIONS.md", cwd=secrets_repo.root)
    assert result.returncode == 1
    assert "no creation rule in .sops.yaml matches it" in result.output
    missing = inv("secrets.decrypt", "deploy/nope.yaml", cwd=secrets_repo.root)
    assert "deploy/nope.yaml: no such file" in missing.output


def test_dry_rotate_remove_previews_without_asking(ready_repo: SecretsRepo, inv: Inv) -> None:
    """--dry changes nothing, so removing a recipient needs no --yes to preview it."""
    repo = ready_repo
    other = public_key(repo, new_key(repo, "other.txt"))
    assert inv("secrets.rotate", "--add", other, cwd=repo.root).returncode == 0
    before = (repo.root / ".sops.yaml").read_text()
    result = inv("--dry", "secrets.rotate", "--remove", other, cwd=repo.root)
    assert result.returncode == 0, result.output
    assert "&& sops rotate --rm-age " + other in result.stdout
    assert "# write" in result.stdout and ".sops.yaml" in result.stdout
    assert (repo.root / ".sops.yaml").read_text() == before


@pytest.mark.parametrize("task", ["secrets.decrypt", "secrets.edit"])
def test_file_outside_the_repository_is_named(
    ready_repo: SecretsRepo, inv: Inv, tmp_path: Path, task: str
) -> None:
    outside = tmp_path / "secrets.yaml"
    outside.write_text("a: b\n")
    result = inv(task, str(outside), cwd=ready_repo.root)
    assert result.returncode == 1
    assert f"{outside}: outside the repository" in result.output
    assert "the secret files are under deploy/" in result.output
    assert "Traceback" not in result.output


def test_values_file_syntax_error_does_not_echo_the_values(
    secrets_repo: SecretsRepo, inv: Inv
) -> None:
    values = secrets_repo.home / "values.yaml"
    values.write_text('Cloudflare API token: "s3cr3t-Tok3n-value\n')
    result = inv("secrets.init", "--values-file", str(values), cwd=secrets_repo.root)
    assert result.returncode == 1
    assert f"--values-file {values}: not valid YAML at line 2, column 1" in result.output
    assert "while scanning a quoted scalar" in result.output
    assert "s3cr3t-Tok3n-value" not in result.output
    assert "Traceback" not in result.output


def test_dry_init_prints_the_plan_and_creates_nothing(secrets_repo: SecretsRepo, inv: Inv) -> None:
    repo = secrets_repo
    result = inv("--dry", "secrets.init", cwd=repo.root)
    assert result.returncode == 0, result.output
    assert f"$ age-keygen -o {repo.key_file}" in result.stdout
    assert f"# mkdir -p {repo.key_file.parent}" in result.stdout
    assert "(created)" not in result.stdout
    assert "# write .sops.yaml" in result.stdout
    assert "sops encrypt --filename-override" in result.stdout
    assert not repo.key_file.exists()
    assert all(not path.exists() for path in secret_files(repo))


def test_rotate_without_a_change_is_a_no_op(ready_repo: SecretsRepo, inv: Inv) -> None:
    repo = ready_repo
    me = public_key(repo, repo.key_file)
    before = {path: path.read_bytes() for path in secret_files(repo)}
    result = inv("secrets.rotate", "--add", me, cwd=repo.root)
    assert result.returncode == 0, result.output
    assert f"every secret file is encrypted for {me}: nothing to do" in result.stdout
    assert {path: path.read_bytes() for path in secret_files(repo)} == before


def test_encrypt_with_no_secret_file_says_where_they_come_from(
    ready_repo: SecretsRepo, inv: Inv
) -> None:
    for path in secret_files(ready_repo):
        path.unlink()
    result = inv("secrets.encrypt", cwd=ready_repo.root)
    assert result.returncode == 0, result.output
    assert "no secret file under deploy/ yet (inv secrets.init creates them)" in result.stdout


def test_key_file_in_a_directory_that_cannot_be_created(
    secrets_repo: SecretsRepo, inv: Inv, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    env = {**secrets_repo.prompt_env(), "SOPS_AGE_KEY_FILE": str(blocker / "keys.txt")}
    result = inv("secrets.init", cwd=secrets_repo.root, env=env)
    assert result.returncode == 1
    assert f"Cannot create {blocker} for the age key" in result.output
    assert "point SOPS_AGE_KEY_FILE at a file in a directory you can write" in result.output
    assert "Traceback" not in result.output


def inv_under_size_limit(
    repo: SecretsRepo, limit: int, *args: str
) -> subprocess.CompletedProcess[str]:
    """``inv ARGS`` in a child whose files may not grow past ``limit`` bytes (a full disk)."""
    import os
    import sys

    from tests.limits import file_size_limit

    return subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *args],
        cwd=repo.root,
        env=dict(os.environ),
        preexec_fn=file_size_limit(limit),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_encrypt_under_a_file_size_limit_keeps_the_file_whole(
    ready_repo: SecretsRepo, inv: Inv
) -> None:
    """sops writes beside the target and the result replaces it only once it decrypts."""
    from tasks.core.atomic import stale_temporaries

    repo = ready_repo
    target = secret_files(repo)[0]
    relpath = str(target.relative_to(repo.root))
    opened = inv("secrets.decrypt", relpath, "--in-place", cwd=repo.root)
    assert opened.returncode == 0, opened.output
    plaintext = target.read_text()

    cut = inv_under_size_limit(repo, len(plaintext) + 64, "secrets.encrypt")
    assert cut.returncode != 0, cut.stdout
    assert "Traceback" not in cut.stderr
    assert target.read_text() == plaintext, "the file is whole: still the plaintext"
    assert stale_temporaries(target) == []


def test_decrypt_in_place_under_a_file_size_limit_keeps_the_encrypted_file(
    ready_repo: SecretsRepo,
) -> None:
    from tasks.core.atomic import stale_temporaries

    target = secret_files(ready_repo)[0]
    before = target.read_bytes()
    relpath = str(target.relative_to(ready_repo.root))
    cut = inv_under_size_limit(ready_repo, 16, "secrets.decrypt", relpath, "--in-place")
    assert cut.returncode != 0, cut.stdout
    assert "Traceback" not in cut.stderr
    assert target.read_bytes() == before
    assert stale_temporaries(target) == []


def test_rotate_under_a_file_size_limit_changes_no_file(ready_repo: SecretsRepo) -> None:
    """Every file is re-encrypted beside itself and proven before any is replaced: a full disk
    on one file leaves every file and .sops.yaml as they were (all still decrypt)."""
    from tasks.core.atomic import stale_temporaries

    repo = ready_repo
    files = secret_files(repo)
    assert len(files) > 1
    before = {path: path.read_bytes() for path in [*files, repo.root / ".sops.yaml"]}
    other = public_key(repo, new_key(repo, "other.txt"))
    # Adding a recipient grows every file by a stanza: the largest no longer fits.
    limit = max(len(path.read_bytes()) for path in files) + 1
    cut = inv_under_size_limit(repo, limit, "secrets.rotate", "--add", other)
    assert cut.returncode != 0, cut.stdout
    assert "Traceback" not in cut.stderr
    assert {path: path.read_bytes() for path in before} == before
    assert all(stale_temporaries(path) == [] for path in files)


def test_interrupted_rotation_is_finished_by_a_rerun(ready_repo: SecretsRepo, inv: Inv) -> None:
    """Killed between two renames, one file has the new recipients and .sops.yaml the old ones:
    the same command again re-encrypts only the rest and then writes .sops.yaml."""
    repo = ready_repo
    me = public_key(repo, repo.key_file)
    other = public_key(repo, new_key(repo, "other.txt"))
    first, *rest = secret_files(repo)
    done = first.relative_to(repo.root).as_posix()
    moved = sops(repo, "rotate", "--add-age", other, "--in-place", done)
    assert moved.returncode == 0, moved.stderr
    first_bytes = first.read_bytes()

    result = inv("secrets.rotate", "--add", other, cwd=repo.root)
    assert result.returncode == 0, result.output
    assert f"{len(rest)} file(s) re-encrypted and verified" in result.stdout
    assert first.read_bytes() == first_bytes, "the finished file is left alone"
    assert sopsconfig.recipients_in((repo.root / ".sops.yaml").read_text()) == sorted([me, other])
    assert all(file_recipients(path) == sorted([me, other]) for path in secret_files(repo))


def test_init_refuses_to_keep_a_truncated_secret_file(ready_repo: SecretsRepo, inv: Inv) -> None:
    target = secret_files(ready_repo)[0]
    text = target.read_text()
    target.write_text(text[: len(text) // 2])
    result = inv("secrets.init", cwd=ready_repo.root, env=ready_repo.prompt_env())
    assert result.returncode == 1, result.output
    relpath = target.relative_to(ready_repo.root)
    assert f"{relpath} exists but is not a whole sops file" in result.output
    assert f"git checkout -- {relpath}" in result.output
    assert f"{relpath}: exists, kept" not in result.output


def test_init_shows_the_diff_and_asks_before_rewriting_a_hand_edited_sops_config(
    ready_repo: SecretsRepo, inv: Inv
) -> None:
    config = ready_repo.root / ".sops.yaml"
    edited = config.read_text() + "# my own rule, keep it\n"
    config.write_text(edited)
    refused = inv("secrets.init", cwd=ready_repo.root, env=ready_repo.prompt_env())
    assert refused.returncode == 1, refused.output
    assert "-# my own rule, keep it" in refused.output
    assert "Refusing without a terminal to confirm: pass --yes." in refused.output
    assert config.read_text() == edited
    accepted = inv("secrets.init", "--yes", cwd=ready_repo.root, env=ready_repo.prompt_env())
    assert accepted.returncode == 0, accepted.output
    assert "my own rule" not in config.read_text()
    again = inv("secrets.init", cwd=ready_repo.root, env=ready_repo.prompt_env())
    assert again.returncode == 0 and ".sops.yaml: up to date" in again.output
