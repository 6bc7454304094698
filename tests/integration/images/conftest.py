"""A real Docker-API engine (podman system service) and OCI registry (docker-registry) on loopback.

One pair per test session (per xdist worker): podman with vfs storage under a tmp dir, told that
the registry on 127.0.0.1:<port> speaks plain HTTP. No base image can be pulled here, so image
fixtures build FROM scratch.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.images.engine import Engine
from tests.integration.release.gitrepo import GitRepo


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check: Callable[[], bool], proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not start:\n{log.read_text()[-2000:]}")


def _registry_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    if os.geteuid() != 0:
        pytest.skip("the podman service with vfs storage runs as root here")
    missing = [tool for tool in ("podman", "docker-registry") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (apt-get install podman docker-registry)")
    # podman refuses a runroot longer than 50 characters: a short dir, not pytest's tmp_path.
    base = Path(tempfile.mkdtemp(prefix="pt-engine-"))
    port = _free_port()
    (base / "registry.yml").write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {base / 'registry-data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    (base / "registries.conf").write_text(
        f'[[registry]]\nlocation = "127.0.0.1:{port}"\ninsecure = true\n'
    )
    sock = base / "podman.sock"
    registry_log = (base / "registry.log").open("w")
    podman_log = (base / "podman.log").open("w")
    registry = subprocess.Popen(
        ["docker-registry", "serve", str(base / "registry.yml")],
        stdout=registry_log,
        stderr=subprocess.STDOUT,
    )
    podman = subprocess.Popen(
        [
            "podman",
            "--storage-driver",
            "vfs",
            "--root",
            str(base / "root"),
            "--runroot",
            str(base / "runroot"),
            "system",
            "service",
            "--time=0",
            f"unix://{sock}",
        ],
        stdout=podman_log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "CONTAINERS_REGISTRIES_CONF": str(base / "registries.conf")},
    )
    try:
        _wait(lambda: _registry_up(port), registry, "docker-registry", base / "registry.log")
        _wait(sock.exists, podman, "podman system service", base / "podman.log")
        yield Engine(docker_host=f"unix://{sock}", registry=f"127.0.0.1:{port}")
    finally:
        for proc in (podman, registry):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        registry_log.close()
        podman_log.close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def scratch_portal(tmp_path: Path) -> GitRepo:
    """A monorepo whose only component is a web portal built FROM scratch."""
    repo = GitRepo(tmp_path / "mono")
    repo.write(
        "apps/Directory.Build.props",
        "<Project><PropertyGroup><RepositoryUrl>https://github.com/propertea/propertea"
        "</RepositoryUrl></PropertyGroup></Project>\n",
    )
    repo.write(
        "apps/portals/demo/web/Dockerfile",
        "FROM scratch\nCOPY index.html /usr/share/nginx/html/index.html\n",
    )
    repo.write("apps/portals/demo/web/index.html", "<h1>demo</h1>\n")
    repo.write("apps/portals/demo/web/version.txt", "0.2.0\n")
    repo.commit("feat: demo portal")
    return repo
