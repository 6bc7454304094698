"""Parsers of virsh output (samples captured from libvirt 9.0)."""

from __future__ import annotations

from tasks.core.runner import Command, Result, Runner
from tasks.infra.facts import (
    Disk,
    DomainInfo,
    Interface,
    NetworkState,
    known_os_variants,
    parse_dhcp_leases,
    parse_domblklist,
    parse_domiflist,
    parse_dominfo,
    parse_names,
    parse_net_info,
)

DOMINFO = """Id:             1
Name:           talos-cp-01
UUID:           d75f79cf-9eb2-405e-9970-4b7cb3535313
OS Type:        hvm
State:          running
CPU(s):         2
CPU time:       0.5s
Max memory:     4194304 KiB
Used memory:    4194304 KiB
Persistent:     yes
Autostart:      enable
Managed save:   no
Security model: none
Security DOI:   0
"""

DOMIFLIST = """ Interface   Type      Source   Model    MAC
------------------------------------------------------------
 vnet0       network   talos    virtio   52:54:00:50:00:10

"""

DOMBLKLIST = """ Type   Device   Target   Source
------------------------------------------------------
 file   disk     vda      /var/lib/libvirt/images/talos-cp-01.qcow2
 file   cdrom    sda      /var/lib/libvirt/images/talos.iso

"""

NET_INFO = """Name:           talos
UUID:           ebffd6d0-2343-4e50-8544-7e1866cb5dc0
Active:         yes
Persistent:     yes
Autostart:      no
Bridge:         virbr-talos
"""

LEASES = """ Expiry Time   MAC address   Protocol   IP address   Hostname   Client ID or DUID
-------------------------------------------------------------------------------------------
 2026-11-26 08:00:31   52:54:00:50:00:10   ipv4   192.168.50.10/24   talos-cp-01   ff:00:50:00:10
 2026-11-26 08:00:35   52:54:00:50:00:11   ipv4   192.168.50.11/24   -   -

"""


def test_dominfo() -> None:
    assert parse_dominfo(DOMINFO) == DomainInfo("running", 2, 4096, True)
    off = DOMINFO.replace("running", "shut off").replace("enable", "disable")
    assert parse_dominfo(off) == DomainInfo("shut off", 2, 4096, False)


def test_domiflist_and_domblklist() -> None:
    assert parse_domiflist(DOMIFLIST) == (
        Interface("network", "talos", "virtio", "52:54:00:50:00:10"),
    )
    disks = parse_domblklist(DOMBLKLIST)
    assert disks == (
        Disk("file", "disk", "vda", "/var/lib/libvirt/images/talos-cp-01.qcow2"),
        Disk("file", "cdrom", "sda", "/var/lib/libvirt/images/talos.iso"),
    )
    assert parse_domiflist("") == ()


def test_net_info_and_names() -> None:
    assert parse_net_info(NET_INFO) == NetworkState(True, True, False, "virbr-talos")
    assert parse_names("talos\n\ndefault\n") == ["talos", "default"]


def test_dhcp_leases_map_mac_to_ip() -> None:
    assert parse_dhcp_leases(LEASES) == {
        "52:54:00:50:00:10": "192.168.50.10",
        "52:54:00:50:00:11": "192.168.50.11",
    }
    assert parse_dhcp_leases(LEASES.split("\n 2026", maxsplit=1)[0] + "\n") == {}


class _OsinfoRunner(Runner):
    def __init__(self, result: Result) -> None:
        super().__init__()
        self.result = result
        self.asked: list[tuple[str, ...]] = []

    def check(self, command: Command) -> Result:
        self.asked.append(command.argv)
        return self.result


def test_known_os_variants_reads_virt_install_osinfo_list() -> None:
    runner = _OsinfoRunner(Result(0, "almalinux9\nlinux2022\nwin10, win10-x64\n", ""))
    assert known_os_variants(runner) == {"almalinux9", "linux2022", "win10", "win10-x64"}
    assert runner.asked == [("virt-install", "--osinfo", "list")]
    assert known_os_variants(_OsinfoRunner(Result(1, "", "unknown option"))) == set()
