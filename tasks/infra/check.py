"""``infra.check``: can this host run the spec's VMs? Facts first, then a pure verdict + fixes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.doctor import MISSING, OK, WARN, Check

if TYPE_CHECKING:
    from tasks.core.config import ClusterSpec
    from tasks.core.runner import Runner
    from tasks.infra.settings import InfraSettings

TOOLS = {
    "virsh": "apt-get install libvirt-clients libvirt-daemon-system",
    "virt-install": "apt-get install virtinst",
    "qemu-img": "apt-get install qemu-utils",
    "qemu-system-x86_64": "apt-get install qemu-system-x86",
}


@dataclass(frozen=True)
class InfraFacts:
    tools: dict[str, bool]
    kvm: bool
    cpu_virt_flags: bool
    libvirt_ok: bool
    libvirt_detail: str
    mem_available_mib: int | None
    disk_free_gib: int | None
    #: Ancestors of the image dir that other users (the qemu user) cannot enter.
    closed_dirs: tuple[str, ...]


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


@dataclass(frozen=True)
class HostFacts:
    kvm: bool
    mem_available_mib: int | None
    disk_free_gib: int | None


def read_host_facts(image_dir: Path) -> HostFacts:
    """/dev/kvm, available memory and free disk where the node disks will live."""
    mem: int | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        mem = None
    probe = next((p for p in [image_dir, *image_dir.parents] if p.exists()), Path("/"))
    try:
        stat = os.statvfs(probe)
        disk: int | None = stat.f_bavail * stat.f_frsize // 2**30
    except OSError:
        disk = None
    return HostFacts(kvm=Path("/dev/kvm").exists(), mem_available_mib=mem, disk_free_gib=disk)


def _cpu_virt_flags() -> bool:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = {f for line in text.splitlines() if line.startswith("flags") for f in line.split()}
    return bool(flags & {"vmx", "svm"})


def gather(runner: Runner, settings: InfraSettings) -> InfraFacts:
    from tasks.infra.facts import reachable

    tools = {name: runner.has(name) for name in TOOLS}
    libvirt_ok, detail = reachable(runner, settings.uri) if tools["virsh"] else (False, "")
    host = read_host_facts(settings.image_dir)
    return InfraFacts(
        tools=tools,
        kvm=host.kvm and os.access("/dev/kvm", os.R_OK | os.W_OK),
        cpu_virt_flags=_cpu_virt_flags(),
        libvirt_ok=libvirt_ok,
        libvirt_detail=detail or ("virsh is missing" if not tools["virsh"] else ""),
        mem_available_mib=host.mem_available_mib,
        disk_free_gib=host.disk_free_gib,
        closed_dirs=closed_ancestors(settings.image_dir),
    )


def verdict(facts: InfraFacts, spec: ClusterSpec, settings: InfraSettings) -> list[Check]:
    checks = [
        Check(
            name,
            OK if facts.tools[name] else MISSING,
            "found" if facts.tools[name] else "-",
            "on PATH",
            f"install: {hint}",
        )
        for name, hint in TOOLS.items()
    ]
    kvm_needed = settings.virt_type == "kvm"
    tcg = "or set infra.virt_type: qemu and infra.cpu_model: qemu64 (slow TCG emulation)"
    checks.append(
        Check(
            "KVM (/dev/kvm usable)",
            OK if facts.kvm else MISSING if kvm_needed else WARN,
            "yes" if facts.kvm else "no",
            "yes" if kvm_needed else "optional (virt_type qemu)",
            "apt-get install qemu-system-x86, add yourself to the kvm group; " + tcg,
            required=kvm_needed,
        )
    )
    checks.append(
        Check(
            "nested virtualization (vmx/svm)",
            OK if facts.cpu_virt_flags else MISSING if kvm_needed else WARN,
            "yes" if facts.cpu_virt_flags else "no",
            "yes" if kvm_needed else "optional (virt_type qemu)",
            "expose virtualization to the infra VM (Hyper-V: "
            "Set-VMProcessor -VMName <vm> -ExposeVirtualizationExtensions $true); " + tcg,
            required=kvm_needed,
        )
    )
    checks.append(
        Check(
            "libvirtd reachable",
            OK if facts.libvirt_ok else MISSING,
            settings.uri if facts.libvirt_ok else (facts.libvirt_detail or "no").splitlines()[-1],
            settings.uri,
            "apt-get install libvirt-daemon-system && sudo systemctl enable --now libvirtd; "
            "sudo usermod -aG libvirt $USER; or set libvirt.uri / INVOKE_LIBVIRT_URI",
        )
    )
    need_mem = sum(n.memory_mib for n in spec.nodes)
    mem = facts.mem_available_mib
    checks.append(
        Check(
            "free RAM",
            OK if mem is not None and mem >= need_mem else MISSING,
            f"{mem} MiB" if mem is not None else "unknown",
            f">= {need_mem} MiB",
            "give the infra VM more memory, or shrink nodes[].memory_mib in the cluster spec",
        )
    )
    need_disk = sum(n.disk_gib for n in spec.nodes)
    disk = facts.disk_free_gib
    checks.append(
        Check(
            "free disk",
            # qcow2 disks are sparse: short on disk is a warning, not a failure.
            OK if disk is not None and disk >= need_disk else WARN,
            f"{disk} GiB" if disk is not None else "unknown",
            f">= {need_disk} GiB at {settings.image_dir}",
            "grow the infra VM's disk or point infra.image_dir at a larger filesystem",
            required=False,
        )
    )
    checks.append(
        Check(
            "image dir reachable by qemu",
            WARN if facts.closed_dirs else OK,
            "closed: " + ", ".join(facts.closed_dirs) if facts.closed_dirs else "yes",
            f"{settings.image_dir} traversable",
            "qemu runs as its own user under qemu:///system: set infra.image_dir to "
            "/var/lib/libvirt/images, or chmod o+x the directories listed",
            required=False,
        )
    )
    return checks
