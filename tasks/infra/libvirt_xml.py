"""The libvirt NAT network of the cluster: XML generated from the spec, and compared semantically.

libvirt adds a UUID, a bridge MAC and NAT port ranges to whatever it is given, so an existing
network is compared on the fields this toolkit sets, never as text.
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from tasks.core.config import ClusterSpec
from tasks.core.errors import UserError


@dataclass(frozen=True)
class DhcpHost:
    mac: str
    name: str
    ip: str


@dataclass(frozen=True)
class NetworkDef:
    """What the toolkit decides about a network; everything else libvirt may fill in."""

    name: str
    forward_mode: str
    bridge: str
    stp: bool
    delay: int
    address: str
    prefix: int
    dhcp_start: str
    dhcp_end: str
    hosts: frozenset[DhcpHost]


def network_def(spec: ClusterSpec) -> NetworkDef:
    net = spec.network
    return NetworkDef(
        name=net.name,
        forward_mode="nat",
        bridge=net.bridge,
        stp=True,
        delay=0,
        address=net.gateway,
        prefix=net.prefix_length,
        dhcp_start=net.dhcp.start,
        dhcp_end=net.dhcp.end,
        hosts=frozenset(DhcpHost(n.mac, n.name, n.ip) for n in spec.nodes),
    )


def network_xml(spec: ClusterSpec) -> str:
    """The network definition for ``virsh net-define``: one static DHCP host per node."""
    wanted = network_def(spec)
    netmask = str(ipaddress.IPv4Network(f"0.0.0.0/{wanted.prefix}").netmask)
    network = ET.Element("network")
    ET.SubElement(network, "name").text = wanted.name
    ET.SubElement(network, "forward", mode=wanted.forward_mode)
    ET.SubElement(
        network,
        "bridge",
        name=wanted.bridge,
        stp="on" if wanted.stp else "off",
        delay=str(wanted.delay),
    )
    ip = ET.SubElement(network, "ip", address=wanted.address, netmask=netmask)
    dhcp = ET.SubElement(ip, "dhcp")
    ET.SubElement(dhcp, "range", start=wanted.dhcp_start, end=wanted.dhcp_end)
    for node in spec.nodes:  # spec order, so the XML is stable
        ET.SubElement(dhcp, "host", mac=node.mac, name=node.name, ip=node.ip)
    # Escaping and quoting are ElementTree's: a name can never break the document.
    ET.indent(network, space="  ")
    return ET.tostring(network, encoding="unicode") + "\n"


def parse_network_xml(text: str) -> NetworkDef:
    """Read the fields of :class:`NetworkDef` from ``virsh net-dumpxml`` output."""
    try:
        # The XML comes from the local libvirtd, not from an untrusted party.
        root = ET.fromstring(text)  # noqa: S314
    except ET.ParseError as exc:
        raise UserError(f"libvirt returned network XML that does not parse: {exc}") from None
    forward = root.find("forward")
    bridge = root.find("bridge")
    # The first IPv4 block is the one this toolkit manages.
    ip = next(
        (e for e in root.findall("ip") if e.get("family", "ipv4") == "ipv4"),
        None,
    )
    dhcp = ip.find("dhcp") if ip is not None else None
    dhcp_range = dhcp.find("range") if dhcp is not None else None
    prefix = 0
    if ip is not None:
        if ip.get("prefix"):
            prefix = int(ip.get("prefix", "0"))
        elif ip.get("netmask"):
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{ip.get('netmask')}").prefixlen
    hosts = frozenset(
        DhcpHost(h.get("mac", "").lower(), h.get("name", ""), h.get("ip", ""))
        for h in (dhcp.findall("host") if dhcp is not None else [])
    )
    return NetworkDef(
        name=root.findtext("name", ""),
        forward_mode=forward.get("mode", "nat") if forward is not None else "",
        bridge=bridge.get("name", "") if bridge is not None else "",
        stp=(bridge.get("stp", "on") == "on") if bridge is not None else False,
        delay=int(bridge.get("delay", "0")) if bridge is not None else 0,
        address=ip.get("address", "") if ip is not None else "",
        prefix=prefix,
        dhcp_start=dhcp_range.get("start", "") if dhcp_range is not None else "",
        dhcp_end=dhcp_range.get("end", "") if dhcp_range is not None else "",
        hosts=hosts,
    )


def network_differences(existing: NetworkDef, wanted: NetworkDef) -> list[str]:
    """Human-readable differences, empty when the existing network matches the spec."""
    diffs: list[str] = []
    for attr in (
        "forward_mode",
        "bridge",
        "stp",
        "delay",
        "address",
        "prefix",
        "dhcp_start",
        "dhcp_end",
    ):
        have, want = getattr(existing, attr), getattr(wanted, attr)
        if have != want:
            diffs.append(f"{attr.replace('_', ' ')}: existing {have!r}, spec {want!r}")
    for host in sorted(wanted.hosts - existing.hosts, key=lambda h: h.name):
        diffs.append(f"dhcp host missing: {host.name} {host.mac} -> {host.ip}")
    for host in sorted(existing.hosts - wanted.hosts, key=lambda h: h.name):
        diffs.append(f"dhcp host not in the spec: {host.name} {host.mac} -> {host.ip}")
    return diffs
