"""Symlinks and FIFOs are refused by the secrets and validate tasks, naming the path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.secrets.templates import find_templates, output_path
from tests.conftest import Inv
from tests.integration.secrets.conftest import SecretsRepo

pytestmark = pytest.mark.integration


def test_encrypt_refuses_a_symlinked_secret_file_and_leaves_its_target(
    ready_repo: SecretsRepo, inv: Inv, tmp_path: Path
) -> None:
    target = output_path(find_templates(ready_repo.root / "deploy")[0])
    outside = tmp_path / "outside.yaml"
    outside.write_text("password: plain\n")
    target.unlink()
    target.symlink_to(outside)
    result = inv("secrets.encrypt", cwd=ready_repo.root)
    assert result.returncode == 1, result.output
    relpath = target.relative_to(ready_repo.root)
    assert f"{relpath} is a symlink" in result.output
    assert outside.read_text() == "password: plain\n"
    named = inv("secrets.encrypt", "--path", str(relpath), cwd=ready_repo.root)
    assert named.returncode == 1
    assert "is a symlink" in named.output
    assert "Traceback" not in named.output


def test_init_refuses_a_dangling_symlink_and_a_fifo(
    ready_repo: SecretsRepo, inv: Inv, tmp_path: Path
) -> None:
    target = output_path(find_templates(ready_repo.root / "deploy")[0])
    target.unlink()
    target.symlink_to(tmp_path / "nowhere.yaml")
    result = inv("secrets.init", cwd=ready_repo.root, env=ready_repo.prompt_env())
    assert result.returncode == 1, result.output
    assert "is a symlink; secrets.init" in result.output
    assert not (tmp_path / "nowhere.yaml").exists()
    target.unlink()
    os.mkfifo(target)
    fifo = inv("secrets.init", cwd=ready_repo.root, env=ready_repo.prompt_env(), timeout=60)
    assert fifo.returncode == 1, fifo.output
    assert "is a FIFO" in fifo.output


def test_validate_reports_a_fifo_instead_of_blocking(ready_repo: SecretsRepo, inv: Inv) -> None:
    os.mkfifo(ready_repo.root / "deploy" / "stuck.yaml")
    result = inv("validate", "--only", "yaml,secrets,manifests", cwd=ready_repo.root, timeout=60)
    assert "deploy/stuck.yaml: [io/not-regular] a FIFO" in result.output, result.output
