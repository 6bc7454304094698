"""The AKS spec, ``deploy/aks/cluster.yaml``: names, sizes and versions, validated like the
local cluster spec (unknown keys and bad values are errors naming the file, line and field).

:func:`tree_mismatches` checks the names deploy/ uses against it, so renaming one side only is
caught before anything is created.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tasks.core.errors import ConfigError

DEFAULT_FILE = Path("deploy/aks/cluster.yaml")
_RESOURCE = r"^[A-Za-z0-9][-A-Za-z0-9_.()]{0,88}[-A-Za-z0-9_()]$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResourceGroups(_Model):
    cluster: str = Field(pattern=_RESOURCE)
    network: str = Field(pattern=_RESOURCE)
    backups: str = Field(pattern=_RESOURCE)


class Cluster(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][-A-Za-z0-9_]{0,61}[A-Za-z0-9]$")
    node_count: int = Field(ge=1, le=1000)
    node_vm_size: str = Field(pattern=r"^Standard_[A-Za-z0-9_]+$")
    kubernetes_version: str = Field(default="", pattern=r"^$|^\d+\.\d+(\.\d+)?$")
    pod_cidr: str

    @field_validator("pod_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            ipaddress.IPv4Network(value)
        except ValueError as exc:
            raise ValueError(f"not an IPv4 CIDR ({exc})") from None
        return value


class KeyVault(_Model):
    name: str = Field(pattern=r"^[A-Za-z][-A-Za-z0-9]{1,22}[A-Za-z0-9]$")
    age_key_secret: str = Field(pattern=r"^[-A-Za-z0-9]{1,127}$")


class Storage(_Model):
    account: str = Field(pattern=r"^[a-z0-9]{3,24}$")
    containers: tuple[str, ...] = Field(min_length=1)

    @field_validator("containers")
    @classmethod
    def _containers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not re.fullmatch(r"[a-z0-9](?!.*--)[-a-z0-9]{1,61}[a-z0-9]", name):
                raise ValueError(
                    f"{name!r}: a container name is 3-63 lowercase letters, digits and single "
                    "hyphens"
                )
        return value


class ExternalSecrets(_Model):
    identity: str = Field(pattern=r"^[A-Za-z0-9][-A-Za-z0-9_]{2,127}$")
    namespace: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    service_account: str = Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    chart_version: str = Field(pattern=r"^\d+\.\d+\.\d+$")


class AksSpec(_Model):
    subscription: str = ""
    location: str = Field(pattern=r"^[a-z0-9]+$")
    resource_groups: ResourceGroups
    cluster: Cluster
    gateway_ip: str = Field(pattern=_RESOURCE)
    key_vault: KeyVault
    storage: Storage
    external_secrets: ExternalSecrets

    @property
    def vault_url(self) -> str:
        return f"https://{self.key_vault.name}.vault.azure.net"

    @property
    def federated_subject(self) -> str:
        eso = self.external_secrets
        return f"system:serviceaccount:{eso.namespace}:{eso.service_account}"


@dataclass(frozen=True)
class LoadedAksSpec:
    spec: AksSpec
    path: Path


def load(path: Path) -> LoadedAksSpec:
    """Read and validate the AKS spec; every problem names the file, line and field."""
    from tasks.core.config import load_yaml_roundtrip, validation_problems
    from tasks.core.yamldata import plain

    if not path.is_file():
        raise ConfigError(
            f"{path}: the AKS spec does not exist. Set aks.file in invoke.yaml or "
            "INVOKE_AKS_FILE, or run from the repository root."
        )
    raw = load_yaml_roundtrip(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}:1: the AKS spec must be a mapping at the top level")
    try:
        spec = AksSpec.model_validate(plain(raw))
    except ValidationError as exc:
        problems = validation_problems(path, raw, exc)
        lines = "\n".join(f"  {p}" for p in problems)
        raise ConfigError(
            f"The AKS spec is invalid ({len(problems)} problem(s)):\n{lines}"
        ) from None
    return LoadedAksSpec(spec, path)


# -- the names deploy/ uses -------------------------------------------------------------------


def _docs(path: Path) -> list[Any]:
    from tasks.core import yamldata

    try:
        return [d for d in yamldata.load_all(path.read_text()) if isinstance(d, dict)]
    except FileNotFoundError:
        return []


def _get(node: Any, *keys: str | int) -> Any:
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def tree_mismatches(spec: AksSpec, deploy: Path) -> list[str]:
    """Where deploy/ names an Azure resource differently from the AKS spec."""
    out: list[str] = []

    def expect(where: str, found: Any, wanted: str, field: str) -> None:
        if found is not None and str(found) != wanted:
            out.append(f"{where} says {found!r} but {field} is {wanted!r}")

    gateway = deploy / "infrastructure/gateway/env/aks/kustomization.yaml"
    for doc in _docs(gateway):
        for patch in doc.get("patches") or []:
            text = str(patch.get("patch", ""))
            for key, wanted, field in (
                ("azure-pip-name", spec.gateway_ip, "gateway_ip"),
                (
                    "azure-load-balancer-resource-group",
                    spec.resource_groups.network,
                    "resource_groups.network",
                ),
            ):
                match = re.search(rf"{key}:\s*(\S+)", text)
                if match:
                    expect(str(gateway.relative_to(deploy.parent)), match[1], wanted, field)
    velero = deploy / "infrastructure/velero/values-aks.yaml"
    for doc in _docs(velero):
        for location in _get(doc, "velero", "configuration", "backupStorageLocation") or []:
            where = str(velero.relative_to(deploy.parent))
            expect(
                where,
                _get(location, "config", "storageAccount"),
                spec.storage.account,
                "storage.account",
            )
            expect(
                where,
                _get(location, "config", "resourceGroup"),
                spec.resource_groups.backups,
                "resource_groups.backups",
            )
            bucket = _get(location, "bucket")
            if bucket is not None and bucket not in spec.storage.containers:
                out.append(f"{where}: bucket {bucket!r} is not one of storage.containers")
    cilium = deploy / "infrastructure/cilium/values-aks.yaml"
    for doc in _docs(cilium):
        pools = _get(doc, "cilium", "ipam", "operator", "clusterPoolIPv4PodCIDRList") or []
        if pools and spec.cluster.pod_cidr not in [str(p) for p in pools]:
            out.append(
                f"{cilium.relative_to(deploy.parent)}: clusterPoolIPv4PodCIDRList {pools} does "
                f"not contain cluster.pod_cidr {spec.cluster.pod_cidr!r}"
            )
    store = deploy / "aks/bootstrap/cluster-secret-store.yaml"
    for doc in _docs(store):
        expect(
            str(store.relative_to(deploy.parent)),
            _get(doc, "spec", "provider", "azurekv", "vaultUrl"),
            spec.vault_url,
            "the vault URL of key_vault.name",
        )
    return out
