"""Every az argv the aks plans can emit uses a subcommand and flags the real Azure CLI has.

The table (tests/fixtures/az-flags.json) was derived once from `az <command> --help` of the
azure-cli release it names (tests/fixtures/make_az_flags.py); flags only an extension adds
(aks-preview's --kube-proxy-config) are listed under ``extensions``. helm argvs are checked
against the shared reference like the gitops plans' are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tasks.aks import plan
from tasks.aks.settings import Settings, Timeouts
from tasks.aks.spec import AksSpec
from tasks.aks.spec import load as load_spec
from tasks.core.runner import Command
from tasks.core.state import ClusterState
from tests.unit.gitops.test_cli_flags import allowed_flags, flags_of, reference  # noqa: F401

REPO = Path(__file__).resolve().parents[3]
TABLE = json.loads((REPO / "tests/fixtures/az-flags.json").read_text())
SPEC = load_spec(REPO / "deploy/aks/cluster.yaml").spec
WITH_SUBSCRIPTION = SPEC.model_copy(
    update={
        "subscription": "prod",
        "cluster": SPEC.cluster.model_copy(update={"kubernetes_version": "1.34"}),
    }
)
SETTINGS = Settings(
    spec_file=REPO / "deploy/aks/cluster.yaml",
    age_key_file=Path("/keys/age.txt"),
    deploy=Path("deploy"),
    state=ClusterState(Path("/state/aks-propertea")),
    timeouts=Timeouts(),
)


def az_commands(spec: AksSpec) -> list[Command]:
    return [
        plan.account(spec),
        plan.extension_show(),
        plan.extension_add(),
        plan.feature_show(spec),
        plan.feature_register(spec),
        plan.provider_register(spec),
        plan.signed_in_user(spec),
        plan.service_principal(spec, "app-id"),
        plan.group_show(spec, "rg"),
        plan.group_create(spec, "rg"),
        plan.group_delete(spec, "rg", 60),
        plan.aks_show(spec),
        plan.aks_create(SETTINGS, spec),
        plan.get_credentials(SETTINGS, spec),
        plan.public_ip_show(spec),
        plan.public_ip_create(spec),
        plan.role_list(spec, "principal", plan.NETWORK_CONTRIBUTOR, "/scope"),
        plan.role_create(spec, "principal", plan.NETWORK_CONTRIBUTOR, "/scope", "User"),
        plan.keyvault_show(spec),
        plan.keyvault_create(spec),
        plan.secret_show(spec, "s"),
        plan.secret_set(spec, "s", Path("/f")),
        plan.storage_show(spec),
        plan.storage_create(spec),
        plan.storage_key(spec),
        plan.container_show(spec, "velero"),
        plan.container_create(spec, "velero"),
        plan.identity_show(spec),
        plan.identity_create(spec),
        plan.federation_show(spec),
        plan.federation_create(spec, "https://issuer/"),
    ]


def az_allowed(argv: tuple[str, ...]) -> tuple[str, set[str]]:
    words = [a for a in argv[1:] if not a.startswith("-")]
    for n in range(min(len(words), 4), 0, -1):
        key = " ".join(words[:n])
        if key in TABLE["commands"]:
            allowed = set(TABLE["commands"][key])
            for ext in TABLE["extensions"].values():
                allowed |= set(ext["commands"].get(key, []))
            return key, allowed
    raise AssertionError(f"az subcommand of {argv} is not in {TABLE['azure-cli']}'s table")


COMMANDS = az_commands(SPEC) + az_commands(WITH_SUBSCRIPTION)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c.argv[1:4]))
def test_az_flags_exist(command: Command) -> None:
    key, allowed = az_allowed(command.argv)
    unknown = [f for f in flags_of(command.argv) if f not in allowed]
    assert unknown == [], f"az {key} (azure-cli {TABLE['azure-cli']}) has no {unknown}"


def unknown_az_flags(argv: tuple[str, ...] | list[str]) -> list[str]:
    """Flags of an ``az`` argv its subcommand does not have (used on the fakes' logs too)."""
    full = ("az", *argv[1:]) if argv[0] == "az" else ("az", *argv)
    _, allowed = az_allowed(full)
    return [f for f in flags_of(full) if f not in allowed]


def test_a_misspelt_flag_is_caught() -> None:
    assert unknown_az_flags(("az", "group", "create", "--name", "x", "--locaton", "y")) == [
        "--locaton"
    ]
    with pytest.raises(AssertionError, match=r"not in 2\.91\.0's table"):
        az_allowed(("az", "aks", "frobnicate"))


def test_kube_proxy_config_comes_from_the_aks_preview_extension() -> None:
    assert "--kube-proxy-config" not in TABLE["commands"]["aks create"]
    assert TABLE["extensions"]["aks-preview"]["commands"]["aks create"] == ["--kube-proxy-config"]
    assert "--kube-proxy-config" in plan.aks_create(SETTINGS, SPEC).argv
    assert plan.AKS_PREVIEW == "aks-preview"


@pytest.mark.parametrize(
    "command",
    [plan.cilium_install(SETTINGS), plan.eso_install(SETTINGS, SPEC, "client-id")],
    ids=["cilium", "external-secrets"],
)
def test_helm_flags_exist(command: Command, reference: dict[str, Any]) -> None:  # noqa: F811
    unknown = [f for f in flags_of(command.argv) if f not in allowed_flags(reference, command.argv)]
    assert unknown == []
