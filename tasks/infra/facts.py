"""Read-only probes of libvirt (through virsh) and the pure parsers of their output."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tasks.core.errors import UserError
from tasks.core.runner import Command, cmd, tail
from tasks.infra.libvirt_xml import NetworkDef, parse_network_xml

if TYPE_CHECKING:
    from tasks.core.config import ClusterSpec
    from tasks.core.runner import Runner
    from tasks.infra.settings import InfraSettings

PROBE_TIMEOUT = 30.0


def virsh(uri: str, *args: str, **kwargs: Any) -> Command:
    """``virsh -c URI ARGS``: every libvirt call names its connection explicitly."""
    return cmd("virsh", "-c", uri, *args, **kwargs)


# -- parsed shapes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Interface:
    type: str
    source: str
    model: str
    mac: str


@dataclass(frozen=True)
class Disk:
    type: str
    device: str
    target: str
    source: str


@dataclass(frozen=True)
class DomainInfo:
    state: str
    vcpus: int
    memory_mib: int
    autostart: bool


@dataclass(frozen=True)
class Domain:
    name: str
    info: DomainInfo
    interfaces: tuple[Interface, ...] = ()
    disks: tuple[Disk, ...] = ()

    @property
    def running(self) -> bool:
        return self.info.state == "running"

    @property
    def macs(self) -> tuple[str, ...]:
        return tuple(i.mac for i in self.interfaces)

    @property
    def disk_targets(self) -> tuple[str, ...]:
        """Writable disks only: the shared ISO is a cdrom and must survive a destroy."""
        return tuple(d.target for d in self.disks if d.device == "disk")


@dataclass(frozen=True)
class NetworkState:
    active: bool
    persistent: bool
    autostart: bool
    bridge: str


@dataclass(frozen=True)
class Network:
    name: str
    state: NetworkState
    definition: NetworkDef


@dataclass(frozen=True)
class PoolState:
    active: bool
    persistent: bool
    autostart: bool
    available_bytes: int | None = None


@dataclass(frozen=True)
class Pool:
    """The storage pool of the node disks and the ISO; ``volumes`` maps name -> hypervisor path."""

    name: str
    state: PoolState
    target: str
    volumes: dict[str, str] = field(default_factory=dict)
    #: Capacity in bytes of the volumes the plans look at (node disks, the ISO).
    capacities: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LibvirtFacts:
    """What exists of the spec's network and nodes. ``reachable`` False means a fresh world."""

    reachable: bool
    network: Network | None = None
    domains: dict[str, Domain] = field(default_factory=dict)
    leases: dict[str, str] = field(default_factory=dict)
    pool: Pool | None = None

    def volume(self, name: str) -> str | None:
        """The hypervisor path of a volume of the pool, None when absent (or pool inactive)."""
        return self.pool.volumes.get(name) if self.pool else None


# -- parsers (pure) ---------------------------------------------------------------------------


def parse_names(output: str) -> list[str]:
    """``virsh list --all --name`` / ``net-list --all --name``: one name a line."""
    return [line.strip() for line in output.splitlines() if line.strip()]


def parse_key_values(output: str) -> dict[str, str]:
    """``Key:   value`` lines of ``dominfo`` and ``net-info``."""
    values: dict[str, str] = {}
    for line in output.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    return values


def _yes(value: str) -> bool:
    return value.strip().lower() in {"yes", "enable", "enabled"}


def parse_dominfo(output: str) -> DomainInfo:
    values = parse_key_values(output)
    memory = re.match(r"(\d+)\s*KiB", values.get("Max memory", ""))
    try:
        vcpus = int(values.get("CPU(s)", "0"))
    except ValueError:
        vcpus = 0
    return DomainInfo(
        state=values.get("State", "unknown"),
        vcpus=vcpus,
        memory_mib=int(memory.group(1)) // 1024 if memory else 0,
        autostart=_yes(values.get("Autostart", "")),
    )


