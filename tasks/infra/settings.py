"""Operator-local settings of the infra namespace (Invoke config, ``INVOKE_*`` variables).

``libvirt.uri`` (``INVOKE_LIBVIRT_URI``), ``infra.virt_type`` (kvm, or qemu for TCG on hosts without
working nested virtualization), ``infra.cpu_model`` (host-passthrough, which Talos needs for
x86-64-v2 under KVM; a named model such as qemu64 under TCG), ``infra.pool`` (the libvirt storage
pool of the node disks and the ISO, default the cluster name) and ``infra.image_dir`` (the pool's
directory on the hypervisor).

The pool lives wherever libvirtd runs, so the same plan works for ``qemu:///system`` and
``qemu+ssh://user@infra-vm/system``. Migration: on a local connection the image dir of earlier
versions (``<state>/images``), when it exists, is adopted as the pool's directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tasks.core.settings import FORBID_EXTRA, load_section
from tasks.core.state import ClusterState

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.config import ClusterSpec

VIRT_TYPES = ("kvm", "qemu")
DEFAULT_URI = "qemu:///system"


@dataclass(frozen=True)
class LibvirtConfig:
    """Invoke config ``libvirt.*``."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    #: The libvirtd the infra tasks drive; from the dev VM ``qemu+ssh://user@infra-vm/system``.
    uri: str = DEFAULT_URI


@dataclass(frozen=True)
class InfraConfig:
    """Invoke config ``infra.*``: declared once; the collection's defaults come from here."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    #: kvm, or qemu (TCG) on hosts without working nested virtualization.
    virt_type: str = "kvm"
    #: host-passthrough (Talos needs x86-64-v2 under KVM); a named model such as qemu64 under TCG.
    cpu_model: str = "host-passthrough"
    #: The pool's directory on the hypervisor; default /var/lib/libvirt/images/<pool>.
    image_dir: str | None = None
    #: The libvirt storage pool of the node disks and the ISO; default the cluster name.
    pool: str | None = None

    def __post_init__(self) -> None:
        if self.virt_type not in VIRT_TYPES:
            raise ValueError(
                f"virt_type {self.virt_type!r} is not one of {', '.join(VIRT_TYPES)} "
                "(set it in invoke.yaml or INVOKE_INFRA_VIRT_TYPE)."
            )


#: Where libvirt keeps images on Debian/Ubuntu; the pool is a directory below it.
LIBVIRT_IMAGES = Path("/var/lib/libvirt/images")


@dataclass(frozen=True)
class InfraSettings:
    uri: str
    virt_type: str
    cpu_model: str
    #: The pool's directory on the hypervisor (not necessarily on this machine).
    image_dir: Path
    state: ClusterState
    pool: str = "propertea"

    @property
    def iso_cache(self) -> Path:
        return self.state.cache / "iso"

    @property
    def network_xml_path(self) -> Path:
        return self.state.path("libvirt", "network.xml")

    @property
    def tunnel_pidfile(self) -> Path:
        return self.state.path("sshuttle.pid")

    @property
    def local(self) -> bool:
        """libvirtd runs on this machine (its files are ours); false over ssh or tcp."""
        return is_local_uri(self.uri)

    def disk_volume(self, node: str) -> str:
        return f"{node}.qcow2"

    def disk_path(self, node: str) -> Path:
        """The node disk's path on the hypervisor (a volume of the pool)."""
        return self.image_dir / self.disk_volume(node)


def is_local_uri(uri: str) -> bool:
    """``qemu:///system``, ``qemu+unix://...``: no host and no network transport."""
    scheme, _, rest = uri.partition("://")
    transport = scheme.partition("+")[2]
    host = rest.split("/", 1)[0]
    return transport in {"", "unix"} and host in {"", "localhost"}


def load_settings(c: Context, spec: ClusterSpec) -> InfraSettings:
    libvirt = load_section(c, "libvirt", LibvirtConfig)
    infra = load_section(c, "infra", InfraConfig)
    state = ClusterState.for_cluster(c, spec.cluster.name)
    uri = libvirt.uri or DEFAULT_URI
    pool = infra.pool or spec.cluster.name
    if infra.image_dir:
        image_dir = Path(infra.image_dir)
    elif is_local_uri(uri) and (legacy := state.path("images")).is_dir():
        image_dir = legacy
    else:
        image_dir = LIBVIRT_IMAGES / pool
    return InfraSettings(
        uri=uri,
        virt_type=infra.virt_type,
        cpu_model=infra.cpu_model or "host-passthrough",
        image_dir=image_dir,
        state=state,
        pool=pool,
    )
