"""Moved from tests/unit/infra/test_tasks.py: these start processes (real tools or `inv`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Inv, InvHere
from tests.unit.infra.test_tasks import NODES, URI, changing, commands  # noqa: F401

pytestmark = pytest.mark.integration


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


def test_unreachable_libvirt_is_explained(inv_here: InvHere, env: dict[str, str]) -> None:
    result = inv_here("infra.network", env=env)
    assert result.returncode == 1
    assert f"libvirt at {URI} is not reachable" in result.stderr
    assert "inv infra.check" in result.stderr
    assert "Traceback" not in result.output


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
