"""ProperTea platform toolkit: the root Invoke collection.

Namespaces: release, images, infra, talos, gitops, secrets, aks; root tasks: doctor, validate.
Each namespace is a subpackage exposing ``ns`` (thin tasks; heavy imports stay inside them).
"""

from __future__ import annotations

from invoke.collection import Collection

from tasks import aks, gitops, images, infra, release, secrets, talos
from tasks.core.sections import ClusterConfig, ImagesConfig, SecretsConfig, StateConfig
from tasks.core.settings import defaults_of
from tasks.doctor import doctor
from tasks.infra.settings import InfraConfig, LibvirtConfig
from tasks.validate import validate
from tasks.validate.settings import ValidateConfig

#: Invoke config defaults; operators override them in invoke.yaml or INVOKE_* variables.
CONFIG_DEFAULTS = {
    "cluster": defaults_of(ClusterConfig),
    "state": defaults_of(StateConfig),
    "libvirt": defaults_of(LibvirtConfig),
    "infra": defaults_of(InfraConfig),
    "images": defaults_of(ImagesConfig),
    "validate": defaults_of(ValidateConfig),
    "secrets": defaults_of(SecretsConfig),
}


def _build() -> Collection:
    root = Collection()
    root.add_task(doctor)
    root.add_task(validate)
    for namespace in (release, images, infra, talos, gitops, secrets, aks):
        root.add_collection(namespace.ns)
    root.configure(CONFIG_DEFAULTS)
    return root


ns = _build()
