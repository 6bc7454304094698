"""`inv aks.up`, `aks.status`, `aks.destroy` through the az scenario fake: facts first."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import InvHere
from tests.fakes import FakeTools
from tests.integration.aks.conftest import (
    CONVERGED,
    FRESH,
    SIGNED_IN,
    STORAGE_KEY,
    VELERO_PASSWORD,
    AzCalls,
    found,
    not_found,
)

CHANGING = {"create", "add", "register", "set", "delete", "create-for-rbac"}


def changes(calls: list[list[str]]) -> list[list[str]]:
    return [argv for argv in calls if CHANGING & set(argv[:4])]


def test_a_fresh_subscription_gets_every_resource(
    inv_here: InvHere,
    fake_tools: FakeTools,
    aks_env: dict[str, str],
    az_calls: AzCalls,
    state_dir: Path,
) -> None:
    fake_tools.scenario(FRESH)
    result = inv_here("aks.up", env=aks_env)
    assert result.returncode == 0, result.output
    made = [" ".join(a[: a.index("--only-show-errors")]) for a in changes(az_calls())]
    assert made == [
        "extension add --name aks-preview",
        "group create --name propertea-aks --location westeurope",
        "group create --name propertea-network --location westeurope",
        "group create --name propertea-backups --location westeurope",
        "aks create --resource-group propertea-aks --name propertea --location westeurope "
        "--node-count 3 --node-vm-size Standard_D4s_v5 --network-plugin none "
        f"--kube-proxy-config {state_dir}/kube-proxy.json --enable-oidc-issuer "
        "--enable-workload-identity --generate-ssh-keys",
        "network public-ip create --resource-group propertea-network --name propertea-gateway "
        "--location westeurope --sku Standard --allocation-method Static",
        "role assignment create --assignee-object-id cluster-principal "
        "--assignee-principal-type ServicePrincipal --role Network Contributor "
        "--scope /subscriptions/s/resourceGroups/propertea-network",
        "keyvault create --resource-group propertea-aks --name propertea-kv --location "
        "westeurope --enable-rbac-authorization true",
        "role assignment create --assignee-object-id operator-object-id "
        "--assignee-principal-type User --role Key Vault Secrets Officer "
        "--scope /subscriptions/s/vaults/propertea-kv",
        f"keyvault secret set --vault-name propertea-kv --name propertea-age-key --file "
        f"{aks_env['INVOKE_AKS_AGE_KEY_FILE']} --query id",
        "storage account create --resource-group propertea-backups --name properteabackups "
        "--location westeurope --sku Standard_LRS --kind StorageV2",
        "storage container create --account-name properteabackups --name velero --auth-mode key",
        "storage container create --account-name properteabackups --name postgres-backups "
        "--auth-mode key",
        "keyvault secret set --vault-name propertea-kv --name pg-backup-storage-account "
        f"--file {state_dir}/.pg-backup-storage-account --query id",
        "keyvault secret set --vault-name propertea-kv --name pg-backup-storage-key "
        f"--file {state_dir}/.pg-backup-storage-key --query id",
        "ad sp create-for-rbac --name propertea-velero --role Contributor "
        "--scopes /subscriptions/s/resourceGroups/other",
        *(
            f"keyvault secret set --vault-name propertea-kv --name velero-{v} "
            f"--file {state_dir}/.velero-{v} --query id"
            for v in ("subscription-id", "tenant-id", "client-id", "client-secret")
        ),
        "identity create --resource-group propertea-aks --name propertea-external-secrets "
        "--location westeurope",
        "identity federated-credential create --resource-group propertea-aks --identity-name "
        "propertea-external-secrets --name external-secrets --issuer "
        "https://westeurope.oic.example/issuer/ --subject "
        "system:serviceaccount:external-secrets:external-secrets --audiences "
        "api://AzureADTokenExchange",
        "role assignment create --assignee-object-id eso-principal --assignee-principal-type "
        "ServicePrincipal --role Key Vault Secrets User --scope /subscriptions/s/vaults/"
        "propertea-kv",
    ]
    assert json.loads((state_dir / "kube-proxy.json").read_text()) == {"enabled": False}
    # The storage key went to az through a 0600 file that is gone, never through argv or output.
    assert not list(state_dir.glob(".pg-backup-*"))
    assert all(STORAGE_KEY not in " ".join(a) for a in az_calls())
    assert STORAGE_KEY not in result.output
    # So did Velero's password, which az printed once (masked from then on).
    assert not list(state_dir.glob(".velero-*"))
    assert all(VELERO_PASSWORD not in " ".join(a) for a in az_calls())
    assert VELERO_PASSWORD not in result.output
    assert "next `inv aks.bootstrap`" in result.output


def test_a_second_up_creates_nothing(
    inv_here: InvHere, fake_tools: FakeTools, aks_env: dict[str, str], az_calls: AzCalls
) -> None:
    fake_tools.scenario(CONVERGED)
    result = inv_here("aks.up", env=aks_env)
    assert result.returncode == 0, result.output
    assert changes(az_calls()) == []
    assert "AKS cluster propertea: exists" in result.output


def test_dry_run_reads_facts_and_changes_nothing(
    inv_here: InvHere,
    fake_tools: FakeTools,
    aks_env: dict[str, str],
    az_calls: AzCalls,
    state_dir: Path,
) -> None:
    fake_tools.scenario(FRESH)
    result = inv_here("--dry", "aks.up", env=aks_env)
    assert result.returncode == 0, result.output
    assert changes(az_calls()) == []
    assert "$ az aks create --resource-group propertea-aks" in result.output
    assert "--network-plugin none --kube-proxy-config" in result.output
    assert f"# write {state_dir}/kube-proxy.json" in result.output
    assert not state_dir.exists()


def test_a_failing_create_names_the_step_and_a_rerun_continues(
    inv_here: InvHere, fake_tools: FakeTools, aks_env: dict[str, str], az_calls: AzCalls
) -> None:
    quota = {
        "tool": "az",
        "match": ["aks", "create"],
        "fail_times": 1,
        "fail_exit": 1,
        "fail_stderr": "ERROR: (QuotaExceeded) Operation could not be completed: cores quota.\n",
    }
    fake_tools.scenario([quota, *FRESH])
    failed = inv_here("aks.up", env=aks_env)
    assert failed.returncode != 0
    assert "create AKS cluster propertea" in failed.output
    assert "QuotaExceeded" in failed.output
    assert "Traceback" not in failed.output
    assert not any("public-ip" in a for a in changes(az_calls()))

    again = inv_here("aks.up", env=aks_env)
    assert again.returncode == 0, again.output


def test_not_logged_in_says_az_login(
    inv_here: InvHere, fake_tools: FakeTools, aks_env: dict[str, str], az_calls: AzCalls
) -> None:
    fake_tools.scenario(
        [
            {
                "tool": "az",
                "match": ["account", "show"],
                "exit": 1,
                "stderr": "ERROR: Please run 'az login' to setup account.\n",
            }
        ]
    )
    result = inv_here("aks.up", env=aks_env)
    assert result.returncode == 1
    assert "Please run 'az login'" in result.output
    assert "`az login`" in result.output
    assert changes(az_calls()) == []


def test_an_unregistered_preview_feature_is_registered_then_waited_for(
    inv_here: InvHere, fake_tools: FakeTools, aks_env: dict[str, str], az_calls: AzCalls
) -> None:
    fake_tools.scenario(
        [
            found(["feature", "show"], {"properties": {"state": "NotRegistered"}}),
            *CONVERGED,
        ]
    )
    result = inv_here("aks.up", env=aks_env)
    assert result.returncode == 75
    assert [a[:2] for a in changes(az_calls())] == [
        ["feature", "register"],
        ["provider", "register"],
    ]
    assert "Run `inv aks.up` again once" in result.output


def test_status_lists_each_resource(
    inv_here: InvHere, fake_tools: FakeTools, aks_env: dict[str, str]
) -> None:
    fake_tools.scenario([*CONVERGED[:-1], *FRESH[-3:]])
    result = inv_here("aks.status", "--json", env=aks_env)
    assert result.returncode == 0, result.output
    rows = {r["kind"]: r["state"] for r in json.loads(result.stdout)}
    assert rows["AKS cluster"] == (
        "Succeeded Running 1.34.1 propertea-dns.hcp.westeurope.azmk8s.io"
    )
    assert rows["public IP"] == "20.1.2.3"
    assert rows["managed identity"] == "missing"


def test_destroy_asks_and_deletes_only_the_cluster_group_by_default(
    inv_here: InvHere, fake_tools: FakeTools, aks_env: dict[str, str], az_calls: AzCalls
) -> None:
    fake_tools.scenario(CONVERGED)
    refused = inv_here("aks.destroy", env=aks_env)
    assert refused.returncode != 0
    assert "--yes" in refused.output
    assert changes(az_calls()) == []

    done = inv_here("aks.destroy", "--yes", env=aks_env)
    assert done.returncode == 0, done.output
    assert [a[:4] for a in changes(az_calls())] == [["group", "delete", "--name", "propertea-aks"]]
    fake_tools.reset_log()
    inv_here("aks.destroy", "--yes", "--network", "--backups", env=aks_env)
    assert [a[3] for a in changes(az_calls())] == [
        "propertea-aks",
        "propertea-network",
        "propertea-backups",
    ]


def test_destroy_of_nothing_deletes_nothing(
    inv_here: InvHere, fake_tools: FakeTools, aks_env: dict[str, str], az_calls: AzCalls
) -> None:
    fake_tools.scenario([*SIGNED_IN, *FRESH])
    result = inv_here("aks.destroy", "--yes", env=aks_env)
    assert result.returncode == 0, result.output
    assert "nothing to delete" in result.output
    assert changes(az_calls()) == []


def test_a_missing_age_key_is_named_before_anything_is_stored(
    inv_here: InvHere, fake_tools: FakeTools, aks_env: dict[str, str], az_calls: AzCalls
) -> None:
    fake_tools.scenario(
        [not_found(["keyvault", "secret", "show", "propertea-age-key"], "secret"), *CONVERGED]
    )
    result = inv_here("aks.up", env={**aks_env, "INVOKE_AKS_AGE_KEY_FILE": "/nonexistent/keys"})
    assert result.returncode == 1
    assert "/nonexistent/keys: no age key to store in Key Vault" in result.output
    assert changes(az_calls()) == []


def test_a_principal_without_a_password_stores_nothing(
    inv_here: InvHere,
    fake_tools: FakeTools,
    aks_env: dict[str, str],
    az_calls: AzCalls,
    state_dir: Path,
) -> None:
    no_password = found(["ad", "sp", "create-for-rbac"], {"appId": "velero-app-id"})
    fake_tools.scenario([no_password, *FRESH])
    result = inv_here("aks.up", env=aks_env)
    assert result.returncode == 1
    assert "create-for-rbac answered without velero-client-secret; nothing was stored" in (
        result.output
    )
    assert not [
        a for a in az_calls() if a[:3] == ["keyvault", "secret", "set"] and "velero" in a[6]
    ]
    assert not list(state_dir.glob(".velero-*"))
