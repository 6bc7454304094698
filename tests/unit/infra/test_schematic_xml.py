"""Schematic IDs and the libvirt network XML (pure)."""

from __future__ import annotations

import pytest

from tasks.core.config import ClusterSpec
from tasks.core.errors import UserError
from tasks.infra.libvirt_xml import (
    DhcpHost,
    network_def,
    network_differences,
    network_xml,
    parse_network_xml,
)
from tasks.infra.schematic import installer_image, iso_url, schematic_id, schematic_yaml

TWO = ["siderolabs/iscsi-tools", "siderolabs/util-linux-tools"]


def test_schematic_ids_match_the_image_factory() -> None:
    assert schematic_id(TWO) == "613e1592b2da41ae5e265e8789429f22e121aab91cb4deb6bc3c0b6262961245"
    assert schematic_id([]) == "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
    assert schematic_yaml([]) == "customization: {}\n"


def test_iso_and_installer_follow_the_pinned_version(spec: ClusterSpec) -> None:
    sid = schematic_id(TWO)
    assert iso_url(spec) == f"https://factory.talos.dev/image/{sid}/v1.13.9/metal-amd64.iso"
    assert installer_image(spec) == f"factory.talos.dev/metal-installer/{sid}:v1.13.9"


def test_network_xml_is_generated_from_the_spec(spec: ClusterSpec) -> None:
    import xml.etree.ElementTree as ET

    xml = network_xml(spec)
    root = ET.fromstring(xml)
    assert root.findtext("name") == "talos"
    assert root.find("forward").attrib == {"mode": "nat"}  # type: ignore[union-attr]
    bridge = root.find("bridge")
    assert bridge is not None and bridge.attrib == {
        "name": "virbr-talos",
        "stp": "on",
        "delay": "0",
    }
    ip = root.find("ip")
    assert ip is not None and ip.attrib == {"address": "192.168.50.1", "netmask": "255.255.255.0"}
    dhcp = ip.find("dhcp")
    assert dhcp is not None
    assert dhcp.find("range").attrib == {  # type: ignore[union-attr]
        "start": "192.168.50.100",
        "end": "192.168.50.199",
    }
    assert [h.attrib for h in dhcp.findall("host")] == [
        {"mac": n.mac, "name": n.name, "ip": n.ip} for n in spec.nodes
    ]
    assert xml.startswith("<network>\n  <name>talos</name>\n"), "indented, one element a line"
    assert parse_network_xml(xml) == network_def(spec)


# What libvirt 9 returns for the generated XML: UUID, bridge MAC and NAT ports added.
DUMPED = """<network>
  <name>talos</name>
  <uuid>ebffd6d0-2343-4e50-8544-7e1866cb5dc0</uuid>
  <forward mode='nat'>
    <nat>
      <port start='1024' end='65535'/>
    </nat>
  </forward>
  <bridge name='virbr-talos' stp='on' delay='0'/>
  <mac address='52:54:00:1b:21:9c'/>
  <ip address='192.168.50.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.50.100' end='192.168.50.199'/>
      <host mac='52:54:00:50:00:12' name='talos-worker-02' ip='192.168.50.12'/>
      <host mac='52:54:00:50:00:10' name='talos-cp-01' ip='192.168.50.10'/>
      <host mac='52:54:00:50:00:11' name='talos-worker-01' ip='192.168.50.11'/>
    </dhcp>
  </ip>
</network>
"""


def test_what_libvirt_adds_and_host_order_are_no_difference(spec: ClusterSpec) -> None:
    assert network_differences(parse_network_xml(DUMPED), network_def(spec)) == []


def test_prefix_form_equals_netmask_form(spec: ClusterSpec) -> None:
    dumped = DUMPED.replace("netmask='255.255.255.0'", "prefix='24'")
    assert parse_network_xml(dumped) == network_def(spec)


def test_differences_name_each_field(spec: ClusterSpec) -> None:
    changed = (
        DUMPED.replace("virbr-talos", "virbr0")
        .replace("192.168.50.199", "192.168.50.150")
        .replace("<host mac='52:54:00:50:00:12' name='talos-worker-02' ip='192.168.50.12'/>", "")
        .replace("mode='nat'", "mode='route'")
    )
    diffs = network_differences(parse_network_xml(changed), network_def(spec))
    assert diffs == [
        "forward mode: existing 'route', spec 'nat'",
        "bridge: existing 'virbr0', spec 'virbr-talos'",
        "dhcp end: existing '192.168.50.150', spec '192.168.50.199'",
        "dhcp host missing: talos-worker-02 52:54:00:50:00:12 -> 192.168.50.12",
    ]
    extra = parse_network_xml(
        DUMPED.replace(
            "</dhcp>", "<host mac='52:54:00:aa:00:01' name='x' ip='192.168.50.20'/></dhcp>"
        )
    )
    assert network_differences(extra, network_def(spec)) == [
        "dhcp host not in the spec: x 52:54:00:aa:00:01 -> 192.168.50.20"
    ]
    assert DhcpHost("52:54:00:aa:00:01", "x", "192.168.50.20") in extra.hosts


def test_unparseable_xml_is_a_user_error() -> None:
    with pytest.raises(UserError, match="network XML that does not parse"):
        parse_network_xml("<network><name>x</name>")
