"""What each aks task does, through the one runner: facts first, then only what is missing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.aks import facts, plan
from tasks.aks.facts import Fact, placeholder
from tasks.core import console
from tasks.core.errors import ConfigError, UserError
from tasks.core.runner import Command, MakeDir, Remove, Runner, WriteFile

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.aks.settings import Settings
    from tasks.aks.spec import AksSpec

FLOW = "aks.bootstrap"
#: Key Vault secrets the CloudNativePG backups read (deploy/aks/bootstrap/pg-backup-credentials).
PG_ACCOUNT_ENTRY = "pg-backup-storage-account"
PG_KEY_ENTRY = "pg-backup-storage-key"
#: Key Vault secrets deploy/aks/bootstrap/velero-credentials.yaml reads.
VELERO_ENTRIES = (
    "velero-subscription-id",
    "velero-tenant-id",
    "velero-client-id",
    "velero-client-secret",
)


@dataclass(frozen=True)
class Env:
    c: Context
    spec: AksSpec
    settings: Settings
    runner: Runner

    @classmethod
    def load(cls, c: Context) -> Env:
        from tasks.aks import spec as spec_mod
        from tasks.aks.settings import Settings

        path = Settings.from_context(c).spec_file
        loaded = spec_mod.load(path)
        return cls(c, loaded.spec, Settings.from_context(c, loaded.spec), Runner.from_context(c))

    def ensure_state(self) -> None:
        self.runner.make_dir(
            MakeDir(self.settings.state.root, mode=0o700, step="the AKS state directory")
        )


@contextmanager
def locked(env: Env) -> Iterator[None]:
    """One changing aks task at a time per AKS state directory (a plan takes no lock)."""
    from tasks.core.lock import cluster_held

    with cluster_held(env.c, env.settings.state, "the AKS state"):
        yield


def _ensure(env: Env, show: Command, create: Command) -> Fact:
    """The resource as ``show`` finds it, created first when missing."""
    found = facts.probe(env.runner, show)
    if found.exists:
        console.info(f"{show.step}: exists")
        return found
    result = env.runner.run(create)
    env.runner.report(f"{create.step}: done")
    data = facts.parse(result.stdout, create.step) if result.observed else None
    return Fact(data, observed=result.observed)


def _role(env: Env, principal: str, role: str, scope: str, kind: str = "ServicePrincipal") -> None:
    spec = env.spec
    if facts.is_placeholder(principal) or facts.is_placeholder(scope):
        listed = Fact(None, observed=False)  # planning: what it names does not exist yet
    else:
        listed = facts.probe(env.runner, plan.role_list(spec, principal, role, scope))
    if listed.observed and listed.data:
        console.info(f"{role} for {principal}: exists")
        return
    env.runner.run(plan.role_create(spec, principal, role, scope, kind))
    env.runner.report(f"{role} granted to {principal}")


def check_tree(spec: AksSpec, deploy: Path, spec_file: Path) -> None:
    from tasks.aks.spec import tree_mismatches

    problems = tree_mismatches(spec, deploy)
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        raise ConfigError(
            f"{spec_file} and deploy/ name Azure resources differently:\n{lines}\n"
            "Rename both together (the tree is what Argo CD applies)."
        )


# -- aks.up -------------------------------------------------------------------------------------


def _signed_in(env: Env) -> tuple[str, str]:
    """Object ID and principal type of whoever runs this (a user, or a service principal)."""
    account = facts.probe(env.runner, plan.account(env.spec))
    if account.observed and not account.exists:
        raise UserError(f"az is not logged in. Run `az login`. {facts.LOGIN_HINT}")
    if account.get("user", "type") == "servicePrincipal":
        sp = facts.probe(env.runner, plan.service_principal(env.spec, account.get("user", "name")))
        return sp.get("id", default=placeholder("your object ID")), "ServicePrincipal"
    user = facts.probe(env.runner, plan.signed_in_user(env.spec))
    return user.get("id", default=placeholder("your object ID")), "User"


def _preview(env: Env) -> None:
    """aks-preview and the kube-proxy feature: ``--kube-proxy-config`` needs both."""
    runner, spec = env.runner, env.spec
    if facts.probe(runner, plan.extension_show()).exists:
        console.info(f"az extension {plan.AKS_PREVIEW}: installed")
    else:
        runner.run(plan.extension_add())
        runner.report(f"az extension {plan.AKS_PREVIEW}: installed")
    feature = facts.probe(runner, plan.feature_show(spec))
    state = facts.feature_state(feature)
    if state == "Registered":
        console.info(f"feature {plan.KUBE_PROXY_FEATURE}: Registered")
        return
    if state != "Registering":
        runner.run(plan.feature_register(spec))
    runner.run(plan.provider_register(spec))
    if feature.observed:
        raise UserError(
            f"The feature {plan.KUBE_PROXY_FEATURE} is being registered (state "
            f"{state or 'unknown'}); this takes a few minutes. Run `inv aks.up` again once "
            f"`az feature show --namespace {plan.CONTAINER_SERVICE} --name "
            f"{plan.KUBE_PROXY_FEATURE}` says Registered: what exists is kept.",
            code=75,
        )


def up(env: Env) -> None:
    spec, s, runner = env.spec, env.settings, env.runner
    check_tree(spec, s.deploy, s.spec_file)
    me, my_kind = _signed_in(env)
    _preview(env)
    groups = {
        name: _ensure(env, plan.group_show(spec, name), plan.group_create(spec, name))
        for name in (
            spec.resource_groups.cluster,
            spec.resource_groups.network,
            spec.resource_groups.backups,
        )
    }
    cluster = facts.probe(runner, plan.aks_show(spec))
    if cluster.exists:
        console.info(f"AKS cluster {spec.cluster.name}: exists")
    else:
        env.ensure_state()
        runner.write(
            WriteFile(s.kube_proxy_config, plan.KUBE_PROXY_CONFIG, step="kube-proxy disabled")
        )
        result = runner.run(plan.aks_create(s, spec))
        runner.report(f"AKS cluster {spec.cluster.name}: created")
        if result.observed:
            cluster = Fact(facts.parse(result.stdout, "az aks create"), observed=True)
    principal = cluster.get(
        "identity", "principalId", default=placeholder(f"identity of {spec.cluster.name}")
    )
    issuer = cluster.get(
        "oidcIssuerProfile", "issuerUrl", default=placeholder("OIDC issuer of the cluster")
    )

    _ensure(env, plan.public_ip_show(spec), plan.public_ip_create(spec))
    network = groups[spec.resource_groups.network]
    network_id = network.get("id", default=placeholder(f"ID of {spec.resource_groups.network}"))
    _role(env, principal, plan.NETWORK_CONTRIBUTOR, network_id)

    vault = _ensure(env, plan.keyvault_show(spec), plan.keyvault_create(spec))
    vault_id = vault.get("id", default=placeholder(f"ID of {spec.key_vault.name}"))
    _role(env, me, plan.KEY_VAULT_SECRETS_OFFICER, vault_id, my_kind)
    _age_key(env)

    _ensure(env, plan.storage_show(spec), plan.storage_create(spec))
    for container in spec.storage.containers:
        _ensure(env, plan.container_show(spec, container), plan.container_create(spec, container))
    _pg_backup_secrets(env)
    backups = groups[spec.resource_groups.backups]
    _velero_credentials(
        env, backups.get("id", default=placeholder(f"ID of {spec.resource_groups.backups}"))
    )

    identity = _ensure(env, plan.identity_show(spec), plan.identity_create(spec))
    _ensure(env, plan.federation_show(spec), plan.federation_create(spec, issuer))
    identity_principal = identity.get(
        "principalId", default=placeholder(f"principal of {spec.external_secrets.identity}")
    )
    _role(env, identity_principal, plan.KEY_VAULT_SECRETS_USER, vault_id)
    runner.when_executed(
        lambda: console.ok(f"AKS {spec.cluster.name} is up: next `inv aks.bootstrap`")
    )


def _age_key(env: Env) -> None:
    spec, s = env.spec, env.settings
    name = spec.key_vault.age_key_secret
    if facts.probe(env.runner, plan.secret_show(spec, name)).exists:
        console.info(f"Key Vault secret {name}: exists")
        return
    env.runner.when_executed(lambda: _require_age_key(s.age_key_file))
    env.runner.run(plan.secret_set(spec, name, s.age_key_file))
    env.runner.report(f"Key Vault secret {name}: stored from {s.age_key_file}")


def _require_age_key(path: Path) -> None:
    if not path.is_file():
        raise UserError(
            f"{path}: no age key to store in Key Vault (the key the sops files are encrypted "
            "to). Point aks.age_key_file (INVOKE_AKS_AGE_KEY_FILE) or SOPS_AGE_KEY_FILE at it."
        )


def _missing_secrets(env: Env, names: tuple[str, ...], what: str) -> list[str]:
    missing = [
        n for n in names if not facts.probe(env.runner, plan.secret_show(env.spec, n)).exists
    ]
    if not missing:
        console.info(f"Key Vault secrets for {what}: exist")
    return missing


def _store_secrets(env: Env, values: dict[str, str]) -> None:
    """Each value into Key Vault through a 0600 file removed right after (never in an argv)."""
    env.ensure_state()
    for name, value in values.items():
        file = env.settings.state.path(f".{name}")
        env.runner.write(WriteFile(file, value, secret=True, step=f"{name} for az --file"))
        try:
            env.runner.run(plan.secret_set(env.spec, name, file))
        finally:
            env.runner.remove(Remove(file, step=f"{name} (no longer needed)"))
        env.runner.report(f"Key Vault secret {name}: stored")


def _pg_backup_secrets(env: Env) -> None:
    """The storage account name and key for CloudNativePG's Barman plugin."""
    spec, runner = env.spec, env.runner
    missing = _missing_secrets(env, (PG_ACCOUNT_ENTRY, PG_KEY_ENTRY), "the CloudNativePG backups")
    if not missing:
        return
    values = {PG_ACCOUNT_ENTRY: spec.storage.account}
    if PG_KEY_ENTRY in missing:
        key = runner.check(plan.storage_key(spec))
        if key.observed and not key.ok:
            raise UserError(f"Cannot read the key of {spec.storage.account}: {key.stderr.strip()}")
        value = (
            str(facts.parse(key.stdout, "storage account keys list") or "") if key.observed else ""
        )
        runner.add_secret(value)
        values[PG_KEY_ENTRY] = value
    _store_secrets(env, {n: values[n] for n in missing})


