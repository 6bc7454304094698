"""Pure plans of the infra namespace: spec + settings + facts in, commands and file writes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tasks.core.errors import UserError
from tasks.core.runner import Command, Step, WriteFile, cmd
from tasks.infra.facts import virsh
from tasks.infra.libvirt_xml import network_def, network_differences, network_xml

if TYPE_CHECKING:
    from pathlib import Path

    from tasks.core.config import ClusterSpec, Node
    from tasks.infra.facts import Domain, LibvirtFacts
    from tasks.infra.settings import InfraSettings

#: osinfo-db ID for a recent generic Linux; older osinfo-db lacks it (then virt-install detects).
OS_VARIANT = "linux2022"
OS_VARIANT_FALLBACK = "detect=on,require=off"
CHANGE_TIMEOUT = 120.0


@dataclass(frozen=True)
class NetworkPlan:
    steps: list[Step]
    #: Non-empty when an existing network differs from the spec (replaced only when allowed).
    differences: list[str] = field(default_factory=list)


def plan_network(
    spec: ClusterSpec, settings: InfraSettings, facts: LibvirtFacts, *, replace: bool = False
) -> NetworkPlan:
    """Define, start and autostart the spec's network; replace a differing one when allowed."""
    uri, name = settings.uri, spec.network.name
    define: list[Step] = [
        WriteFile(settings.network_xml_path, network_xml(spec), step="network XML"),
        virsh(uri, "net-define", str(settings.network_xml_path), step=f"define network {name}"),
    ]
    start = virsh(uri, "net-start", name, step=f"start network {name}")
    autostart = virsh(uri, "net-autostart", name, step=f"autostart network {name}")
    existing = facts.network
    if existing is None:
        return NetworkPlan([*define, start, autostart])
    differences = network_differences(existing.definition, network_def(spec))
    if differences:
        if not replace:
            return NetworkPlan([], differences)
        steps: list[Step] = []
        if existing.state.active:
            steps.append(virsh(uri, "net-destroy", name, step=f"stop network {name}"))
        if existing.state.persistent:
            steps.append(virsh(uri, "net-undefine", name, step=f"undefine network {name}"))
        return NetworkPlan([*steps, *define, start, autostart], differences)
    steps = []
    if not existing.state.persistent:
        steps += define
    if not existing.state.active:
        steps.append(start)
    if not existing.state.autostart:
        steps.append(autostart)
    return NetworkPlan(steps)


def _suboption(value: str | Path) -> str:
    """virt-install splits sub-options on commas; a literal comma is written twice."""
    return str(value).replace(",", ",,")


def virt_install(
    node: Node,
    spec: ClusterSpec,
    settings: InfraSettings,
    *,
    iso: Path,
    os_variant: str,
) -> Command:
    """The domain of one node.

    ``--import`` with the ISO as a permanent cdrom rather than ``--cdrom``: an install-mode domain
    boots the cdrom first, powers off on its first reboot (Talos reboots after installing) and loses
    the ISO from its definition, so a fresh node could not boot again.
    """
    disk = settings.disk_path(node.name)
    return cmd(
        "virt-install",
        "--connect",
        settings.uri,
        "--virt-type",
        settings.virt_type,
        "--name",
        node.name,
        "--memory",
        str(node.memory_mib),
        "--vcpus",
        str(node.cpus),
        "--cpu",
        settings.cpu_model,
        "--disk",
        f"path={_suboption(disk)},bus=virtio,format=qcow2",
        "--disk",
        f"path={_suboption(iso)},device=cdrom,bus=sata,readonly=on",
        "--import",
        "--os-variant",
        os_variant,
        "--network",
        f"network={spec.network.name},mac={node.mac},model=virtio",
        "--boot",
        "hd,cdrom",
        "--graphics",
        "none",
        "--serial",
        "pty",
        "--console",
        "pty,target_type=serial",
        "--noautoconsole",
        "--autostart",
        step=f"create VM {node.name}",
        timeout=CHANGE_TIMEOUT,
        hint="`inv infra.check` shows whether KVM works here; on a host without it set "
        "infra.virt_type: qemu and infra.cpu_model: qemu64",
    )


def drift(node: Node, spec: ClusterSpec, domain: Domain) -> list[str]:
    """How an existing domain differs from the spec (reported, never changed)."""
    found: list[str] = []
    if domain.info.vcpus != node.cpus:
        found.append(f"{node.name}: vCPUs {domain.info.vcpus}, spec {node.cpus}")
    if domain.info.memory_mib != node.memory_mib:
        found.append(
            f"{node.name}: memory {domain.info.memory_mib} MiB, spec {node.memory_mib} MiB"
        )
    if node.mac not in domain.macs:
        have = ", ".join(domain.macs) or "none"
        found.append(f"{node.name}: MAC {have}, spec {node.mac}")
    networks = {i.source for i in domain.interfaces}
    if spec.network.name not in networks:
        have = ", ".join(sorted(networks)) or "none"
        found.append(f"{node.name}: network {have}, spec {spec.network.name}")
    return found


