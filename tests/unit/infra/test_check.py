"""infra.check's parsers and verdict, the settings' pool defaults, and infra.tunnel."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tasks.core.config import ClusterSpec
from tasks.core.state import ClusterState
from tasks.infra.check import (
    HypervisorFacts,
    InfraFacts,
    parse_cpu_virt_flags,
    parse_nodememstats,
    port_open,
    route_fixes,
    ssh_target,
    verdict,
)
from tasks.infra.facts import parse_pool_info, parse_pool_target, parse_vol_capacity, parse_vol_list
from tasks.infra.settings import InfraSettings, is_local_uri
from tests.conftest import InvHere

SSH_URI = "qemu+ssh://ops@infra-vm/system?keyfile=/k"

NODEMEMSTATS = """total  :              8167340 KiB
free   :              5363676 KiB
buffers:               165316 KiB
cached :              1697212 KiB
"""
CAPABILITIES = """<capabilities><host><uuid>x</uuid><cpu><arch>x86_64</arch><model>Skylake</model>
<feature name='ss'/><feature name='vmx'/></cpu></host></capabilities>"""
POOL_INFO = """Name:           propertea-local
UUID:           0b1c
State:          running
Persistent:     yes
Autostart:      no
Capacity:       105089261568
Allocation:     5089261568
Available:      100000000000
"""
VOL_LIST = """ Name                Path
-----------------------------------------------------------
 talos-cp-01.qcow2   /var/lib/libvirt/images/p/talos-cp-01.qcow2
 talos.iso           /var/lib/libvirt/images/p/talos.iso
"""


def test_parsers_of_the_hypervisor_probes() -> None:
    assert parse_nodememstats(NODEMEMSTATS) == (5363676 + 165316 + 1697212) // 1024
    assert parse_nodememstats("") is None
    assert parse_cpu_virt_flags(CAPABILITIES)
    assert not parse_cpu_virt_flags(CAPABILITIES.replace("vmx", "pcid"))
    assert not parse_cpu_virt_flags("not xml")
    state = parse_pool_info(POOL_INFO)
    assert (state.active, state.persistent, state.autostart) == (True, True, False)
    assert state.available_bytes == 100000000000
    assert parse_vol_list(VOL_LIST) == {
        "talos-cp-01.qcow2": "/var/lib/libvirt/images/p/talos-cp-01.qcow2",
        "talos.iso": "/var/lib/libvirt/images/p/talos.iso",
    }
    assert parse_vol_capacity("Name: x\nCapacity:       1073741824 bytes\n") == 1073741824
    assert parse_pool_target("<pool type='dir'><target><path>/srv/p</path></target></pool>") == (
        "/srv/p"
    )


def settings_for(uri: str, tmp_path: Path) -> InfraSettings:
    return InfraSettings(
        uri, "kvm", "host-passthrough", Path("/srv/p"), ClusterState(tmp_path), "p"
    )


def test_verdict_names_the_hypervisor_and_labels_local_checks(
    spec: ClusterSpec, tmp_path: Path
) -> None:
    settings = settings_for(SSH_URI, tmp_path)
    facts = InfraFacts(
        tools={"virsh": True, "virt-install": False},
        libvirt_ok=True,
        libvirt_detail="",
        hypervisor=HypervisorFacts(
            kvm=True, cpu_virt_flags=False, mem_available_mib=30000, pool_available_bytes=None
        ),
        closed_dirs=(),
        reachable_nodes={"192.168.50.10": True, "192.168.50.11": False},
    )
    checks = {c.name: c for c in verdict(facts, spec, settings)}
    assert checks["virt-install"].status == "MISSING"
    assert checks["virt-install"].wanted == "on PATH (this machine)"
    assert checks["KVM (/dev/kvm usable)"].status == "OK"
    assert checks["nested virtualization (vmx/svm)"].status == "MISSING"
    assert checks["free RAM"].found == "30000 MiB"
    assert checks["free disk"].found == "unknown until pool p exists"
    assert "pool dir reachable by qemu (local connection)" not in checks
    talos = checks["Talos API :50000 reachable from this machine"]
    assert (talos.status, talos.found) == ("WARN", "no answer: 192.168.50.11")
    assert "sshuttle --daemon -r ops@infra-vm 192.168.50.0/24" in talos.hint
    local = verdict(facts, spec, settings_for("qemu:///system", tmp_path))
    assert "pool dir reachable by qemu (local connection)" in {c.name for c in local}


def test_route_fixes_and_ssh_target(spec: ClusterSpec, tmp_path: Path) -> None:
    assert ssh_target(SSH_URI) == "ops@infra-vm"
    assert ssh_target("qemu+ssh://infra-vm/system") == "infra-vm"
    assert ssh_target("qemu:///system") is None
    tunnel, route = route_fixes(spec, settings_for(SSH_URI, tmp_path))
    assert "`sshuttle --daemon -r ops@infra-vm 192.168.50.0/24`" in tunnel
    assert "`sudo ip route add 192.168.50.0/24 via <infra-vm address>`" in route
    assert "LIBVIRT_FWI" in route


def test_port_open_on_loopback() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port_open("127.0.0.1", port)
    assert not port_open("127.0.0.1", port, timeout=0.5)


def test_local_uris_and_the_pool_directory(
    inv_here: InvHere, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert is_local_uri("qemu:///system")
    assert is_local_uri("qemu+unix:///system?socket=/s")
    assert not is_local_uri("qemu+ssh://ops@infra-vm/system")
    assert not is_local_uri("qemu+tcp://infra-vm/system")

    from invoke.config import Config
    from invoke.context import Context

    from tasks import ns
    from tasks.core import config
    from tasks.infra.settings import load_settings

    def load(uri: str) -> InfraSettings:
        monkeypatch.setenv("INVOKE_STATE_DIR", str(tmp_path / "state"))
        monkeypatch.setenv("INVOKE_LIBVIRT_URI", uri)
        cfg = Config(defaults=ns.configuration(), lazy=False)
        cfg.set_runtime_path(None)
        cfg.load_shell_env()
        c = Context(cfg)
        return load_settings(c, config.load(c))

    fresh = load("qemu:///system")
    assert (fresh.pool, fresh.image_dir) == (
        "propertea-local",
        Path("/var/lib/libvirt/images/propertea-local"),
    )
    legacy = tmp_path / "state" / "propertea-local" / "images"
    legacy.mkdir(parents=True)
    assert load("qemu:///system").image_dir == legacy, "the old image dir is adopted"
    assert load(SSH_URI).image_dir == Path("/var/lib/libvirt/images/propertea-local")
