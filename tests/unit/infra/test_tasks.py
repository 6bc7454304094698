"""`inv infra.*` as a person runs it, against an absent libvirt: dry runs and bad input."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import InvHere

URI = "qemu+unix:///system?socket=/nonexistent/propertea-test/libvirt-sock"
NODES = ("talos-cp-01", "talos-worker-01", "talos-worker-02")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "INVOKE_LIBVIRT_URI": URI,
        "INVOKE_STATE_DIR": str(tmp_path / "state"),
        "INVOKE_INFRA_IMAGE_DIR": str(tmp_path / "images"),
    }


def commands(output: str) -> list[list[str]]:
    return [shlex.split(line[2:]) for line in output.splitlines() if line.startswith("$ ")]


def changing(output: str) -> list[list[str]]:
    """Commands other than the read-only virsh probes."""
    probes = {
        "uri",
        "net-list",
        "net-info",
        "net-dumpxml",
        "list",
        "dominfo",
        "domiflist",
        "domblklist",
    }
    return [a for a in commands(output) if not (a[0] == "virsh" and a[3] in probes)]


def test_dry_image_announces_the_post_and_the_download(
    inv_here: InvHere, env: dict[str, str], tmp_path: Path
) -> None:
    result = inv_here("--dry", "infra.image", env=env)
    assert result.returncode == 0, result.output
    sid = "613e1592b2da41ae5e265e8789429f22e121aab91cb4deb6bc3c0b6262961245"
    assert (
        f"# POST https://factory.talos.dev/schematics  (confirm schematic {sid})" in result.stdout
    )
    assert (
        f"(download https://factory.talos.dev/image/{sid}/v1.13.9/metal-amd64.iso)" in result.stdout
    )
    assert f"installer: factory.talos.dev/metal-installer/{sid}:v1.13.9" in result.stdout
    assert not (tmp_path / "state").exists()


@pytest.fixture
def factory_env(
    env: dict[str, str], tmp_path: Path, http_server: Any, repo_root: Path
) -> dict[str, str]:
    """The task environment with a cluster spec whose Image Factory is the local test server."""
    from ruamel.yaml import YAML

    yaml = YAML()
    data = yaml.load((repo_root / "deploy/local-cluster/cluster.yaml").read_text())
    data["image_factory"]["url"] = http_server.url
    spec_path = tmp_path / "cluster.yaml"
    with spec_path.open("w") as f:
        yaml.dump(data, f)
    return {**env, "INVOKE_CLUSTER_FILE": str(spec_path)}


def test_image_confirms_the_schematic_downloads_once_then_reuses_the_cache(
    inv_here: InvHere, factory_env: dict[str, str], tmp_path: Path, http_server: Any
) -> None:
    sid = "613e1592b2da41ae5e265e8789429f22e121aab91cb4deb6bc3c0b6262961245"
    http_server.behaviour.schematic_id = sid
    http_server.behaviour.payload = b"talos iso bytes"

    first = inv_here("infra.image", env=factory_env)
    assert first.returncode == 0, first.output
    assert "ok: the Image Factory computes the same schematic ID" in first.stdout
    assert [(r["method"], r["path"]) for r in http_server.behaviour.requests] == [
        ("POST", "/schematics"),
        ("GET", f"/image/{sid}/v1.13.9/metal-amd64.iso"),
    ]
    iso = (
        tmp_path
        / "state"
        / "propertea-local"
        / "cache"
        / "iso"
        / f"talos-v1.13.9-{sid}-metal-amd64.iso"
    )
    assert iso.read_bytes() == b"talos iso bytes"
    assert "ok: ISO downloaded" in first.stdout

    second = inv_here("infra.image", "--offline", env=factory_env)
    assert second.returncode == 0, second.output
    assert f"ok: ISO already cached: {iso}" in second.stdout
    assert len(http_server.behaviour.requests) == 2

    http_server.behaviour.schematic_id = "0" * 64
    mismatch = inv_here("infra.image", env=factory_env)
    assert mismatch.returncode == 1
    assert f"computed schematic {'0' * 64}, but the toolkit computed {sid}" in mismatch.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sha256", "abc"], "--sha256 'abc' is not a SHA-256 digest"),
        (["--iso", "/nonexistent/talos.iso"], "--iso /nonexistent/talos.iso: no such file"),
    ],
)
def test_bad_image_options_fail_before_the_factory_is_asked(
    inv_here: InvHere, factory_env: dict[str, str], http_server: Any, args: list[str], message: str
) -> None:
    result = inv_here("infra.image", *args, env=factory_env)
    assert result.returncode != 0
    assert message in result.stderr
    assert http_server.behaviour.requests == []