@dataclass(frozen=True)
class VmsPlan:
    steps: list[Step]
    created: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)


def plan_vms(
    spec: ClusterSpec,
    settings: InfraSettings,
    facts: LibvirtFacts,
    *,
    iso: Path,
    os_variant: str = OS_VARIANT,
) -> VmsPlan:
    """Disks and domains for the nodes that have none; drift of those that exist."""
    steps: list[Step] = []
    created: list[str] = []
    drifted: list[str] = []
    for node in spec.nodes:
        domain = facts.domains.get(node.name)
        if domain is not None:
            drifted += drift(node, spec, domain)
            continue
        disk = settings.disk_path(node.name)
        if disk not in facts.disks_present:
            steps.append(
                cmd(
                    "qemu-img",
                    "create",
                    "-f",
                    "qcow2",
                    str(disk),
                    f"{node.disk_gib}G",
                    step=f"create disk of {node.name}",
                )
            )
        steps.append(virt_install(node, spec, settings, iso=iso, os_variant=os_variant))
        created.append(node.name)
    if created and not facts.image_dir_exists:
        steps.insert(0, cmd("mkdir", "-p", str(settings.image_dir), step="create the image dir"))
    return VmsPlan(steps, created, drifted)


def _require_domains(spec: ClusterSpec, settings: InfraSettings, facts: LibvirtFacts) -> None:
    missing = [n.name for n in spec.nodes if n.name not in facts.domains]
    if missing and facts.reachable:
        raise UserError(
            f"No VM named {', '.join(missing)} at {settings.uri}: run `inv infra.up` first."
        )


def plan_start(spec: ClusterSpec, settings: InfraSettings, facts: LibvirtFacts) -> list[Step]:
    _require_domains(spec, settings, facts)
    return [
        virsh(settings.uri, "start", n.name, step=f"start {n.name}")
        for n in spec.nodes
        if n.name not in facts.domains or not facts.domains[n.name].running
    ]


def running_nodes(spec: ClusterSpec, facts: LibvirtFacts) -> list[str]:
    return [n.name for n in spec.nodes if n.name in facts.domains and facts.domains[n.name].running]


def plan_shutdown(settings: InfraSettings, names: list[str]) -> list[Step]:
    """Ask each guest to power off (ACPI); the task waits and may force afterwards."""
    return [virsh(settings.uri, "shutdown", n, step=f"shut down {n}") for n in names]


def plan_power_off(settings: InfraSettings, names: list[str]) -> list[Step]:
    """Pull the plug (``virsh destroy`` stops a domain; its definition and disks stay)."""
    return [
        virsh(settings.uri, "destroy", n, step=f"power off {n}", ok_if=("domain is not running",))
        for n in names
    ]


def plan_destroy(spec: ClusterSpec, settings: InfraSettings, facts: LibvirtFacts) -> list[Step]:
    """Domains with their disks, leftover disk files, then the network. The ISO stays cached."""
    uri = settings.uri
    steps: list[Step] = []
    for node in spec.nodes:
        domain = facts.domains.get(node.name)
        disk = settings.disk_path(node.name)
        if domain is None:
            if disk in facts.disks_present:
                steps.append(cmd("rm", "-f", str(disk), step=f"remove the disk of {node.name}"))
            continue
        if domain.info.state not in {"shut off", "crashed"}:
            steps += plan_power_off(settings, [node.name])
        undefine = ["undefine", node.name]
        if domain.disk_targets:
            undefine += ["--storage", ",".join(domain.disk_targets)]
        steps.append(virsh(uri, *undefine, step=f"remove VM {node.name}"))
        used = {d.source for d in domain.disks}
        if disk in facts.disks_present and str(disk) not in used:
            steps.append(cmd("rm", "-f", str(disk), step=f"remove the disk of {node.name}"))
    network = facts.network
    if network is not None:
        name = network.name
        if network.state.active:
            steps.append(virsh(uri, "net-destroy", name, step=f"stop network {name}"))
        if network.state.persistent:
            steps.append(virsh(uri, "net-undefine", name, step=f"undefine network {name}"))
    return steps


def console_command(settings: InfraSettings, node: str) -> Command:
    return virsh(settings.uri, "console", node, step=f"console of {node}")
