"""``infra.check``: can the hypervisor run the spec's VMs, and can this machine reach them?

Facts first, then a pure verdict with fixes. The host facts (KVM, nested virtualization, memory,
pool space) are read through libvirt, so over ``qemu+ssh://`` they describe the infra VM; the
checks that can only look at this machine (tools, node reachability) say so.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core.checks import MISSING, OK, WARN, Check

if TYPE_CHECKING:
    from tasks.core.config import ClusterSpec
    from tasks.core.runner import Result, Runner
    from tasks.infra.settings import InfraSettings

#: What runs on this machine (the dev VM); qemu and qemu-img run on the hypervisor.
TOOLS = {
    "virsh": "apt-get install libvirt-clients",
    "virt-install": "apt-get install virtinst",
}
#: The Talos API (apid): what talosctl reaches on every node.
TALOS_API_PORT = 50000
REACH_TIMEOUT = 1.5


@dataclass(frozen=True)
class HypervisorFacts:
    """The host libvirtd runs on, read through libvirt (so over qemu+ssh it is the infra VM)."""

    kvm: bool
    cpu_virt_flags: bool
    mem_available_mib: int | None
    #: Free bytes of the storage pool's file system; None while the pool does not exist.
    pool_available_bytes: int | None


@dataclass(frozen=True)
class InfraFacts:
    tools: dict[str, bool]
    libvirt_ok: bool
    libvirt_detail: str
    hypervisor: HypervisorFacts | None
    #: Local connection only: ancestors of the pool dir the qemu user cannot enter.
    closed_dirs: tuple[str, ...]
    #: Node address -> whether its Talos API port answers from this machine (empty: not probed).
    reachable_nodes: dict[str, bool]


def closed_ancestors(path: Path) -> tuple[str, ...]:
    """Existing directories on the way to ``path`` without the others-execute bit."""
    closed: list[str] = []
    for parent in [*reversed(path.parents), path]:
        try:
            mode = parent.stat().st_mode
        except OSError:
            break
        if not mode & 0o001:
            closed.append(str(parent))
    return tuple(closed)


def parse_nodememstats(output: str) -> int | None:
    """``virsh nodememstats``: free + buffers + cached (KiB) as MiB, like MemAvailable."""
    values: dict[str, int] = {}
    for line in output.splitlines():
        key, sep, value = line.partition(":")
        number = value.split()[0] if value.split() else ""
        if sep and number.isdigit():
            values[key.strip()] = int(number)
    if "free" not in values:
        return None
    return (values["free"] + values.get("buffers", 0) + values.get("cached", 0)) // 1024


def parse_cpu_virt_flags(capabilities_xml: str) -> bool:
    """``virsh capabilities``: the host CPU lists vmx (Intel) or svm (AMD)."""
    try:
        root = ET.fromstring(capabilities_xml)  # noqa: S314 - libvirt's own output
    except ET.ParseError:
        return False
    names = {f.get("name") for f in root.findall("./host/cpu/feature")}
    return bool(names & {"vmx", "svm"})


def gather_hypervisor(runner: Runner, settings: InfraSettings) -> HypervisorFacts:
    from tasks.infra.facts import PROBE_TIMEOUT, parse_pool_info, virsh

    def probe(*args: str) -> Result:
        return runner.check(virsh(settings.uri, *args, read_only=True, timeout=PROBE_TIMEOUT))

    kvm = probe("domcapabilities", "--virttype", "kvm")
    mem = probe("nodememstats")
    caps = probe("capabilities")
    pool = probe("pool-info", "--bytes", settings.pool)
    return HypervisorFacts(
        kvm=kvm.ok and "<domain>kvm</domain>" in kvm.stdout,
        cpu_virt_flags=caps.ok and parse_cpu_virt_flags(caps.stdout),
        mem_available_mib=parse_nodememstats(mem.stdout) if mem.ok else None,
        pool_available_bytes=parse_pool_info(pool.stdout).available_bytes if pool.ok else None,
    )


def port_open(host: str, port: int, timeout: float = REACH_TIMEOUT) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def reach_nodes(runner: Runner, settings: InfraSettings, spec: ClusterSpec) -> dict[str, bool]:
    """Whether the Talos API port of each running node answers from here (in parallel).

    Only nodes whose VM runs are probed: before ``infra.up`` there is nothing to reach.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tasks.infra.facts import PROBE_TIMEOUT, parse_names, virsh

    running = set(
        parse_names(
            runner.capture(
                virsh(settings.uri, "list", "--name", read_only=True, timeout=PROBE_TIMEOUT)
            )
        )
    )
    ips = [n.ip for n in spec.nodes if n.name in running]
    if not ips:
        return {}
    with ThreadPoolExecutor(max_workers=len(ips) or 1) as pool:
        return dict(zip(ips, pool.map(lambda ip: port_open(ip, TALOS_API_PORT), ips), strict=True))


def gather(runner: Runner, settings: InfraSettings, spec: ClusterSpec | None = None) -> InfraFacts:
    """Local tools, then libvirt and the hypervisor host through it; with ``spec``, whether the
    running nodes answer from here (doctor leaves it out)."""
    from tasks.infra.facts import reachable

    tools = {name: runner.has(name) for name in TOOLS}
    libvirt_ok, detail = reachable(runner, settings.uri) if tools["virsh"] else (False, "")
    return InfraFacts(
        tools=tools,
        libvirt_ok=libvirt_ok,
        libvirt_detail=detail or ("virsh is missing" if not tools["virsh"] else ""),
        hypervisor=gather_hypervisor(runner, settings) if libvirt_ok else None,
        closed_dirs=closed_ancestors(settings.image_dir) if settings.local else (),
        reachable_nodes=(
            reach_nodes(runner, settings, spec) if spec is not None and libvirt_ok else {}
        ),
    )


