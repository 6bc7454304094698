"""Nox sessions: lint, typecheck, tests, validate (pre-commit and CI), bench."""

from __future__ import annotations

from pathlib import Path

import nox

nox.needs_version = ">=2025.2"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests", "validate"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


#: Pinned third-party schemas laid out beside the clone (CI, the team's machines). Elsewhere
#: `inv validate` downloads the same pinned files into a user cache.
SHARED_SCHEMAS = Path(__file__).resolve().parent.parent / "shared" / "schemas"


def schema_env() -> dict[str, str]:
    if not SHARED_SCHEMAS.is_dir():
        return {}
    return {"INVOKE_VALIDATE_SHARED_SCHEMAS": str(SHARED_SCHEMAS)}


def install(session: nox.Session, *groups: str) -> None:
    """The project plus dependency groups from pyproject.toml."""
    session.install("-e", ".")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Mypy, strict on the tasks package."""
    install(session, "lint")
    session.run("mypy", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite: real git, sops, age, kubectl, libvirtd, podman; fakes for the rest."""
    install(session, "test")
    session.run("pytest", "-n", "auto", "--dist", "loadgroup", *session.posargs)


@nox.session
def validate(session: nox.Session) -> None:
    """Offline validation of the monorepo (`inv validate`): run before every commit."""
    install(session, "test")
    # Without the shared schemas, `inv validate` fetches the pinned files its cache lacks, once;
    # later runs are offline.
    session.run("inv", "validate", *session.posargs, env=schema_env())


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks: print numbers, never assert on time."""
    install(session, "test")
    # `_name.py` files are the scripts' helpers, not benchmarks.
    scripts = sorted(p for p in Path("benchmarks").glob("*.py") if not p.name.startswith("_"))
    for script in scripts:
        session.run("python", str(script), *session.posargs, env=schema_env())
