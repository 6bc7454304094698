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
    from tasks.infra.facts import Disk, Domain, LibvirtFacts
    from tasks.infra.settings import InfraSettings

#: osinfo-db ID for a recent generic Linux; older osinfo-db lacks it (then virt-install detects).
OS_VARIANT = "linux2022"
OS_VARIANT_FALLBACK = "detect=on,require=off"
CHANGE_TIMEOUT = 120.0
#: A Talos ISO is ~100 MiB; over ssh to a slow link that takes a while.
UPLOAD_TIMEOUT = 1800.0


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


def plan_pool(settings: InfraSettings, facts: LibvirtFacts) -> list[Step]:
    """Define (directory pool), build, start and autostart the pool, like the network.

    ``pool-build`` makes the directory on the hypervisor; an existing directory (the image dir of
    earlier versions) is adopted as it is, its disk files becoming the pool's volumes.
    """
    uri, name = settings.uri, settings.pool
    start = virsh(uri, "pool-start", name, step=f"start pool {name}")
    autostart = virsh(uri, "pool-autostart", name, step=f"autostart pool {name}")
    pool = facts.pool
    if pool is None:
        return [
            virsh(
                uri,
                "pool-define-as",
                name,
                "dir",
                "--target",
                str(settings.image_dir),
                step=f"define pool {name} ({settings.image_dir})",
            ),
            virsh(uri, "pool-build", name, step=f"create the directory of pool {name}"),
            start,
            autostart,
        ]
    steps: list[Step] = []
    if not pool.state.active:
        steps.append(start)
    if not pool.state.autostart:
        steps.append(autostart)
    return steps


def plan_iso_volume(
    settings: InfraSettings, facts: LibvirtFacts, *, volume: str, local: Path, size: int, same: bool
) -> list[Step]:
    """Upload the ISO into the pool unless a volume of the same size and checksum is there.

    ``same``: the existing volume's SHA-256 equals the local file's (the caller compared them).
    """
    uri, pool = settings.uri, settings.pool
    upload: list[Step] = [
        virsh(
            uri,
            "vol-create-as",
            pool,
            volume,
            str(size),
            "--format",
            "raw",
            step=f"create volume {pool}/{volume}",
        ),
        virsh(
            uri,
            "vol-upload",
            volume,
            str(local),
            "--pool",
            pool,
            step=f"upload the ISO to {pool}/{volume}",
            timeout=UPLOAD_TIMEOUT,
        ),
    ]
    if facts.volume(volume) is None:
        return upload
    if same and facts.pool is not None and facts.pool.capacities.get(volume) == size:
        return []
    return [
        virsh(uri, "vol-delete", volume, "--pool", pool, step=f"remove the outdated {volume}"),
        *upload,
    ]


def _suboption(value: str | Path) -> str:
    """virt-install splits sub-options on commas; a literal comma is written twice."""
    return str(value).replace(",", ",,")


def virt_install(
    node: Node,
    spec: ClusterSpec,
    settings: InfraSettings,
    *,
    iso: str,
    os_variant: str,
) -> Command:
    """The domain of one node.

    ``--import`` with the ISO as a permanent cdrom rather than ``--cdrom``: an install-mode domain
    boots the cdrom first, powers off on its first reboot (Talos reboots after installing) and loses
    the ISO from its definition, so a fresh node could not boot again. Both disks are volumes of
    the pool (``vol=POOL/NAME``): libvirt resolves them on the hypervisor, wherever that runs.
    """
    pool = settings.pool
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
        f"vol={_suboption(pool)}/{_suboption(settings.disk_volume(node.name))},bus=virtio",
        "--disk",
        f"vol={_suboption(pool)}/{_suboption(iso)},device=cdrom,bus=sata,readonly=on",
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


def own_disks(
    node: Node, settings: InfraSettings, facts: LibvirtFacts, domain: Domain
) -> list[Disk]:
    """The domain's writable disks the toolkit created: its volume of the pool, by path."""
    paths = {str(settings.disk_path(node.name))}
    if (found := facts.volume(settings.disk_volume(node.name))) is not None:
        paths.add(found)
    return [d for d in domain.disks if d.device == "disk" and d.source in paths]


