"""ProperTea platform toolkit: the root Invoke collection.

Namespaces: release, images, infra, talos, gitops, secrets; root tasks: doctor, validate.
Each namespace is a subpackage exposing ``ns``; it joins the collection as soon as it exists, so a
namespace still under construction never shows up as placeholder tasks.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from invoke.collection import Collection

from tasks.doctor import doctor
from tasks.validate import validate

NAMESPACES = ("release", "images", "infra", "talos", "gitops", "secrets")

#: Invoke config defaults; operators override them in invoke.yaml or INVOKE_* variables.
CONFIG_DEFAULTS = {
    "cluster": {"file": "deploy/local-cluster/cluster.yaml"},
    "state": {"dir": None},
    "libvirt": {"uri": "qemu:///system"},
    "infra": {"virt_type": "kvm", "cpu_model": "host-passthrough", "image_dir": None},
    "images": {"registry": "ghcr.io/propertea"},
    "validate": {"schema_dir": None, "allow_unknown_kinds": {}},
    # Extra age recipients for .sops.yaml; empty means the local key's public key only.
    "secrets": {"age_recipients": []},
}


def _build() -> Collection:
    root = Collection()
    root.add_task(doctor)
    root.add_task(validate)
    for name in NAMESPACES:
        if not (Path(__file__).parent / name / "__init__.py").exists():
            continue
        module = importlib.import_module(f"tasks.{name}")
        root.add_collection(module.ns, name=name)
    root.configure(CONFIG_DEFAULTS)
    return root


ns = _build()
