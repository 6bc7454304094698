"""ProperTea platform toolkit: the root Invoke collection.

Namespaces: release, images, infra, talos, gitops, secrets; root tasks: doctor, validate.
Each namespace is a subpackage exposing ``ns`` (thin tasks; heavy imports stay inside them).
"""

from __future__ import annotations

from invoke.collection import Collection

from tasks import gitops, images, infra, release, secrets, talos
from tasks.doctor import doctor
from tasks.validate import validate

#: Invoke config defaults; operators override them in invoke.yaml or INVOKE_* variables.
CONFIG_DEFAULTS = {
    "cluster": {"file": "deploy/local-cluster/cluster.yaml"},
    "state": {"dir": None},
    "libvirt": {"uri": "qemu:///system"},
    "infra": {"virt_type": "kvm", "cpu_model": "host-passthrough", "image_dir": None, "pool": None},
    "images": {"registry": "ghcr.io/propertea"},
    "validate": {"schema_dir": None, "allow_unknown_kinds": {}},
    # Extra age recipients for .sops.yaml; empty means the local key's public key only.
    "secrets": {"age_recipients": []},
}


def _build() -> Collection:
    root = Collection()
    root.add_task(doctor)
    root.add_task(validate)
    for namespace in (release, images, infra, talos, gitops, secrets):
        root.add_collection(namespace.ns)
    root.configure(CONFIG_DEFAULTS)
    return root


ns = _build()