def route_fixes(spec: ClusterSpec, settings: InfraSettings) -> list[str]:
    """The guide's two ways to reach the node subnet from the dev VM, as commands."""
    target = ssh_target(settings.uri) or "user@infra-vm"
    host = target.rpartition("@")[2]
    cidr = spec.network.cidr
    return [
        f"SSH tunnel: `inv infra.tunnel` (runs `sshuttle --daemon -r {target} {cidr}`)",
        f"static route: `sudo ip route add {cidr} via <{host} address>` here, and on {host} "
        f"`sudo sysctl -w net.ipv4.ip_forward=1` and `sudo iptables -I LIBVIRT_FWI -d {cidr} "
        "-j ACCEPT`",
    ]


def ssh_target(uri: str) -> str | None:
    """``user@host`` of a ``qemu+ssh://user@host/system`` URI (None for other transports)."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    if not parts.scheme.endswith("+ssh") or not parts.hostname:
        return None
    return f"{parts.username}@{parts.hostname}" if parts.username else parts.hostname


def verdict(facts: InfraFacts, spec: ClusterSpec, settings: InfraSettings) -> list[Check]:
    checks = [
        Check(
            name,
            OK if facts.tools[name] else MISSING,
            "found" if facts.tools[name] else "-",
            "on PATH (this machine)",
            f"install: {hint}",
        )
        for name, hint in TOOLS.items()
    ]
    checks.append(
        Check(
            "libvirtd reachable",
            OK if facts.libvirt_ok else MISSING,
            settings.uri if facts.libvirt_ok else (facts.libvirt_detail or "no").splitlines()[-1],
            settings.uri,
            "apt-get install libvirt-daemon-system && sudo systemctl enable --now libvirtd; "
            "sudo usermod -aG libvirt $USER; or set libvirt.uri / INVOKE_LIBVIRT_URI "
            "(qemu+ssh://user@infra-vm/system from the dev VM)",
        )
    )
    host = facts.hypervisor
    unknown = "unknown (libvirt not reachable)"
    kvm_needed = settings.virt_type == "kvm"
    tcg = "or set infra.virt_type: qemu and infra.cpu_model: qemu64 (slow TCG emulation)"

    def needed(ok: bool) -> str:
        return OK if ok else MISSING if kvm_needed else WARN

    checks.append(
        Check(
            "KVM (/dev/kvm usable)",
            needed(bool(host and host.kvm)),
            unknown if host is None else "yes" if host.kvm else "no",
            "yes, on the hypervisor" if kvm_needed else "optional (virt_type qemu)",
            "on the hypervisor: apt-get install qemu-system-x86, load kvm_intel/kvm_amd; " + tcg,
            required=kvm_needed,
        )
    )
    checks.append(
        Check(
            "nested virtualization (vmx/svm)",
            needed(bool(host and host.cpu_virt_flags)),
            unknown if host is None else "yes" if host.cpu_virt_flags else "no",
            "yes, on the hypervisor" if kvm_needed else "optional (virt_type qemu)",
            "expose virtualization to the infra VM (Hyper-V: "
            "Set-VMProcessor -VMName <vm> -ExposeVirtualizationExtensions $true); " + tcg,
            required=kvm_needed,
        )
    )
    need_mem = sum(n.memory_mib for n in spec.nodes)
    mem = host.mem_available_mib if host else None
    checks.append(
        Check(
            "free RAM",
            OK if mem is not None and mem >= need_mem else MISSING,
            f"{mem} MiB" if mem is not None else unknown if host is None else "unknown",
            f">= {need_mem} MiB on the hypervisor",
            "give the infra VM more memory, or shrink nodes[].memory_mib in the cluster spec",
        )
    )
    need_disk = sum(n.disk_gib for n in spec.nodes)
    free = host.pool_available_bytes if host else None
    disk = free // 2**30 if free is not None else None
    checks.append(
        Check(
            "free disk",
            # qcow2 disks are sparse: short on disk is a warning, not a failure.
            OK if disk is not None and disk >= need_disk else WARN,
            f"{disk} GiB" if disk is not None else f"unknown until pool {settings.pool} exists",
            f">= {need_disk} GiB in pool {settings.pool} ({settings.image_dir})",
            "grow the infra VM's disk or point infra.image_dir at a larger filesystem "
            "(`inv infra.up` creates the pool)",
            required=False,
        )
    )
    if settings.local:
        checks.append(
            Check(
                "pool dir reachable by qemu (local connection)",
                WARN if facts.closed_dirs else OK,
                "closed: " + ", ".join(facts.closed_dirs) if facts.closed_dirs else "yes",
                f"{settings.image_dir} traversable",
                "qemu runs as its own user under qemu:///system: set infra.image_dir under "
                "/var/lib/libvirt/images, or chmod o+x the directories listed",
                required=False,
            )
        )
    if facts.reachable_nodes:
        closed = [ip for ip, ok in facts.reachable_nodes.items() if not ok]
        checks.append(
            Check(
                f"Talos API :{TALOS_API_PORT} reachable from this machine",
                WARN if closed else OK,
                f"no answer: {', '.join(closed)}" if closed else "all nodes",
                ", ".join(facts.reachable_nodes),
                "VMs not up yet (`inv infra.up`), or no route to "
                f"{spec.network.cidr}: " + "; or ".join(route_fixes(spec, settings)),
                required=False,
            )
        )
    return checks
