"""Test helper: real git repositories with scripted histories, laid out like apps/."""

from __future__ import annotations

import os
from pathlib import Path

COMPANY = "apps/services/ProperTea.Company"
PROPERTY = "apps/services/ProperTea.Property"
WEB = "apps/portals/landlord/web"

PROPS = """<Project>
  <PropertyGroup>
    <ContainerBaseImage>mcr.microsoft.com/dotnet/aspnet:10.0</ContainerBaseImage>
    <ContainerRegistry>ghcr.io</ContainerRegistry>
    <RepositoryUrl>https://github.com/propertea/propertea</RepositoryUrl>
  </PropertyGroup>
</Project>
"""


def csproj(component: str, version: str = "0.1.0") -> str:
    return (
        '<Project Sdk="Microsoft.NET.Sdk.Web">\n  <PropertyGroup>\n'
        f"    <Version>{version}</Version>\n"
        f"    <ContainerRepository>propertea/propertea-{component}</ContainerRepository>\n"
        "  </PropertyGroup>\n</Project>\n"
    )


class GitRepo:
    """A repository in a tmp dir (GitPython); commits get increasing fixed dates (stable order).

    The toolkit itself reads git through the runner (``git log`` argv, shown under ``--dry``);
    GitPython is what the tests script histories with.
    """

    def __init__(self, root: Path) -> None:
        import git

        self.root = root
        self._tick = 0
        root.mkdir(parents=True, exist_ok=True)
        self.repo = git.Repo.init(root, initial_branch="main")
        with self.repo.config_writer() as config:
            config.set_value("user", "name", "Test")
            config.set_value("user", "email", "test@example.com")
            config.set_value("commit", "gpgsign", "false")
            config.set_value("tag", "gpgsign", "false")

    def git(self, *args: str) -> str:
        """``git ARGS`` in the repository with the next fixed date; its stdout."""
        self._tick += 1
        date = f"2026-01-01T00:{self._tick // 60:02d}:{self._tick % 60:02d}Z"
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        out: str = self.repo.git.execute(["git", *args], env=env, strip_newline_in_stdout=True)
        return out.strip()

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def commit(self, message: str, *touch: str) -> str:
        """Commit ``message`` after appending a line to each path in ``touch``."""
        for rel in touch:
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as fh:
                fh.write(f"{message[:20]}\n")
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str) -> None:
        self.git("tag", name)


def scaffold(repo: GitRepo, versions: dict[str, str] | None = None) -> None:
    """apps/ with two services and the portal, release-please files generated, one commit."""
    from tasks.core.runner import Runner
    from tasks.release.components import discover
    from tasks.release.plan import config_plan

    versions = {
        "company": "0.1.0",
        "property": "0.1.0",
        "landlord-web": "0.1.0",
        **(versions or {}),
    }
    repo.write("apps/Directory.Build.props", PROPS)
    for name, path in (("company", COMPANY), ("property", PROPERTY)):
        project = path.rsplit("/", 1)[-1]
        repo.write(f"{path}/{project}.csproj", csproj(name, versions[name]))
        repo.write(f"{path}/version.txt", versions[name] + "\n")
    repo.write(f"{WEB}/Dockerfile", "FROM scratch\n")
    repo.write(f"{WEB}/version.txt", versions["landlord-web"] + "\n")
    Runner().execute(config_plan(repo.root, discover(repo.root), current={}))
    repo.commit("chore: scaffold apps")


def run_task(name: str, cwd: Path, **kwargs: object) -> None:
    """Run ``inv <name>`` in-process from ``cwd`` (no interpreter start: for error paths).

    Config defaults come from the root collection, as Invoke loads them. Raises what the task
    raises (UserError for every user error).
    """
    from invoke.config import Config
    from invoke.context import Context

    from tasks import ns

    config = Config()
    config.load_collection(ns.configuration())
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        ns[name](Context(config), **kwargs)
    finally:
        os.chdir(previous)
