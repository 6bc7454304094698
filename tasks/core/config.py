"""Load and validate the cluster spec (``deploy/local-cluster/cluster.yaml``).

Shape and types are pydantic models (unknown keys rejected); cross-field rules (subnet membership,
overlaps, budget) are checked after. Every problem is reported as ``file:line: field: message``
using the line numbers ruamel.yaml records, all problems at once.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from tasks.core.errors import ConfigError
from tasks.core.settings import load_section
from tasks.core.yamldata import plain

if TYPE_CHECKING:
    from invoke.context import Context

DEFAULT_CLUSTER_FILE = Path("deploy/local-cluster/cluster.yaml")
KVM_MAC_PREFIX = "52:54:00"
_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_VERSION_RE = re.compile(r"^v?\d+\.\d+(\.\d+)?(-[0-9A-Za-z.\-]+)?$")
_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _ip(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(str(value)))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address") from None


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.IPv4Network(str(value), strict=True))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IPv4 network in CIDR form ({exc})") from None


def _mac(value: str) -> str:
    mac = str(value).lower()
    if not _MAC_RE.match(mac):
        raise ValueError(f"{value!r} is not a MAC address (xx:xx:xx:xx:xx:xx)")
    if not mac.startswith(KVM_MAC_PREFIX):
        raise ValueError(f"{value!r} is not in the KVM/QEMU range {KVM_MAC_PREFIX}:xx:xx:xx")
    return mac


def _version(value: str) -> str:
    text = str(value)
    if not _VERSION_RE.match(text):
        raise ValueError(f"{value!r} is not a version (X.Y.Z)")
    return text.lstrip("v")


def _name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(f"{value!r} is not a DNS label (lower-case letters, digits, '-')")
    return value


IP = Annotated[str, AfterValidator(_ip)]
CIDR = Annotated[str, AfterValidator(_cidr)]
MAC = Annotated[str, AfterValidator(_mac)]
Version = Annotated[str, AfterValidator(_version)]
DNSName = Annotated[str, AfterValidator(_name)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ClusterSection(_Model):
    name: DNSName
    endpoint: str


class Range(_Model):
    start: IP
    end: IP

    def addresses(self) -> Iterator[ipaddress.IPv4Address]:
        lo, hi = ipaddress.IPv4Address(self.start), ipaddress.IPv4Address(self.end)
        for n in range(int(lo), int(hi) + 1):
            yield ipaddress.IPv4Address(n)

    def contains(self, ip: str) -> bool:
        return (
            ipaddress.IPv4Address(self.start)
            <= ipaddress.IPv4Address(ip)
            <= ipaddress.IPv4Address(self.end)
        )

    def overlaps(self, other: Range) -> bool:
        return self.contains(other.start) or self.contains(other.end) or other.contains(self.start)


class NetworkSection(_Model):
    name: DNSName
    bridge: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,15}$")
    cidr: CIDR
    gateway: IP
    dhcp: Range

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)

    @property
    def prefix_length(self) -> int:
        return self.network.prefixlen

    @property
    def netmask(self) -> str:
        return str(self.network.netmask)


class Node(_Model):
    name: DNSName
    role: Literal["controlplane", "worker"]
    cpus: int = Field(ge=1, le=64)
    memory_mib: int = Field(ge=256)
    disk_gib: int = Field(ge=1)
    mac: MAC
    ip: IP


class InfraVM(_Model):
    cpus: int = Field(ge=1)
    memory_mib: int = Field(ge=1024)
    disk_gib: int = Field(ge=10)
    host_overhead_mib: int = Field(ge=0)


class LoadBalancer(_Model):
    pool: Range
    gateway_ip: IP

    @property
    def cidrs(self) -> list[str]:
        """The pool as the smallest list of CIDR blocks (what CiliumLoadBalancerIPPool takes)."""
        first = ipaddress.IPv4Address(self.pool.start)
        last = ipaddress.IPv4Address(self.pool.end)
        return [str(n) for n in ipaddress.summarize_address_range(first, last)]


class ImageFactory(_Model):
    url: str = Field(pattern=r"^https?://")
    extensions: list[str] = Field(min_length=0)


class GitOps(_Model):
    repo_url: str = Field(pattern=r"^(https://|ssh://|git@)")
    branch: str = Field(min_length=1)
    path: str = Field(min_length=1)
    base_domain: str = Field(pattern=r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
    acme_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Versions(_Model):
    talos: Version
    kubernetes: Version
    cilium: Version
    gateway_api: Version
    argocd_chart: Version
    tools: dict[str, Version] = Field(default_factory=dict)


class ClusterSpec(_Model):
    cluster: ClusterSection
    network: NetworkSection
    nodes: list[Node]
    infra_vm: InfraVM
    load_balancer: LoadBalancer
    image_factory: ImageFactory
    gitops: GitOps
    versions: Versions

    @property
    def control_planes(self) -> list[Node]:
        return [n for n in self.nodes if n.role == "controlplane"]

    @property
    def workers(self) -> list[Node]:
        return [n for n in self.nodes if n.role == "worker"]

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes)
        raise ConfigError(f"No node named {name!r} in the cluster spec (known: {known}).")

    @property
    def endpoint_host(self) -> str:
        return urlparse(self.cluster.endpoint).hostname or ""


# -- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


@dataclass(frozen=True)
class LoadedSpec:
    """The validated spec plus where it came from (for messages that point at lines)."""

    spec: ClusterSpec
    path: Path
    raw: Any

    @cached_property
    def text(self) -> str:
        return self.path.read_text()

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        return _line_of(self.raw, loc)


def _line_of(raw: Any, loc: Sequence[str | int]) -> int | None:
    """1-based line of the node at ``loc`` in a ruamel round-trip tree (nearest known parent)."""
    node = raw
    line: int | None = None
    for key in loc:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(key, int) and isinstance(node, list):
                if lc is not None:
                    line = lc.item(key)[0] + 1
                node = node[key]
            elif isinstance(node, dict) and key in node:
                if lc is not None:
                    line = lc.key(key)[0] + 1
                node = node[key]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


def _field_name(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


#: Deeper than any real spec (4 levels); the bound keeps the parser off the recursion limit.
MAX_SPEC_DEPTH = 32
#: Digits a plain scalar may have before it is refused as a number nobody means.
MAX_NUMBER_DIGITS = 24


def _checked_text(path: Path, data: bytes) -> str:
    """The spec's text, refusing what no spec needs and what would hurt the parser.

    Non-UTF-8 bytes, NUL bytes, YAML anchors and aliases (a 400-byte alias bomb expands to
    gigabytes), nesting deeper than :data:`MAX_SPEC_DEPTH` and absurdly long numbers are errors
    with the file and line, found in one pass over the parser's events, before anything is built.
    """
    import codecs

    import yaml

    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)):
        raise ConfigError(f"{path}:1: the file is UTF-16/32 encoded: save it as UTF-8.")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: a NUL byte: the spec must be UTF-8 text.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}): save the file as UTF-8."
        ) from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1 if event.start_mark else 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ConfigError(
                    f"{path}:{line}: YAML anchors and aliases are not allowed in the cluster "
                    "spec: write the value out."
                )
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_SPEC_DEPTH:
                    raise ConfigError(
                        f"{path}:{line}: nested more than {MAX_SPEC_DEPTH} levels deep: the spec "
                        "is a few levels of keys, see the comments in the shipped cluster.yaml."
                    )
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
            elif isinstance(event, yaml.ScalarEvent) and not event.style:  # plain: "" or None
                digits = sum(ch.isdigit() for ch in event.value)
                if digits > MAX_NUMBER_DIGITS and digits >= len(event.value) - 2:
                    raise ConfigError(
                        f"{path}:{line}: a number with {digits} digits: no field of the spec "
                        "takes one that large."
                    )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: YAML syntax error: {exc.problem or exc}") from None
    return text


def load_yaml_roundtrip(path: Path) -> Any:
    """Parse YAML keeping line numbers; syntax errors become ConfigErrors with line and column."""
    from ruamel.yaml.error import MarkedYAMLError

    from tasks.core import yamldata

    try:
        text = _checked_text(path, path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: the cluster spec does not exist. Set `cluster.file` in invoke.yaml or "
            "INVOKE_CLUSTER_FILE, or run from the repository root."
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the cluster spec ({exc.strerror}).") from None
    try:
        data = yamldata.editor().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: YAML syntax error: {exc.problem or exc}") from None
    return data


def validation_problems(path: Path, raw: Any, exc: ValidationError) -> list[Problem]:
    """A pydantic error as problems naming the line (from ``raw``, a round-trip tree) and field."""
    problems = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function-")]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        problems.append(Problem(path, _line_of(raw, loc), _field_name(loc), msg))
    return problems


def problems_in(path: Path) -> tuple[LoadedSpec | None, list[Problem]]:
    """Load and validate; return the spec (when valid) and every problem found."""
    raw = load_yaml_roundtrip(path)
    if raw is None or (isinstance(raw, dict) and not raw):
        return None, [Problem(path, 1, "", "the cluster spec is empty")]
    if not isinstance(raw, dict):
        return None, [Problem(path, 1, "", "the cluster spec must be a mapping at the top level")]
    try:
        spec = ClusterSpec.model_validate(plain(raw))
    except ValidationError as exc:
        return None, validation_problems(path, raw, exc)
    loaded = LoadedSpec(spec, path, raw)
    return loaded, list(_semantic_problems(loaded))


def load_spec(path: Path) -> LoadedSpec:
    """Load a valid spec or raise one ConfigError listing every problem."""
    loaded, problems = problems_in(path)
    if problems or loaded is None:
        lines = "\n".join(f"  {p}" for p in problems)
        raise ConfigError(f"The cluster spec is invalid ({len(problems)} problem(s)):\n{lines}")
    return loaded


def spec_path(c: Context | None) -> Path:
    """The spec file: config ``cluster.file`` (``INVOKE_CLUSTER_FILE``), else the default."""
    from tasks.core.sections import ClusterConfig

    configured = load_section(c, "cluster", ClusterConfig).file
    return Path(configured) if configured else DEFAULT_CLUSTER_FILE


def load(c: Context | None) -> ClusterSpec:
    return load_spec(spec_path(c)).spec


# -- cross-field rules ------------------------------------------------------------------------


def _semantic_problems(loaded: LoadedSpec) -> Iterator[Problem]:
    spec, path = loaded.spec, loaded.path

    def problem(loc: Sequence[str | int], message: str) -> Problem:
        return Problem(path, loaded.line_of(loc), _field_name(loc), message)

    net = spec.network.network
    gateway = ipaddress.IPv4Address(spec.network.gateway)

    def inside(ip: str) -> bool:
        addr = ipaddress.IPv4Address(ip)
        return addr in net and addr not in (net.network_address, net.broadcast_address)

    if not inside(spec.network.gateway):
        yield problem(["network", "gateway"], f"{gateway} is not a host address in {net}")
    for end in ("start", "end"):
        ip = getattr(spec.network.dhcp, end)
        if not inside(ip):
            yield problem(["network", "dhcp", end], f"{ip} is outside the subnet {net}")
    dhcp = spec.network.dhcp
    if ipaddress.IPv4Address(dhcp.start) > ipaddress.IPv4Address(dhcp.end):
        yield problem(["network", "dhcp"], f"start {dhcp.start} is after end {dhcp.end}")
    if dhcp.contains(spec.network.gateway):
        yield problem(["network", "dhcp"], f"the DHCP range contains the gateway {gateway}")

    # Nodes: uniqueness, subnet membership, outside the dynamic range.
    seen: dict[str, dict[str, int]] = {"name": {}, "ip": {}, "mac": {}}
    for i, node in enumerate(spec.nodes):
        for attr in ("name", "ip", "mac"):
            value = getattr(node, attr)
            if value in seen[attr]:
                first = seen[attr][value]
                yield problem(
                    ["nodes", i, attr], f"duplicate {attr} {value!r} (also nodes[{first}])"
                )
            else:
                seen[attr][value] = i
        if not inside(node.ip):
            yield problem(["nodes", i, "ip"], f"{node.ip} is outside the subnet {net}")
        elif node.ip == spec.network.gateway:
            yield problem(["nodes", i, "ip"], f"{node.ip} is the network gateway")
        elif dhcp.contains(node.ip):
            yield problem(
                ["nodes", i, "ip"],
                f"{node.ip} is inside the DHCP range {dhcp.start}-{dhcp.end}; "
                "static leases must be outside it",
            )

    control_planes = spec.control_planes
    if not control_planes:
        yield problem(["nodes"], "no control-plane node (role: controlplane)")
    elif len(control_planes) % 2 == 0:
        yield problem(
            ["nodes"],
            f"{len(control_planes)} control-plane nodes: etcd needs an odd number (1, 3, 5)",
        )
    if not spec.workers:
        yield problem(["nodes"], "no worker node (role: worker)")

    # Endpoint: https with a port, on a control-plane IP or a VIP in the subnet.
    endpoint = urlparse(spec.cluster.endpoint)
    try:
        port = endpoint.port
    except ValueError:
        port = None
    if endpoint.scheme != "https" or not endpoint.hostname or port is None:
        yield problem(
            ["cluster", "endpoint"],
            f"{spec.cluster.endpoint!r} must be https://<ip>:<port> (e.g. https://192.168.50.10:6443)",
        )
    else:
        host = endpoint.hostname
        cp_ips = {n.ip for n in control_planes}
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            yield problem(["cluster", "endpoint"], f"host {host!r} is not an IPv4 address")
        else:
            other_nodes = {n.ip for n in spec.workers}
            if host in cp_ips:
                pass
            elif not inside(host):
                yield problem(
                    ["cluster", "endpoint"],
                    f"{host} is neither a control-plane IP nor a VIP inside {net}",
                )
            elif host in other_nodes:
                yield problem(
                    ["cluster", "endpoint"], f"{host} is a worker's IP, not a control plane"
                )
            elif host == spec.network.gateway or dhcp.contains(host):
                yield problem(
                    ["cluster", "endpoint"],
                    f"VIP {host} collides with the gateway or the DHCP range",
                )

    # Load-balancer pool: inside the subnet, clear of DHCP, nodes and gateway.
    lb = spec.load_balancer
    for end in ("start", "end"):
        ip = getattr(lb.pool, end)
        if not inside(ip):
            yield problem(["load_balancer", "pool", end], f"{ip} is outside the subnet {net}")
    if ipaddress.IPv4Address(lb.pool.start) > ipaddress.IPv4Address(lb.pool.end):
        yield problem(
            ["load_balancer", "pool"], f"start {lb.pool.start} is after end {lb.pool.end}"
        )
    elif lb.pool.overlaps(dhcp):
        yield problem(
            ["load_balancer", "pool"],
            f"the pool {lb.pool.start}-{lb.pool.end} overlaps the DHCP range "
            f"{dhcp.start}-{dhcp.end}",
        )
    if lb.pool.contains(spec.network.gateway):
        yield problem(["load_balancer", "pool"], f"the pool contains the gateway {gateway}")
    for node in spec.nodes:
        if lb.pool.contains(node.ip):
            yield problem(
                ["load_balancer", "pool"], f"the pool contains {node.name}'s IP {node.ip}"
            )
    if spec.endpoint_host and lb.pool.contains(spec.endpoint_host):
        yield problem(["load_balancer", "pool"], "the pool contains the API endpoint address")
    if not lb.pool.contains(lb.gateway_ip):
        yield problem(
            ["load_balancer", "gateway_ip"],
            f"{lb.gateway_ip} is not inside the pool {lb.pool.start}-{lb.pool.end}",
        )

    # Sizes against the infra VM budget after the host's own overhead.
    vm = spec.infra_vm
    memory = sum(n.memory_mib for n in spec.nodes)
    budget = vm.memory_mib - vm.host_overhead_mib
    if memory > budget:
        yield problem(
            ["nodes"],
            f"nodes need {memory} MiB of RAM but the infra VM has {budget} MiB after "
            f"{vm.host_overhead_mib} MiB host overhead",
        )
    cpus = max((n.cpus for n in spec.nodes), default=0)
    if cpus > vm.cpus:
        yield problem(["nodes"], f"a node has {cpus} vCPUs but the infra VM has only {vm.cpus}")
    total_cpus = sum(n.cpus for n in spec.nodes)
    if total_cpus > vm.cpus:
        yield problem(
            ["nodes"], f"nodes need {total_cpus} vCPUs in all but the infra VM has {vm.cpus}"
        )
    disk = sum(n.disk_gib for n in spec.nodes)
    if disk > vm.disk_gib:
        yield problem(
            ["nodes"], f"nodes need {disk} GiB of disk but the infra VM has {vm.disk_gib} GiB"
        )

    for i, ext in enumerate(spec.image_factory.extensions):
        if not re.match(r"^[a-z0-9-]+/[a-z0-9._-]+$", ext):
            yield problem(
                ["image_factory", "extensions", i],
                f"{ext!r} is not an official extension name (e.g. siderolabs/iscsi-tools)",
            )