def _velero_credentials(env: Env, backups_id: str) -> None:
    """Velero's service principal and the four values its credentials file is assembled from.
    The principal is created (or its password reset) only when Key Vault lacks one of them, so
    the password Key Vault holds is always the one that works."""
    spec, runner = env.spec, env.runner
    if not _missing_secrets(env, VELERO_ENTRIES, "Velero"):
        return
    created = runner.run(plan.velero_principal_create(spec, backups_id))
    principal = facts.parse(created.stdout, "az ad sp create-for-rbac") if created.observed else {}
    if not isinstance(principal, dict):
        principal = {}
    password = str(principal.get("password") or "")
    runner.add_secret(password)
    account = facts.probe(runner, plan.account(spec))
    values = {
        "velero-subscription-id": str(account.get("id", default="")),
        "velero-tenant-id": str(principal.get("tenant") or account.get("tenantId", default="")),
        "velero-client-id": str(principal.get("appId") or ""),
        "velero-client-secret": password,
    }
    if created.observed and not all(values.values()):
        empty = ", ".join(n for n, v in values.items() if not v)
        raise UserError(
            f"az ad sp create-for-rbac answered without {empty}; nothing was stored. Run "
            f"`inv aks.up` again (it resets the password of {plan.velero_principal_name(spec)})."
        )
    _store_secrets(env, values)


