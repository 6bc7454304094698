"""infra.* against a real libvirtd with qemu (TCG) in a private network namespace.

Over the local socket, and over qemu+ssh as in the guide's topology: there libvirtd and sshd share
a network and mount namespace (the "infra VM") and the toolkit runs outside that mount namespace,
so anything it wrote locally instead of on the hypervisor shows up.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Inv, InvHere

pytestmark = [pytest.mark.integration, pytest.mark.root]

CHANGING = (
    "net-define",
    "net-start",
    "net-autostart",
    "pool-define-as",
    "pool-build",
    "pool-start",
    "pool-autostart",
    "vol-create-as",
    "vol-upload",
    "vol-delete",
    "pool-destroy",
    "pool-delete",
    "pool-undefine",
    "undefine",
    "virt-install",
)


def commands(output: str, tool: str | None = None) -> list[list[str]]:
    """The argv of every `$ ...` line printed by `inv --echo` / `inv --dry`."""
    argvs = [shlex.split(line[2:]) for line in output.splitlines() if line.startswith("$ ")]
    return [a for a in argvs if tool is None or a[0] == tool]


def changing_lines(output: str) -> list[str]:
    return [
        line
        for line in output.splitlines()
        if line.startswith("$ ") and any(c in line for c in CHANGING)
    ]


def test_up_converges_stop_waits_or_forces_start_and_destroy_leaves_nothing(
    libvirt: Any, tiny_cluster: Any, inv_here: InvHere, inv: Inv
) -> None:
    cl = tiny_cluster
    env = cl.env
    up = ["infra.up", "--offline", "--iso", str(cl.iso)]

    dry = inv_here("--dry", *up, env=env)
    assert dry.returncode == 0, dry.output
    assert len(commands(dry.stdout, "virt-install")) == 2
    assert cl.network not in libvirt.names("net-list", "--all", "--name")
    assert not set(cl.nodes) & libvirt.names("list", "--all", "--name")
    assert not cl.image_dir.exists()

    first = inv("--echo", *up, env=env)
    assert first.returncode == 0, first.output
    # --dry planned exactly what the real run then did to the hypervisor, line for line.
    assert changing_lines(dry.stdout) == changing_lines(first.stdout)
    virsh_calls = [a[3:] for a in commands(first.stdout, "virsh") if a[3] != "uri"]
    assert all(a[:3] == ["virsh", "-c", cl.uri] for a in commands(first.stdout, "virsh"))
    assert [
        "net-define",
        str(Path(env["INVOKE_STATE_DIR"]) / f"pt{cl.network[2:]}" / "libvirt" / "network.xml"),
    ] in virsh_calls
    assert ["net-start", cl.network] in virsh_calls
    assert ["net-autostart", cl.network] in virsh_calls
    cp, mac = next(iter(cl.nodes.items()))
    pool = cl.network  # the pool is named after the cluster, like the network here
    iso = cl.iso_volume
    assert ["pool-define-as", pool, "dir", "--target", str(cl.image_dir)] in virsh_calls
    assert ["vol-create-as", pool, f"{cp}.qcow2", "1G", "--format", "qcow2"] in virsh_calls
    size = str(cl.iso.stat().st_size)
    assert ["vol-create-as", pool, iso, size, "--format", "raw"] in virsh_calls
    assert ["vol-upload", iso, str(cl.iso), "--pool", pool] in virsh_calls
    assert commands(first.stdout, "virt-install")[0] == [
        "virt-install", "--connect", cl.uri, "--virt-type", "qemu", "--name", cp,
        "--memory", "256", "--vcpus", "1", "--cpu", "qemu64",
        "--disk", f"vol={pool}/{cp}.qcow2,bus=virtio",
        "--disk", f"vol={pool}/{iso},device=cdrom,bus=sata,readonly=on",
        "--import", "--os-variant", "linux2022",
        "--network", f"network={cl.network},mac={mac},model=virtio",
        "--boot", "hd,cdrom", "--graphics", "none", "--serial", "pty",
        "--console", "pty,target_type=serial", "--noautoconsole", "--autostart",
    ]  # fmt: skip

    info = libvirt.virsh("net-info", cl.network)
    assert "Active:         yes" in info and "Autostart:      yes" in info
    xml = libvirt.virsh("net-dumpxml", cl.network)
    for name, node_mac in cl.nodes.items():
        assert f"<host mac='{node_mac}' name='{name}'" in xml
        assert "State:          running" in libvirt.virsh("dominfo", name)
        assert node_mac in libvirt.virsh("domiflist", name)
        assert (cl.image_dir / f"{name}.qcow2").is_file()

    second = inv_here("--echo", *up, env=env)
    assert second.returncode == 0, second.output
    assert changing_lines(second.stdout) == []
    assert "matches the spec: nothing to do" in second.stdout
    assert "every VM exists: nothing to do" in second.stdout
    assert "matches talos.iso (sha256): nothing to do" in second.stdout

    status = inv_here("infra.status", "--json", env=env)
    assert status.returncode == 0, status.output
    report = json.loads(status.stdout)
    assert report["network"] == {"name": cl.network, "state": "active", "autostart": True}
    assert [
        (v["vm"], v["state"], v["vcpus"], v["memory_mib"], v["mac"]) for v in report["vms"]
    ] == [(name, "running", 1, 256, node_mac) for name, node_mac in cl.nodes.items()]

    names = list(cl.nodes)

    # The guests have no OS, so nothing answers the ACPI power button.
    patient = inv_here("infra.stop", "--timeout", "1", env=env)
    assert patient.returncode != 0
    assert "Still running after 1s" in patient.output and "--force" in patient.output

    forced = inv_here("--echo", "infra.stop", "--timeout", "1", "--force", env=env)
    assert forced.returncode == 0, forced.output
    assert [a[3:] for a in commands(forced.stdout, "virsh") if a[3] in {"shutdown", "destroy"}] == [
        *[["shutdown", n] for n in names],
        *[["destroy", n] for n in names],
    ]
    for name in names:
        assert libvirt.virsh("domstate", name).strip() == "shut off"

    libvirt.virsh("setmaxmem", names[0], "300M", "--config")
    drift = inv_here("--echo", "infra.vms", env=env)
    assert drift.returncode == 0, drift.output
    assert f"{names[0]}: memory 300 MiB, spec 256 MiB" in drift.output
    assert changing_lines(drift.stdout) == []

    started = inv_here("--echo", "infra.start", env=env)
    assert started.returncode == 0, started.output
    assert [a[3:] for a in commands(started.stdout, "virsh") if a[3] == "start"] == [
        ["start", n] for n in names
    ]
    for name in names:
        assert libvirt.virsh("domstate", "--reason", name).strip() == "running (booted)"
    assert "nothing to do" in inv_here("infra.start", env=env).stdout

    refused = inv_here("infra.destroy", env=env)
    assert refused.returncode != 0
    assert "pass --yes" in refused.output
    assert set(cl.nodes) <= libvirt.names("list", "--all", "--name")

    dry_destroy = inv_here("--dry", "infra.destroy", env=env)
    assert dry_destroy.returncode == 0, dry_destroy.output
    assert ["undefine", cp, "--storage", "vda"] in [
        a[3:] for a in commands(dry_destroy.stdout, "virsh")
    ]
    assert set(cl.nodes) <= libvirt.names("list", "--all", "--name")

    gone = inv_here("--echo", "infra.destroy", "--yes", env=env)
    assert gone.returncode == 0, gone.output
    assert not set(cl.nodes) & libvirt.names("list", "--all", "--name")
    assert cl.network not in libvirt.names("net-list", "--all", "--name")
    assert cl.pool not in libvirt.names("pool-list", "--all", "--name")
    assert not cl.image_dir.exists(), "the emptied pool's directory is removed with it"
    assert cl.iso.is_file(), "the ISO is shared and must survive a destroy"

    again = inv_here("infra.destroy", "--yes", env=env)
    assert again.returncode == 0, again.output
    assert "nothing to do" in again.stdout


def test_network_with_a_different_definition_is_replaced_only_with_yes(
    libvirt: Any, tiny_cluster: Any, inv_here: InvHere
) -> None:
    cl = tiny_cluster
    check = inv_here("infra.check", "--json", env=cl.env)
    assert check.returncode == 0, check.output
    checks = {c["name"]: c["status"] for c in json.loads(check.stdout)["checks"]}
    assert checks["libvirtd reachable"] == "OK"

    created = inv_here("infra.network", env=cl.env)
    assert created.returncode == 0, created.output

    def shrink_dhcp(data: Any) -> None:
        data["network"]["dhcp"]["end"] = data["network"]["dhcp"]["end"].rsplit(".", 1)[0] + ".150"

    cl.edit(shrink_dhcp)
    refused = inv_here("infra.network", env=cl.env)
    assert refused.returncode != 0
    assert "dhcp end: existing" in refused.output and ".150'" in refused.output
    assert "pass --yes" in refused.output
    assert ".199'" in libvirt.virsh("net-dumpxml", cl.network)

    replaced = inv_here("--echo", "infra.network", "--yes", env=cl.env)
    assert replaced.returncode == 0, replaced.output
    calls = [
        a[3]
        for a in commands(replaced.stdout, "virsh")
        if a[3].startswith("net-") and a[3] not in {"net-list", "net-info", "net-dumpxml"}
    ]
    assert calls == ["net-destroy", "net-undefine", "net-define", "net-start", "net-autostart"]
    assert ".150'" in libvirt.virsh("net-dumpxml", cl.network)

    no_iso = inv_here("infra.vms", env=cl.env)
    assert no_iso.returncode == 1
    assert "No Talos ISO at" in no_iso.stderr and "pass --iso PATH" in no_iso.stderr

    converged = inv_here("infra.network", env=cl.env)
    assert converged.returncode == 0
    assert "nothing to do" in converged.stdout


def files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")} if path.exists() else set()


def test_up_status_destroy_over_qemu_ssh_act_on_the_hypervisor_only(
    libvirt_ssh: Any, remote_cluster: Any, inv_here: InvHere, inv: Inv, tmp_path: Path
) -> None:
    lv, cl = libvirt_ssh.libvirt, remote_cluster
    env = cl.env
    assert cl.uri.startswith("qemu+ssh://root@")
    pool_dir = cl.image_dir
    assert str(pool_dir).startswith("/var/lib/libvirt/images/")
    assert not pool_dir.exists()
    before = files_under(tmp_path)

    first = inv("--echo", "infra.up", "--offline", "--iso", str(cl.iso), env=env)
    assert first.returncode == 0, first.output
    calls = [a[3:] for a in commands(first.stdout, "virsh")]
    assert all(a[:3] == ["virsh", "-c", cl.uri] for a in commands(first.stdout, "virsh"))
    assert ["pool-define-as", cl.pool, "dir", "--target", str(pool_dir)] in calls
    assert ["vol-upload", cl.iso_volume, str(cl.iso), "--pool", cl.pool] in calls
    installs = commands(first.stdout, "virt-install")
    assert [a[a.index("--name") + 1] for a in installs] == list(cl.nodes)
    assert all(a[a.index("--connect") + 1] == cl.uri for a in installs)

    # The hypervisor side has the pool directory, the volumes and the uploaded ISO ...
    assert lv.exists_on_hypervisor(pool_dir)
    for name in cl.nodes:
        assert lv.exists_on_hypervisor(pool_dir / f"{name}.qcow2")
        assert "State:          running" in lv.virsh("dominfo", name)
        blk = lv.virsh("domblklist", name)
        assert str(pool_dir / f"{name}.qcow2") in blk and str(pool_dir / cl.iso_volume) in blk
    uploaded = lv.on_hypervisor("cmp", str(pool_dir / cl.iso_volume), str(cl.iso))
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    assert "Active:         yes" in lv.virsh("net-info", cl.network)
    pool_info = lv.virsh("pool-info", cl.pool)
    assert "State:          running" in pool_info and "Autostart:      yes" in pool_info
    # ... and the client side nothing but the toolkit's own state (the network XML, and the
    # cluster lock every state-changing task holds).
    assert not pool_dir.exists(), "the pool directory was created on the client"
    assert files_under(tmp_path) - before == {
        "state",
        f"state/{cl.network}",
        f"state/{cl.network}/.lock",
        f"state/{cl.network}/libvirt",
        f"state/{cl.network}/libvirt/network.xml",
    }

    second = inv_here("--echo", "infra.up", "--offline", "--iso", str(cl.iso), env=env)
    assert second.returncode == 0, second.output
    assert changing_lines(second.stdout) == []
    assert "matches talos.iso (sha256): nothing to do" in second.stdout
    assert "every VM exists: nothing to do" in second.stdout

    status = inv_here("infra.status", "--json", env=env)
    assert status.returncode == 0, status.output
    report = json.loads(status.stdout)
    assert report["uri"] == cl.uri
    assert [(v["vm"], v["state"]) for v in report["vms"]] == [(n, "running") for n in cl.nodes]

    # infra.check reads the hypervisor through libvirt: the pool's space is the hypervisor-side
    # tmpfs, and the nodes are probed from here, through the guide's static route.
    cidr = f"{cl.network_prefix}.0/24"
    subprocess.run(["ip", "route", "add", cidr, "via", libvirt_ssh.address], check=True)
    try:
        check = inv_here("--echo", "infra.check", "--json", env=env)
        text = inv_here("infra.check", env=env)
    finally:
        subprocess.run(["ip", "route", "del", cidr], check=False)
    assert check.returncode == 0, check.output
    assert all(a[2] == cl.uri for a in commands(check.stdout, "virsh"))
    checks = {c["name"]: c for c in json.loads(check.stdout[check.stdout.index("{") :])["checks"]}
    assert checks["libvirtd reachable"]["status"] == "OK"
    assert checks["KVM (/dev/kvm usable)"]["found"] in {"yes", "no"}
    assert checks["free RAM"]["found"].endswith(" MiB")
    df = lv.on_hypervisor("df", "-B1", "--output=avail", str(pool_dir)).stdout.split()[-1]
    assert checks["free disk"]["found"] == f"{int(df) // 2**30} GiB"
    talos = checks["Talos API :50000 reachable from this machine"]
    assert talos["status"] == "WARN" and talos["found"].startswith("no answer: ")
    target = f"root@{libvirt_ssh.address}"
    assert f"sshuttle --daemon -r {target} {cidr}" in talos["hint"]
    assert text.returncode == 0, text.output
    assert f"`sudo ip route add {cidr} via <{libvirt_ssh.address} address>`" in text.output

    gone = inv_here("--echo", "infra.destroy", "--yes", env=env)
    assert gone.returncode == 0, gone.output
    assert not set(cl.nodes) & lv.names("list", "--all", "--name")
    assert cl.network not in lv.names("net-list", "--all", "--name")
    assert cl.pool not in lv.names("pool-list", "--all", "--name")
    assert not lv.exists_on_hypervisor(pool_dir)
    assert not pool_dir.exists()
    assert cl.iso.is_file()


def test_old_image_dir_is_adopted_and_destroy_keeps_disks_the_toolkit_did_not_create(
    libvirt: Any, tiny_cluster: Any, inv_here: InvHere, tmp_path: Path
) -> None:
    cl = tiny_cluster
    cp, w1 = list(cl.nodes)
    # The layout of earlier versions: disk files made with qemu-img in a plain directory.
    cl.image_dir.mkdir()
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(cl.image_dir / f"{cp}.qcow2"), "1G"],
        check=True,
    )
    up = inv_here("--echo", "infra.up", "--offline", "--iso", str(cl.iso), env=cl.env)
    assert up.returncode == 0, up.output
    created = [a[5] for a in commands(up.stdout, "virsh") if a[3] == "vol-create-as"]
    assert created == [cl.iso_volume, f"{w1}.qcow2"], "the existing disk is adopted as a volume"
    assert str(cl.image_dir / f"{cp}.qcow2") in libvirt.virsh("domblklist", cp)

    # Disks someone added by hand: a volume of the same pool and a file elsewhere.
    libvirt.virsh("vol-create-as", cl.pool, "data.qcow2", "1M", "--format", "qcow2")
    elsewhere = tmp_path / "elsewhere.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(elsewhere), "1M"], check=True)
    for target, path in (("vdb", cl.image_dir / "data.qcow2"), ("vdc", elsewhere)):
        libvirt.virsh(
            "attach-disk", cp, str(path), target, "--subdriver", "qcow2", "--config", "--live"
        )

    refused = inv_here("infra.destroy", env=cl.env)
    assert refused.returncode != 0
    assert f"the disk volumes {cl.image_dir / f'{cp}.qcow2'}, {cl.image_dir / f'{w1}.qcow2'}," in (
        refused.output
    )
    assert f"kept (not created by the toolkit, detached only): {cp} vdb" in refused.output
    assert f"{cp} vdc {elsewhere}" in refused.output

    gone = inv_here("--echo", "infra.destroy", "--yes", env=cl.env)
    assert gone.returncode == 0, gone.output
    assert ["undefine", cp, "--storage", "vda"] in [a[3:] for a in commands(gone.stdout, "virsh")]
    assert not set(cl.nodes) & libvirt.names("list", "--all", "--name")
    assert elsewhere.is_file()
    assert sorted(p.name for p in cl.image_dir.iterdir()) == sorted(["data.qcow2", cl.iso_volume])
    assert cl.pool in libvirt.names("pool-list", "--all", "--name"), "a pool in use stays"
