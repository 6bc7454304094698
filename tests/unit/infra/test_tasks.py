"""`inv infra.*` as a person runs it, against an absent libvirt: dry runs and bad input."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Inv, InvHere

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


@pytest.mark.processes
def test_dry_up_prints_every_command_and_changes_nothing(
    inv: Inv, env: dict[str, str], tmp_path: Path
) -> None:
    iso = tmp_path / "talos.iso"
    iso.write_bytes(b"x" * 100)
    result = inv("--dry", "infra.up", "--offline", "--iso", str(iso), env=env)
    assert result.returncode == 0, result.output
    xml = tmp_path / "state" / "propertea-local" / "libvirt" / "network.xml"
    assert f"# write {xml}" in result.stdout
    steps = changing(result.stdout)
    pool = "propertea-local"
    sid = "613e1592b2da41ae5e265e8789429f22e121aab91cb4deb6bc3c0b6262961245"
    volume = f"talos-v1.13.9-{sid}-metal-amd64.iso"
    assert steps[:9] == [
        ["virsh", "-c", URI, "pool-define-as", pool, "dir", "--target", str(tmp_path / "images")],
        ["virsh", "-c", URI, "pool-build", pool],
        ["virsh", "-c", URI, "pool-start", pool],
        ["virsh", "-c", URI, "pool-autostart", pool],
        ["virsh", "-c", URI, "vol-create-as", pool, volume, "100", "--format", "raw"],
        ["virsh", "-c", URI, "vol-upload", volume, str(iso), "--pool", pool],
        ["virsh", "-c", URI, "net-define", str(xml)],
        ["virsh", "-c", URI, "net-start", "talos"],
        ["virsh", "-c", URI, "net-autostart", "talos"],
    ]
    assert [a[a.index("--name") + 1] for a in steps if a[0] == "virt-install"] == list(NODES)
    assert [a[5] for a in steps[9:] if a[0] == "virsh"] == [f"{n}.qcow2" for n in NODES]
    assert all("--connect" in a and URI in a for a in steps if a[0] == "virt-install")
    assert not (tmp_path / "state").exists() and not (tmp_path / "images").exists()


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


@pytest.mark.processes
@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (["infra.network"], [["net-define"], ["net-start", "talos"], ["net-autostart", "talos"]]),
        (
            ["infra.vms"],
            [
                ["pool-define-as"],
                ["pool-build"],
                ["pool-start"],
                ["pool-autostart"],
                *[[["vol-create-as"], ["virt-install"]][i % 2] for i in range(6)],
            ],
        ),
        (["infra.start"], [["start", n] for n in NODES]),
        (["infra.console", "talos-cp-01"], [["console", "talos-cp-01"]]),
        (["infra.stop"], []),
        (["infra.destroy"], []),
    ],
)
def test_dry_runs_of_each_task(
    inv_here: InvHere,
    env: dict[str, str],
    tmp_path: Path,
    task: list[str],
    expected: list[list[str]],
) -> None:
    result = inv_here("--dry", *task, env=env)
    assert result.returncode == 0, result.output
    steps = [a for a in changing(result.stdout) if a[0] in {"virsh", "virt-install"}]
    got = [
        a[3 : 3 + len(e)] if a[0] == "virsh" else a[:1]
        for a, e in zip(steps, expected, strict=False)
    ]
    assert got == [e if e[0] != "net-define" else ["net-define"] for e in expected]
    assert len(steps) == len(expected)
    assert not (tmp_path / "state").exists()


@pytest.mark.processes
def test_status_of_a_fresh_host_lists_absent_vms(inv_here: InvHere, env: dict[str, str]) -> None:
    result = inv_here("--dry", "infra.status", "--json", env=env)
    assert result.returncode == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert [(v["vm"], v["state"], v["mac"]) for v in report["vms"]] == [
        ("talos-cp-01", "absent", "52:54:00:50:00:10"),
        ("talos-worker-01", "absent", "52:54:00:50:00:11"),
        ("talos-worker-02", "absent", "52:54:00:50:00:12"),
    ]
    assert report["network"]["state"] == "absent"


@pytest.mark.processes
def test_unreachable_libvirt_is_explained(inv_here: InvHere, env: dict[str, str]) -> None:
    result = inv_here("infra.network", env=env)
    assert result.returncode == 1
    assert f"libvirt at {URI} is not reachable" in result.stderr
    assert "inv infra.check" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.processes
def test_check_reports_each_prerequisite_with_its_fix(
    inv_here: InvHere, env: dict[str, str]
) -> None:
    result = inv_here("infra.check", "--json", env={**env, "INVOKE_INFRA_VIRT_TYPE": "qemu"})
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["libvirtd reachable"]["status"] == "MISSING"
    assert "systemctl enable --now libvirtd" in checks["libvirtd reachable"]["hint"]
    assert checks["KVM (/dev/kvm usable)"]["required"] is False
    assert checks["free RAM"]["wanted"] == ">= 20480 MiB on the hypervisor"
    assert checks["free RAM"]["found"] == "unknown (libvirt not reachable)"
    assert result.returncode == 1 and "libvirtd reachable" in result.stderr


@pytest.mark.processes
@pytest.mark.parametrize(
    ("args", "extra_env", "message"),
    [
        (
            ["infra.console", "nope"],
            {},
            "No node named 'nope' in the cluster spec (known: talos-cp-01",
        ),
        (
            ["infra.stop", "--timeout", "soon"],
            {},
            "--timeout 'soon': expected a number of seconds.",
        ),
        (
            ["infra.image", "--offline", "--sha256", "abc"],
            {},
            "--sha256 'abc' is not a SHA-256 digest",
        ),
        (["infra.image", "--offline"], {}, "No Talos ISO at"),
        (
            ["infra.up", "--iso", "/nonexistent/talos.iso", "--offline"],
            {},
            "--iso /nonexistent/talos.iso: no such file",
        ),
        (["infra.console", "talos-cp-01"], {}, f"libvirt at {URI} is not reachable"),
        (["infra.stop", "--timeout", "nan"], {}, "--timeout 'nan': must be 0 or from 1 to 9999999"),
        (["infra.stop", "--timeout", "0.5"], {}, "--timeout '0.5': must be 0 or from 1 to 9999999"),
        (
            ["infra.network"],
            {"INVOKE_INFRA_VIRT_TYPE": "xen"},
            "infra.virt_type 'xen' is not one of kvm, qemu",
        ),
    ],
)
def test_bad_input_is_named(
    inv_here: InvHere, env: dict[str, str], args: list[str], extra_env: dict[str, str], message: str
) -> None:
    result = inv_here(*args, env={**env, **extra_env})
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.output


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
