"""Operator-local settings of the infra namespace (Invoke config, ``INVOKE_*`` variables).

``libvirt.uri`` (``INVOKE_LIBVIRT_URI``), ``infra.virt_type`` (kvm, or qemu for TCG on hosts without
working nested virtualization), ``infra.cpu_model`` (host-passthrough, which Talos needs for
x86-64-v2 under KVM; a named model such as qemu64 under TCG) and ``infra.image_dir`` (node disks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core.errors import ConfigError
from tasks.core.settings import section
from tasks.core.state import ClusterState

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.config import ClusterSpec

VIRT_TYPES = ("kvm", "qemu")
DEFAULT_URI = "qemu:///system"


@dataclass(frozen=True)
class InfraSettings:
    uri: str
    virt_type: str
    cpu_model: str
    image_dir: Path
    state: ClusterState

    @property
    def iso_cache(self) -> Path:
        return self.state.cache / "iso"

    @property
    def network_xml_path(self) -> Path:
        return self.state.path("libvirt", "network.xml")

    def disk_path(self, node: str) -> Path:
        return self.image_dir / f"{node}.qcow2"


def load_settings(c: Context, spec: ClusterSpec) -> InfraSettings:
    libvirt = section(c, "libvirt")
    infra = section(c, "infra")
    state = ClusterState.for_cluster(c, spec.cluster.name)
    virt_type = str(infra.get("virt_type") or "kvm")
    if virt_type not in VIRT_TYPES:
        raise ConfigError(
            f"infra.virt_type {virt_type!r} is not one of {', '.join(VIRT_TYPES)} "
            "(set it in invoke.yaml or INVOKE_INFRA_VIRT_TYPE)."
        )
    image_dir = infra.get("image_dir")
    return InfraSettings(
        uri=str(libvirt.get("uri") or DEFAULT_URI),
        virt_type=virt_type,
        cpu_model=str(infra.get("cpu_model") or "host-passthrough"),
        image_dir=Path(str(image_dir)).expanduser() if image_dir else state.path("images"),
        state=state,
    )