def parse_net_info(output: str) -> NetworkState:
    values = parse_key_values(output)
    return NetworkState(
        active=_yes(values.get("Active", "")),
        persistent=_yes(values.get("Persistent", "")),
        autostart=_yes(values.get("Autostart", "")),
        bridge=values.get("Bridge", ""),
    )


def _table_rows(output: str) -> list[list[str]]:
    """Rows of a virsh table (header and dashed rule skipped)."""
    rows: list[list[str]] = []
    lines = [line for line in output.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if set(line.strip()) == {"-"}:
            rows = [ln.split() for ln in lines[i + 1 :]]
            break
    return rows


def parse_domiflist(output: str) -> tuple[Interface, ...]:
    """``virsh domiflist``: Interface Type Source Model MAC."""
    return tuple(
        Interface(type=r[1], source=r[2], model=r[3], mac=r[4].lower())
        for r in _table_rows(output)
        if len(r) >= 5
    )


def parse_domblklist(output: str) -> tuple[Disk, ...]:
    """``virsh domblklist --details``: Type Device Target Source (``-`` when empty)."""
    return tuple(
        Disk(type=r[0], device=r[1], target=r[2], source=" ".join(r[3:]))
        for r in _table_rows(output)
        if len(r) >= 4
    )


def parse_pool_info(output: str) -> PoolState:
    """``virsh pool-info --bytes``: State, Persistent, Autostart, Available."""
    values = parse_key_values(output)
    available = re.match(r"(\d+)", values.get("Available", ""))
    return PoolState(
        active=values.get("State", "").strip() == "running",
        persistent=_yes(values.get("Persistent", "")),
        autostart=_yes(values.get("Autostart", "")),
        available_bytes=int(available.group(1)) if available else None,
    )


def parse_pool_target(xml: str) -> str:
    """The directory of a ``dir`` pool (``pool-dumpxml``: /pool/target/path)."""
    # libvirt's own output, not untrusted input.
    found = ET.fromstring(xml).findtext("./target/path")  # noqa: S314
    return (found or "").strip()


def parse_vol_list(output: str) -> dict[str, str]:
    """``virsh vol-list POOL``: Name Path."""
    return {r[0]: " ".join(r[1:]) for r in _table_rows(output) if len(r) >= 2}


def parse_vol_capacity(output: str) -> int | None:
    """``virsh vol-info --bytes``: ``Capacity: 42949672960 bytes``."""
    found = re.match(r"(\d+)", parse_key_values(output).get("Capacity", ""))
    return int(found.group(1)) if found else None


def parse_dhcp_leases(output: str) -> dict[str, str]:
    """``virsh net-dhcp-leases``: MAC -> IPv4 address (prefix length dropped)."""
    leases: dict[str, str] = {}
    for row in _table_rows(output):
        macs = [v for v in row if re.fullmatch(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}", v)]
        ips = [v for v in row if re.fullmatch(r"\d+\.\d+\.\d+\.\d+/\d+", v)]
        if macs and ips:
            leases[macs[0].lower()] = ips[0].split("/")[0]
    return leases


# -- probes -----------------------------------------------------------------------------------


def _probe(runner: Runner, uri: str, *args: str) -> str:
    return runner.capture(
        virsh(uri, *args, read_only=True, timeout=PROBE_TIMEOUT, step=f"virsh {args[0]}")
    )


def reachable(runner: Runner, uri: str) -> tuple[bool, str]:
    """Whether libvirtd answers at ``uri``; the error text when it does not."""
    result = runner.check(virsh(uri, "uri", read_only=True, timeout=PROBE_TIMEOUT))
    if not result.observed:
        return False, "virsh is not installed"
    return result.ok, tail(result.stderr or result.stdout, 4)


class Unreachable(UserError):
    """libvirtd does not answer at the configured URI."""


def unreachable_error(uri: str, detail: str) -> Unreachable:
    return Unreachable(
        f"libvirt at {uri} is not reachable:\n  {detail}\n"
        "Start libvirtd (`sudo systemctl enable --now libvirtd`), check libvirt.uri / "
        "INVOKE_LIBVIRT_URI and your membership of the libvirt group; `inv infra.check` "
        "lists every prerequisite."
    )


def gather(
    runner: Runner,
    spec: ClusterSpec,
    settings: InfraSettings,
    *,
    leases: bool = False,
) -> LibvirtFacts:
    """Probe the spec's network and nodes.

    Under ``inv --dry`` an unreachable libvirt means a fresh world; otherwise it is an error.
    """
    ok, detail = reachable(runner, settings.uri)
    if not ok:

        def fail() -> LibvirtFacts:
            raise unreachable_error(settings.uri, detail)

        fresh = runner.assume_when_planning(
            fail, fresh=LibvirtFacts(False), unobservable=Unreachable
        )
        # Only while planning: a real run raised above.
        runner.say(f"# libvirt at {settings.uri} not reachable; planning for a fresh host")
        return fresh
    uri = settings.uri
    network: Network | None = None
    name = spec.network.name
    if name in parse_names(_probe(runner, uri, "net-list", "--all", "--name")):
        network = Network(
            name=name,
            state=parse_net_info(_probe(runner, uri, "net-info", name)),
            definition=parse_network_xml(_probe(runner, uri, "net-dumpxml", "--inactive", name)),
        )
    existing = set(parse_names(_probe(runner, uri, "list", "--all", "--name")))
    domains: dict[str, Domain] = {}
    for node in spec.nodes:
        if node.name not in existing:
            continue
        domains[node.name] = Domain(
            name=node.name,
            info=parse_dominfo(_probe(runner, uri, "dominfo", node.name)),
            interfaces=parse_domiflist(_probe(runner, uri, "domiflist", node.name)),
            disks=parse_domblklist(_probe(runner, uri, "domblklist", "--details", node.name)),
        )
    found_leases: dict[str, str] = {}
    if leases and network is not None and network.state.active:
        found_leases = parse_dhcp_leases(_probe(runner, uri, "net-dhcp-leases", name))
    return LibvirtFacts(
        reachable=True,
        network=network,
        domains=domains,
        leases=found_leases,
        pool=gather_pool(runner, settings, watched_volumes(spec, settings)),
    )


def watched_volumes(spec: ClusterSpec, settings: InfraSettings) -> list[str]:
    """The volumes whose capacity the plans compare: node disks and the ISO."""
    from tasks.infra.iso import iso_volume

    return [*(settings.disk_volume(n.name) for n in spec.nodes), iso_volume(spec)]


def gather_pool(runner: Runner, settings: InfraSettings, watched: list[str]) -> Pool | None:
    """The pool's state, directory and volumes (capacity of the ``watched`` ones)."""
    uri, name = settings.uri, settings.pool
    if name not in parse_names(_probe(runner, uri, "pool-list", "--all", "--name")):
        return None
    state = parse_pool_info(_probe(runner, uri, "pool-info", "--bytes", name))
    target = parse_pool_target(_probe(runner, uri, "pool-dumpxml", "--inactive", name))
    if not state.active:
        return Pool(name, state, target)
    volumes = parse_vol_list(_probe(runner, uri, "vol-list", name))
    capacities: dict[str, int] = {}
    for vol in watched:
        if vol in volumes:
            found = parse_vol_capacity(
                _probe(runner, uri, "vol-info", "--bytes", vol, "--pool", name)
            )
            if found is not None:
                capacities[vol] = found
    return Pool(name, state, target, volumes, capacities)


def domain_state(runner: Runner, uri: str, name: str) -> str:
    return _probe(runner, uri, "domstate", name).strip()


def known_os_variants(runner: Runner) -> set[str]:
    """The osinfo-db short IDs virt-install knows (``--osinfo list``), empty when unknown."""
    result = runner.check(
        Command(("virt-install", "--osinfo", "list"), read_only=True, timeout=PROBE_TIMEOUT)
    )
    if not result.ok or not result.observed:
        return set()
    names: set[str] = set()
    for line in result.stdout.splitlines():
        names.update(part.strip() for part in line.split(",") if part.strip())
    return names
