"""A throw-away copy of the repository's deploy/ tree and a HOME that SOPS and age may use.

The real key path (~/.config/sops/age/keys.txt) is never touched: HOME and XDG_CONFIG_HOME point
into the test's tmp dir, and nothing else may supply a key (SOPS_AGE_KEY* are removed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tasks.secrets.templates import Template, env_name, find_templates

REPO = Path(__file__).resolve().parents[3]


@dataclass
class SecretsRepo:
    root: Path
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def key_file(self) -> Path:
        return self.home / ".config" / "sops" / "age" / "keys.txt"

    def trim(self) -> None:
        """Keep two templates (cert-manager's prompt and one generator) for faster sops runs."""
        templates = find_templates(self.root / "deploy")
        generated = next(
            t
            for t in templates
            if "<generate:" in t.read_text() and "<prompt:" not in t.read_text()
        )
        for path in templates:
            if path != generated and "cert-manager" not in path.parts:
                path.unlink()

    def prompt_env(self) -> dict[str, str]:
        """A value for every prompt of every template, by environment variable."""
        labels = {
            label
            for path in find_templates(self.root / "deploy")
            for label in Template.load(path).prompts
        }
        return {env_name(label): f"value-of-{env_name(label).lower()}-Zq9" for label in labels}


_KEY_SOURCES = ("SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY", "SOPS_AGE_KEY_CMD", "SOPS_AGE_RECIPIENTS")


def _env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "SOPS_DISABLE_VERSION_CHECK": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def _fresh_copy(base: Path) -> SecretsRepo:
    """A fresh checkout's state: templates, no secrets.yaml (nobody's key opens committed ones)."""
    if not shutil.which("age-keygen"):
        pytest.skip("age-keygen is not installed (apt-get install age)")
    root = base / "repo"
    shutil.copytree(REPO / "deploy", root / "deploy", ignore=shutil.ignore_patterns("secrets.yaml"))
    shutil.copy(REPO / ".sops.yaml", root / ".sops.yaml")
    home = base / "home"
    home.mkdir()
    return SecretsRepo(root, home, _env(home))


def _activate(repo: SecretsRepo, monkeypatch: pytest.MonkeyPatch) -> SecretsRepo:
    for var in _KEY_SOURCES:
        monkeypatch.delenv(var, raising=False)
    for key, value in repo.env.items():
        monkeypatch.setenv(key, value)
    return repo


@pytest.fixture
def secrets_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretsRepo]:
    """A fresh copy: templates only, no key yet."""
    yield _activate(_fresh_copy(tmp_path), monkeypatch)


@pytest.fixture(scope="session")
def _initialized(tmp_path_factory: pytest.TempPathFactory) -> SecretsRepo:
    """One trimmed copy after `inv secrets.init`, made once and copied by :func:`ready_repo`."""
    repo = _fresh_copy(tmp_path_factory.mktemp("secrets-initialized"))
    repo.trim()
    env = {k: v for k, v in os.environ.items() if k not in _KEY_SOURCES}
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO), "secrets.init"],
        cwd=repo.root,
        env={**env, **repo.env, **repo.prompt_env()},
        input="",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return repo


@pytest.fixture
def ready_repo(
    _initialized: SecretsRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretsRepo]:
    """A private copy of the initialized repository and its HOME (key file included)."""
    root, home = tmp_path / "repo", tmp_path / "home"
    shutil.copytree(_initialized.root, root)
    shutil.copytree(_initialized.home, home)
    yield _activate(SecretsRepo(root, home, _env(home)), monkeypatch)