# -- aks.credentials ----------------------------------------------------------------------------


def credentials(env: Env) -> None:
    env.ensure_state()
    env.runner.run(plan.get_credentials(env.settings, env.spec))
    env.runner.report(f"kubeconfig: {env.settings.kubeconfig}")


# -- aks.status ---------------------------------------------------------------------------------


def status_rows(env: Env) -> list[tuple[str, str, str]]:
    spec, runner = env.spec, env.runner
    rows: list[tuple[str, str, str]] = []

    def row(kind: str, name: str, show: Command, state: Callable[[Fact], str]) -> Fact:
        found = facts.probe(runner, show)
        text = state(found) if found.exists else ("missing" if found.observed else "unknown")
        rows.append((kind, name, text))
        return found

    for group in (
        spec.resource_groups.cluster,
        spec.resource_groups.network,
        spec.resource_groups.backups,
    ):
        row(
            "resource group",
            group,
            plan.group_show(spec, group),
            lambda f: f.get("properties", "provisioningState"),
        )
    row(
        "AKS cluster",
        spec.cluster.name,
        plan.aks_show(spec),
        lambda f: " ".join(
            x
            for x in (
                f.get("provisioningState"),
                f.get("powerState", "code"),
                f.get("kubernetesVersion"),
                f.get("fqdn"),
            )
            if x
        ),
    )
    row(
        "public IP",
        spec.gateway_ip,
        plan.public_ip_show(spec),
        lambda f: f.get("ipAddress", default="(no address yet)"),
    )
    row(
        "Key Vault",
        spec.key_vault.name,
        plan.keyvault_show(spec),
        lambda f: f.get("properties", "vaultUri"),
    )
    row(
        "storage account",
        spec.storage.account,
        plan.storage_show(spec),
        lambda f: f.get("provisioningState"),
    )
    row(
        "managed identity",
        spec.external_secrets.identity,
        plan.identity_show(spec),
        lambda f: f"client ID {f.get('clientId')}",
    )
    return rows


# -- aks.destroy --------------------------------------------------------------------------------


def _there_or_unknown(fact: Fact) -> bool:
    """Planning without az: the group may exist, so the plan shows its deletion."""
    return fact.exists or not fact.observed


def destroy(env: Env, *, yes: bool, network: bool, backups: bool) -> None:
    spec, runner = env.spec, env.runner
    wanted = [spec.resource_groups.cluster]
    if network:
        wanted.append(spec.resource_groups.network)
    if backups:
        wanted.append(spec.resource_groups.backups)
    present = [
        g for g in wanted if _there_or_unknown(facts.probe(runner, plan.group_show(spec, g)))
    ]
    if not present:
        console.info(f"nothing to delete: {', '.join(wanted)} do not exist")
        return
    runner.confirm(
        f"Delete resource group(s) {', '.join(present)} and everything in them "
        f"(cluster {spec.cluster.name}{', the Gateway IP' if network else ''}"
        f"{', every backup' if backups else ''})?",
        yes=yes,
    )
    for group in present:
        runner.run(plan.group_delete(spec, group, env.settings.timeouts.delete))
        runner.report(f"resource group {group}: deleted")
    runner.when_executed(lambda: env.settings.state.forget(FLOW))
