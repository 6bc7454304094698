"""``inv doctor``: which tools and host capabilities this machine has for a purpose.

Facts (version probes, /dev/kvm, memory, disk) are gathered first; the verdict is a pure function of
them and the pinned versions in the cluster spec.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from invoke.tasks import task

from tasks.core import console
from tasks.core.errors import UserError
from tasks.core.runner import Command, Runner
from tasks.core.tools import PURPOSES, TOOLS, Tool, tools_for, version_matches

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.config import ClusterSpec

OK, MISSING, MISMATCH, WARN = "OK", "MISSING", "MISMATCH", "WARN"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    found: str
    wanted: str
    hint: str
    required: bool = True


# -- facts -----------------------------------------------------------------------------------


def probe_version(runner: Runner, tool: Tool) -> str | None:
    """The installed version of ``tool``, '' when found but unreadable, None when missing."""
    if not runner.has(tool.version_argv[0]):
        return None
    result = runner.check(Command(tool.version_argv, timeout=20, read_only=True))
    output = result.stdout + "\n" + result.stderr
    found = tool.parse_version(output)
    if found is None:
        import re

        match = re.search(tool.version_pattern, output)
        found = next((g for g in (match.groups() if match else ()) if g), None)
    return found or ""


@dataclass(frozen=True)
class HostFacts:
    kvm: bool
    nested: bool | None
    libvirt_socket: bool
    mem_available_mib: int | None
    disk_free_gib: int | None


def read_host_facts(image_dir: Path) -> HostFacts:
    nested: bool | None = None
    for module in ("kvm_intel", "kvm_amd"):
        param = Path(f"/sys/module/{module}/parameters/nested")
        if param.exists():
            nested = param.read_text().strip() in {"Y", "1"}
    mem: int | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        mem = None
    probe = image_dir if image_dir.exists() else Path("/")
    try:
        stat = os.statvfs(probe)
        disk = stat.f_bavail * stat.f_frsize // 2**30
    except OSError:
        disk = None
    return HostFacts(
        kvm=Path("/dev/kvm").exists(),
        nested=nested,
        libvirt_socket=Path("/var/run/libvirt/libvirt-sock").exists()
        or Path("/run/libvirt/libvirt-sock").exists(),
        mem_available_mib=mem,
        disk_free_gib=disk,
    )


# -- verdict (pure) --------------------------------------------------------------------------


def tool_checks(purpose: str, found: dict[str, str | None], pins: dict[str, str]) -> list[Check]:
    checks: list[Check] = []
    groups_satisfied = {t.group for t in TOOLS if t.group and found.get(t.name) is not None}
    for tool in tools_for(purpose):
        version = found.get(tool.name)
        pinned = pins.get(tool.pin_key, "") if tool.pin_key else ""
        required = not (tool.group and tool.group in groups_satisfied)
        if version is None:
            status = MISSING if required else OK
            shown = "-" if required else f"(using another {tool.group})"
            checks.append(Check(tool.name, status, shown, pinned or "any", tool.install, required))
        elif pinned and version and not version_matches(version, pinned):
            checks.append(
                Check(tool.name, MISMATCH, version, pinned, f"install {pinned}: {tool.install}")
            )
        else:
            checks.append(Check(tool.name, OK, version or "(unknown)", pinned or "any", ""))
    return checks


def host_checks(facts: HostFacts, spec: ClusterSpec | None) -> list[Check]:
    checks = [
        Check(
            "/dev/kvm",
            OK if facts.kvm else MISSING,
            "present" if facts.kvm else "absent",
            "present",
            "enable nested virtualization for the infra VM "
            "(Hyper-V: Set-VMProcessor -ExposeVirtualizationExtensions $true)",
        ),
        Check(
            "nested virtualization",
            OK if facts.nested else (WARN if facts.nested is None else MISSING),
            {True: "on", False: "off", None: "unknown"}[facts.nested],
            "on",
            "load kvm_intel/kvm_amd with nested=1",
            required=facts.nested is False,
        ),
        Check(
            "libvirt socket",
            OK if facts.libvirt_socket else MISSING,
            "present" if facts.libvirt_socket else "absent",
            "present",
            "apt-get install libvirt-daemon-system && systemctl enable --now libvirtd",
        ),
    ]
    if spec is not None:
        need_mem = sum(n.memory_mib for n in spec.nodes)
        mem = facts.mem_available_mib
        checks.append(
            Check(
                "free RAM",
                OK if mem is not None and mem >= need_mem else MISSING,
                f"{mem} MiB" if mem is not None else "unknown",
                f">= {need_mem} MiB",
                "give the infra VM more memory or shrink nodes in the cluster spec",
            )
        )
        need_disk = sum(n.disk_gib for n in spec.nodes)
        disk = facts.disk_free_gib
        checks.append(
            Check(
                "free disk",
                # qcow2 disks are sparse: warn rather than fail when short.
                OK if disk is not None and disk >= need_disk else WARN,
                f"{disk} GiB" if disk is not None else "unknown",
                f">= {need_disk} GiB",
                "grow the infra VM's disk; node disks are sparse qcow2 files",
                required=False,
            )
        )
    return checks


def failing(checks: list[Check]) -> list[Check]:
    return [ch for ch in checks if ch.required and ch.status in {MISSING, MISMATCH}]


# -- task ------------------------------------------------------------------------------------


@task(
    name="doctor",
    help={
        "for_": f"purpose to check: {', '.join(PURPOSES)} (default: all)",
        "json": "print the checks as JSON instead of a table",
    },
)
def doctor(c: Context, for_: str | None = None, json: bool = False) -> None:
    """Check CLIs (found, version, pin) and host capabilities for a purpose."""
    from tasks.core import config

    purpose = for_ or "all"
    if purpose not in PURPOSES:
        raise UserError(f"--for {purpose!r}: choose one of {', '.join(PURPOSES)}.", code=2)
    spec = None
    pins: dict[str, str] = {}
    try:
        spec = config.load(c)
        pins = dict(spec.versions.tools)
    except UserError as exc:
        console.warn(f"{exc.text}\n(checking tools without pinned versions)")
    runner = Runner.from_context(c)
    found = {tool.name: probe_version(runner, tool) for tool in tools_for(purpose)}
    checks = tool_checks(purpose, found, pins)
    if purpose in {"infra", "all"}:
        from tasks.core.state import state_root

        image_dir = c.config.get("infra", {}).get("image_dir") or state_root(c)
        checks += host_checks(read_host_facts(Path(image_dir)), spec)
    bad = failing(checks)
    if json:
        console.print_json(
            {"purpose": purpose, "ok": not bad, "checks": [asdict(x) for x in checks]}
        )
    else:
        console.table(
            ["check", "status", "found", "wanted", "fix"],
            [
                (x.name, x.status, x.found, x.wanted, x.hint if x.status != OK else "")
                for x in checks
            ],
            title=f"doctor --for {purpose}",
        )
    if bad:
        names = ", ".join(x.name for x in bad)
        raise UserError(f"{len(bad)} check(s) failed for {purpose}: {names}")
