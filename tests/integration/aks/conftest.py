"""`inv aks.*` against the scenario fake of az (recorded JSON answers), kubectl and helm."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeTools

CLUSTER = {
    "identity": {"principalId": "cluster-principal"},
    "oidcIssuerProfile": {"issuerUrl": "https://westeurope.oic.example/issuer/"},
    "fqdn": "propertea-dns.hcp.westeurope.azmk8s.io",
    "provisioningState": "Succeeded",
    "powerState": {"code": "Running"},
    "kubernetesVersion": "1.34.1",
}
IDENTITY = {"principalId": "eso-principal", "clientId": "eso-client-id"}
STORAGE_KEY = "c3RvcmFnZS1rZXktdmFsdWUtbmV2ZXItcHJpbnRlZA=="
VELERO_PASSWORD = "vEl3ro~password.never-printed"
VELERO_PRINCIPAL = {
    "appId": "velero-app-id",
    "displayName": "propertea-velero",
    "password": VELERO_PASSWORD,
    "tenant": "tenant-id",
}


def answer(data: Any) -> str:
    return json.dumps(data)


def not_found(tool_args: list[str], what: str) -> dict[str, Any]:
    """az's answer for a resource that does not exist (ResourceNotFoundError: exit 3)."""
    return {
        "tool": "az",
        "match": tool_args,
        "exit": 3,
        "stderr": f"ERROR: (ResourceNotFound) The {what} was not found.\n",
    }


def found(tool_args: list[str], data: Any) -> dict[str, Any]:
    return {"tool": "az", "match": tool_args, "stdout": answer(data)}


#: Who runs it, and the preview prerequisites met.
SIGNED_IN = [
    found(
        ["account", "show"],
        {
            "id": "sub-id",
            "tenantId": "tenant-id",
            "user": {"name": "ops@example.org", "type": "user"},
        },
    ),
    found(["ad", "signed-in-user", "show"], {"id": "operator-object-id"}),
    found(["feature", "show"], {"properties": {"state": "Registered"}}),
]

#: A subscription without any of the resources.
FRESH = [
    # Before SIGNED_IN, whose ["account", "show"] would match `storage account show` too.
    not_found(["storage", "account", "show"], "storage account"),
    *SIGNED_IN,
    {
        "tool": "az",
        "match": ["extension", "show"],
        "exit": 1,
        "stderr": "ERROR: The extension aks-preview is not installed.\n",
    },
    not_found(["group", "show"], "resource group"),
    found(
        ["group", "create", "--name", "propertea-network"],
        {"id": "/subscriptions/s/resourceGroups/propertea-network"},
    ),
    found(["group", "create"], {"id": "/subscriptions/s/resourceGroups/other"}),
    not_found(["aks", "show"], "managed cluster"),
    found(["aks", "create"], CLUSTER),
    not_found(["public-ip", "show"], "public IP"),
    found(["role", "assignment", "list"], []),
    not_found(["keyvault", "secret", "show"], "secret"),
    not_found(["keyvault", "show"], "vault"),
    found(["keyvault", "create"], {"id": "/subscriptions/s/vaults/propertea-kv"}),
    found(["keyvault", "secret", "set"], "https://propertea-kv.vault.azure.net/secrets/x/1"),
    found(["storage", "account", "keys", "list"], STORAGE_KEY),
    found(["ad", "sp", "create-for-rbac"], VELERO_PRINCIPAL),
    {
        "tool": "az",
        "match": ["storage", "container", "show"],
        "exit": 1,
        "stderr": "ERROR: The specified container does not exist. ErrorCode:ContainerNotFound\n",
    },
    not_found(["federated-credential", "show"], "federated identity credential"),
    not_found(["identity", "show"], "identity"),
    found(["identity", "create"], IDENTITY),
]

#: Everything exists already: a second `aks.up`.
CONVERGED = [
    found(["storage", "account", "show"], {"provisioningState": "Succeeded"}),
    *SIGNED_IN,
    found(["extension", "show"], {"name": "aks-preview", "version": "19.0.0b1"}),
    found(["group", "show"], {"id": "/subscriptions/s/resourceGroups/propertea-network"}),
    found(["aks", "show"], CLUSTER),
    found(["public-ip", "show"], {"ipAddress": "20.1.2.3"}),
    found(["role", "assignment", "list"], [{"id": "assignment"}]),
    found(["keyvault", "secret", "show"], "https://propertea-kv.vault.azure.net/secrets/x/1"),
    found(["keyvault", "show"], {"id": "/kv", "properties": {"vaultUri": "https://kv/"}}),
    found(["storage", "container", "show"], {"name": "velero"}),
    found(["federated-credential", "show"], {"name": "external-secrets"}),
    found(["identity", "show"], IDENTITY),
]


@pytest.fixture
def aks_env(tmp_path: Path, fake_tools: FakeTools) -> dict[str, str]:
    """State dir and age key in tmp; everything else is the repository's."""
    key = tmp_path / "age" / "keys.txt"
    key.parent.mkdir()
    key.write_text("# public key: age1test\nAGE-SECRET-KEY-1TESTTESTTEST\n")
    return {
        "INVOKE_STATE_DIR": str(tmp_path / "state"),
        "INVOKE_AKS_AGE_KEY_FILE": str(key),
    }


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state" / "aks-propertea"


AzCalls = Callable[[], list[list[str]]]


@pytest.fixture(autouse=True)
def az_argvs_are_real(fake_tools: FakeTools) -> Iterator[None]:
    """Every az argv a test made the tasks emit has flags the real Azure CLI knows."""
    from tests.unit.aks.test_az_flags import unknown_az_flags

    yield
    wrong = {" ".join(a[:3]): unknown_az_flags(a) for a in fake_tools.argvs("az")}
    assert {k: v for k, v in wrong.items() if v} == {}


@pytest.fixture
def az_calls(fake_tools: FakeTools) -> AzCalls:
    return lambda: fake_tools.argvs("az")
