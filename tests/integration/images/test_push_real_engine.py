"""images.build / images.push of a web portal through the docker SDK, a real engine and registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Inv
from tests.integration.images.engine import Engine
from tests.integration.release.gitrepo import GitRepo

# One engine for these tests under xdist (`--dist loadgroup`): they share a worker.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("podman-engine")]


def _env(engine: Engine, registry: str) -> dict[str, str]:
    return {"DOCKER_HOST": engine.docker_host, "INVOKE_IMAGES_REGISTRY": registry}


def test_push_both_tags_and_read_them_back(
    engine: Engine, scratch_portal: GitRepo, inv: Inv
) -> None:
    sha = scratch_portal.git("rev-parse", "HEAD")
    result = inv(
        "images.push",
        "--component",
        "demo-web",
        cwd=scratch_portal.root,
        env=_env(engine, f"{engine.registry}/propertea"),
    )
    assert result.returncode == 0, result.output
    assert f"push {engine.registry}/propertea/propertea-demo-web:v0.2.0" in result.stdout
    assert engine.tags("propertea/propertea-demo-web") == sorted(["v0.2.0", sha[:7]])

    import docker

    client = docker.DockerClient(base_url=engine.docker_host)
    labels = client.images.get(f"{engine.registry}/propertea/propertea-demo-web:{sha[:7]}").labels
    assert labels["org.opencontainers.image.revision"] == sha
    assert labels["org.opencontainers.image.version"] == "0.2.0"
    assert labels["org.opencontainers.image.source"] == "https://github.com/propertea/propertea"


def test_build_with_a_version_override_tags_locally(
    engine: Engine, scratch_portal: GitRepo, inv: Inv
) -> None:
    result = inv(
        "images.build",
        "--component",
        "demo-web",
        "--version",
        "v3.1.4",
        cwd=scratch_portal.root,
        env=_env(engine, "ghcr.io/propertea"),
    )
    assert result.returncode == 0, result.output
    import docker

    client = docker.DockerClient(base_url=engine.docker_host)
    image = client.images.get("ghcr.io/propertea/propertea-demo-web:v3.1.4")
    assert image.labels["org.opencontainers.image.version"] == "3.1.4"


def test_push_to_an_unreachable_registry_fails(
    engine: Engine, scratch_portal: GitRepo, inv: Inv
) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    result = inv(
        "images.push",
        "--component",
        "demo-web",
        cwd=scratch_portal.root,
        env=_env(engine, f"127.0.0.1:{closed}/propertea"),
    )
    assert result.returncode == 1
    assert (
        f"pushing 127.0.0.1:{closed}/propertea/propertea-demo-web:v0.2.0 failed:" in result.stderr
    )
    assert "connection refused" in result.stderr


def test_build_error_is_reported(engine: Engine, scratch_portal: GitRepo, inv: Inv) -> None:
    scratch_portal.write("apps/portals/demo/web/Dockerfile", "FROM scratch\nCOPY missing.txt /x\n")
    result = inv(
        "images.build",
        "--component",
        "demo-web",
        cwd=scratch_portal.root,
        env=_env(engine, "ghcr.io/propertea"),
    )
    assert result.returncode == 1
    assert "building the demo-web image failed:" in result.stderr


def test_engine_unreachable(scratch_portal: GitRepo, inv: Inv, tmp_path: Path) -> None:
    result = inv(
        "images.build",
        "--component",
        "demo-web",
        cwd=scratch_portal.root,
        env={"DOCKER_HOST": f"unix://{tmp_path}/nobody.sock"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("cannot reach the container engine:")
    assert "The docker SDK uses DOCKER_HOST" in result.stderr