def drift(
    node: Node,
    spec: ClusterSpec,
    domain: Domain,
    settings: InfraSettings | None = None,
    facts: LibvirtFacts | None = None,
) -> list[str]:
    """How an existing domain differs from the spec (reported, never changed)."""
    found: list[str] = []
    if settings is not None and facts is not None:
        volume = f"{settings.pool}/{settings.disk_volume(node.name)}"
        if not own_disks(node, settings, facts, domain):
            have = ", ".join(d.source for d in domain.disks if d.device == "disk") or "none"
            found.append(f"{node.name}: disk {have}, spec volume {volume}")
        capacity = (
            facts.pool.capacities.get(settings.disk_volume(node.name)) if facts.pool else None
        )
        if capacity is not None and capacity != node.disk_gib * 2**30:
            found.append(
                f"{node.name}: volume {volume} {capacity / 2**30:g} GiB, spec {node.disk_gib} GiB"
            )
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
    iso: str,
    os_variant: str = OS_VARIANT,
) -> VmsPlan:
    """Disk volumes and domains for the nodes that have none; drift of those that exist.

    ``iso``: the name of the ISO volume in the pool.
    """
    steps: list[Step] = []
    created: list[str] = []
    drifted: list[str] = []
    for node in spec.nodes:
        domain = facts.domains.get(node.name)
        if domain is not None:
            drifted += drift(node, spec, domain, settings, facts)
            continue
        volume = settings.disk_volume(node.name)
        if facts.volume(volume) is None:
            steps.append(
                virsh(
                    settings.uri,
                    "vol-create-as",
                    settings.pool,
                    volume,
                    f"{node.disk_gib}G",
                    "--format",
                    "qcow2",
                    step=f"create disk volume of {node.name}",
                )
            )
        steps.append(virt_install(node, spec, settings, iso=iso, os_variant=os_variant))
        created.append(node.name)
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


@dataclass(frozen=True)
class DestroyPlan:
    steps: list[Step]
    #: Volumes (``POOL/NAME`` or hypervisor paths) the plan deletes, for the confirmation prompt.
    volumes: list[str] = field(default_factory=list)
    #: Writable disks of the nodes the toolkit did not create: detached with the VM, never deleted.
    kept: list[str] = field(default_factory=list)


def plan_destroy(
    spec: ClusterSpec, settings: InfraSettings, facts: LibvirtFacts, *, iso: str = ""
) -> DestroyPlan:
    """Domains, the disk volumes the toolkit created, the network; the pool when left empty.

    A disk is the toolkit's when it is the node's volume of the pool (``POOL/<node>.qcow2``, by
    name or by its path): ``virsh undefine --storage`` gets only those targets, so a disk someone
    attached by hand survives. ``iso``: the ISO volume, removed with the pool when nothing else
    is left in it (the local ISO cache stays).
    """
    uri, pool_name = settings.uri, settings.pool
    steps: list[Step] = []
    deleted: list[str] = []
    kept: list[str] = []
    for node in spec.nodes:
        volume = settings.disk_volume(node.name)
        vol_path = facts.volume(volume)
        domain = facts.domains.get(node.name)
        if domain is None:
            if vol_path is not None:
                steps.append(_vol_delete(settings, volume, node.name))
                deleted.append(f"{pool_name}/{volume}")
            continue
        if domain.info.state not in {"shut off", "crashed"}:
            steps += plan_power_off(settings, [node.name])
        ours = own_disks(node, settings, facts, domain)
        kept += [
            f"{node.name} {d.target} {d.source}"
            for d in domain.disks
            if d.device == "disk" and d not in ours
        ]
        undefine = ["undefine", node.name]
        if ours:
            undefine += ["--storage", ",".join(d.target for d in ours)]
            deleted += [d.source for d in ours]
        steps.append(virsh(uri, *undefine, step=f"remove VM {node.name}"))
        if vol_path is not None and vol_path not in {d.source for d in ours}:
            steps.append(_vol_delete(settings, volume, node.name))
            deleted.append(f"{pool_name}/{volume}")
    network = facts.network
    if network is not None:
        name = network.name
        if network.state.active:
            steps.append(virsh(uri, "net-destroy", name, step=f"stop network {name}"))
        if network.state.persistent:
            steps.append(virsh(uri, "net-undefine", name, step=f"undefine network {name}"))
    steps += _plan_pool_removal(settings, facts, spec, iso)
    return DestroyPlan(steps, deleted, kept)


def _vol_delete(settings: InfraSettings, volume: str, node: str) -> Command:
    return virsh(
        settings.uri,
        "vol-delete",
        volume,
        "--pool",
        settings.pool,
        step=f"remove the disk volume of {node}",
    )


def _plan_pool_removal(
    settings: InfraSettings, facts: LibvirtFacts, spec: ClusterSpec, iso: str
) -> list[Step]:
    """The ISO volume and the pool, only when the pool holds nothing but the toolkit's volumes."""
    pool = facts.pool
    if pool is None or not pool.state.active:
        return []
    ours = {settings.disk_volume(n.name) for n in spec.nodes} | ({iso} if iso else set())
    if set(pool.volumes) - ours:
        return []
    uri, name = settings.uri, pool.name
    steps: list[Step] = []
    if iso in pool.volumes:
        steps.append(
            virsh(uri, "vol-delete", iso, "--pool", name, step=f"remove the ISO volume {iso}")
        )
    steps += [
        virsh(uri, "pool-destroy", name, step=f"stop pool {name}"),
        virsh(uri, "pool-delete", name, step=f"remove the directory of pool {name}"),
    ]
    if pool.state.persistent:
        steps.append(virsh(uri, "pool-undefine", name, step=f"undefine pool {name}"))
    return steps


def console_command(settings: InfraSettings, node: str) -> Command:
    return virsh(settings.uri, "console", node, step=f"console of {node}")
