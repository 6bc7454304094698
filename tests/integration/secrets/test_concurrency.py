"""Two real `inv` processes at once on one repository's secrets: one runs, the other fails at
once naming the first, and what is left is consistent (every file opens with the key and the
recipients that .sops.yaml names)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.secrets import sopsconfig
from tasks.secrets.facts import file_recipients
from tests.integration.secrets.conftest import SecretsRepo
from tests.integration.secrets.test_secrets_flow import new_key, public_key, secret_files, sops

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


def at_once(
    repo: SecretsRepo, *runs: list[str], env: dict[str, str] | None = None
) -> list[subprocess.CompletedProcess[str]]:
    """Start every run before waiting for any (real processes, real timing)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
            cwd=repo.root,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in runs
    ]
    done = []
    for proc, args in zip(procs, runs, strict=True):
        out, err = proc.communicate(timeout=180)
        done.append(subprocess.CompletedProcess(args, proc.returncode, out, err))
    return done


def one_ran_one_refused(results: list[subprocess.CompletedProcess[str]]) -> None:
    codes = sorted(r.returncode for r in results)
    assert codes == [0, 1], [(r.returncode, r.stdout, r.stderr) for r in results]
    loser = next(r for r in results if r.returncode == 1)
    assert "is in use by PID" in loser.stderr + loser.stdout
    assert "Traceback" not in loser.stderr


def test_two_rotations_at_once(ready_repo: SecretsRepo) -> None:
    repo = ready_repo
    me = public_key(repo, repo.key_file)
    first = public_key(repo, new_key(repo, "first.txt"))
    second = public_key(repo, new_key(repo, "second.txt"))
    results = at_once(repo, ["secrets.rotate", "--add", first], ["secrets.rotate", "--add", second])
    one_ran_one_refused(results)
    winner = first if results[0].returncode == 0 else second
    expected = sorted([me, winner])
    assert sopsconfig.recipients_in((repo.root / ".sops.yaml").read_text()) == expected
    for path in secret_files(repo):
        assert file_recipients(path) == expected
        rel = path.relative_to(repo.root).as_posix()
        assert sops(repo, "decrypt", "--output", "/dev/null", rel).returncode == 0


def test_two_inits_at_once(secrets_repo: SecretsRepo) -> None:
    repo = secrets_repo
    results = at_once(repo, ["secrets.init"], ["secrets.init"], env=repo.prompt_env())
    one_ran_one_refused(results)
    me = public_key(repo, repo.key_file)
    assert sopsconfig.recipients_in((repo.root / ".sops.yaml").read_text()) == [me]
    files = secret_files(repo)
    assert files and all(file_recipients(path) == [me] for path in files)
    for path in files:
        rel = path.relative_to(repo.root).as_posix()
        assert sops(repo, "decrypt", "--output", "/dev/null", rel).returncode == 0
