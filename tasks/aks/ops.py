"""What each aks task does, as operations (tasks.core.operation): facts first, then only what is
missing. The task layer takes the lock and hands each operation to its runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.aks import facts, plan
from tasks.aks.facts import Fact, placeholder
from tasks.core import console
from tasks.core import operation as op
from tasks.core.errors import ConfigError, UserError
from tasks.core.runner import Runner
from tasks.core.steps import Command, MakeDir, Remove, WriteFile

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.aks.settings import Settings
    from tasks.aks.spec import AksSpec
    from tasks.core.operation import Op

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
    """What the operations read; ``runner`` is the task layer's (no operation uses it)."""

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

    @property
    def state_dir(self) -> MakeDir:
        """The step creating the AKS state directory."""
        return MakeDir(self.settings.state.root, mode=0o700, step="the AKS state directory")


@contextmanager
def locked(env: Env) -> Iterator[None]:
    """One changing aks task at a time per AKS state directory (a plan takes no lock)."""
    from tasks.core.lock import cluster_held

    with cluster_held(env.c, env.settings.state, "the AKS state"):
        yield


def _ensure(show: Command, create: Command) -> Op[Fact]:
    """The resource as ``show`` finds it, created first when missing."""
    found = yield from facts.show(show)
    if found.exists:
        console.info(f"{show.step}: exists")
        return found
    result = yield from op.run(create)
    yield op.Report(f"{create.step}: done")
    data = facts.parse(result.stdout, create.step) if result.observed else None
    return Fact(data, observed=result.observed)


def _role(
    spec: AksSpec, principal: str, role: str, scope: str, kind: str = "ServicePrincipal"
) -> Op[None]:
    if facts.is_placeholder(principal) or facts.is_placeholder(scope):
        listed = Fact(None, observed=False)  # planning: what it names does not exist yet
    else:
        listed = yield from facts.show(plan.role_list(spec, principal, role, scope))
    if listed.observed and listed.data:
        console.info(f"{role} for {principal}: exists")
        return
    yield plan.role_create(spec, principal, role, scope, kind)
    yield op.Report(f"{role} granted to {principal}")


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


def _signed_in(spec: AksSpec) -> Op[tuple[str, str]]:
    """Object ID and principal type of whoever runs this (a user, or a service principal)."""
    account = yield from facts.show(plan.account(spec))
    if account.observed and not account.exists:
        raise UserError(f"az is not logged in. Run `az login`. {facts.LOGIN_HINT}")
    if account.get("user", "type") == "servicePrincipal":
        sp = yield from facts.show(plan.service_principal(spec, account.get("user", "name")))
        return sp.get("id", default=placeholder("your object ID")), "ServicePrincipal"
    user = yield from facts.show(plan.signed_in_user(spec))
    return user.get("id", default=placeholder("your object ID")), "User"


def _preview(spec: AksSpec) -> Op[None]:
    """aks-preview and the kube-proxy feature: ``--kube-proxy-config`` needs both."""
    if (yield from facts.show(plan.extension_show())).exists:
        console.info(f"az extension {plan.AKS_PREVIEW}: installed")
    else:
        yield plan.extension_add()
        yield op.Report(f"az extension {plan.AKS_PREVIEW}: installed")
    feature = yield from facts.show(plan.feature_show(spec))
    state = facts.feature_state(feature)
    if state == "Registered":
        console.info(f"feature {plan.KUBE_PROXY_FEATURE}: Registered")
        return
    if state != "Registering":
        yield plan.feature_register(spec)
    yield plan.provider_register(spec)
    if feature.observed:
        raise UserError(
            f"The feature {plan.KUBE_PROXY_FEATURE} is being registered (state "
            f"{state or 'unknown'}); this takes a few minutes. Run `inv aks.up` again once "
            f"`az feature show --namespace {plan.CONTAINER_SERVICE} --name "
            f"{plan.KUBE_PROXY_FEATURE}` says Registered: what exists is kept.",
            code=75,
        )


def up(env: Env) -> Op[None]:
    spec, s = env.spec, env.settings
    check_tree(spec, s.deploy, s.spec_file)
    me, my_kind = yield from _signed_in(spec)
    yield from _preview(spec)
    groups: dict[str, Fact] = {}
    for name in (
        spec.resource_groups.cluster,
        spec.resource_groups.network,
        spec.resource_groups.backups,
    ):
        groups[name] = yield from _ensure(
            plan.group_show(spec, name), plan.group_create(spec, name)
        )
    cluster = yield from facts.show(plan.aks_show(spec))
    if cluster.exists:
        console.info(f"AKS cluster {spec.cluster.name}: exists")
    else:
        yield env.state_dir
        yield WriteFile(s.kube_proxy_config, plan.KUBE_PROXY_CONFIG, step="kube-proxy disabled")
        result = yield from op.run(plan.aks_create(s, spec))
        yield op.Report(f"AKS cluster {spec.cluster.name}: created")
        if result.observed:
            cluster = Fact(facts.parse(result.stdout, "az aks create"), observed=True)
    principal = cluster.get(
        "identity", "principalId", default=placeholder(f"identity of {spec.cluster.name}")
    )
    issuer = cluster.get(
        "oidcIssuerProfile", "issuerUrl", default=placeholder("OIDC issuer of the cluster")
    )

    yield from _ensure(plan.public_ip_show(spec), plan.public_ip_create(spec))
    network = groups[spec.resource_groups.network]
    network_id = network.get("id", default=placeholder(f"ID of {spec.resource_groups.network}"))
    yield from _role(spec, principal, plan.NETWORK_CONTRIBUTOR, network_id)

    vault = yield from _ensure(plan.keyvault_show(spec), plan.keyvault_create(spec))
    vault_id = vault.get("id", default=placeholder(f"ID of {spec.key_vault.name}"))
    yield from _role(spec, me, plan.KEY_VAULT_SECRETS_OFFICER, vault_id, my_kind)
    yield from _age_key(env)

    yield from _ensure(plan.storage_show(spec), plan.storage_create(spec))
    for container in spec.storage.containers:
        yield from _ensure(
            plan.container_show(spec, container), plan.container_create(spec, container)
        )
    yield from _pg_backup_secrets(env)
    backups = groups[spec.resource_groups.backups]
    yield from _velero_credentials(
        env, backups.get("id", default=placeholder(f"ID of {spec.resource_groups.backups}"))
    )

    identity = yield from _ensure(plan.identity_show(spec), plan.identity_create(spec))
    yield from _ensure(plan.federation_show(spec), plan.federation_create(spec, issuer))
    identity_principal = identity.get(
        "principalId", default=placeholder(f"principal of {spec.external_secrets.identity}")
    )
    yield from _role(spec, identity_principal, plan.KEY_VAULT_SECRETS_USER, vault_id)
    yield op.Proof(lambda: console.ok(f"AKS {spec.cluster.name} is up: next `inv aks.bootstrap`"))


def _age_key(env: Env) -> Op[None]:
    spec, s = env.spec, env.settings
    name = spec.key_vault.age_key_secret
    if (yield from facts.show(plan.secret_show(spec, name))).exists:
        console.info(f"Key Vault secret {name}: exists")
        return
    yield op.Proof(lambda: _require_age_key(s.age_key_file))
    yield plan.secret_set(spec, name, s.age_key_file)
    yield op.Report(f"Key Vault secret {name}: stored from {s.age_key_file}")


def _require_age_key(path: Path) -> None:
    if not path.is_file():
        raise UserError(
            f"{path}: no age key to store in Key Vault (the key the sops files are encrypted "
            "to). Point aks.age_key_file (INVOKE_AKS_AGE_KEY_FILE) or SOPS_AGE_KEY_FILE at it."
        )


def _missing_secrets(spec: AksSpec, names: tuple[str, ...], what: str) -> Op[list[str]]:
    missing = []
    for name in names:
        if not (yield from facts.show(plan.secret_show(spec, name))).exists:
            missing.append(name)
    if not missing:
        console.info(f"Key Vault secrets for {what}: exist")
    return missing


def _store_secrets(env: Env, values: dict[str, str]) -> Op[None]:
    """Each value into Key Vault through a 0600 file removed right after (never in an argv)."""
    yield env.state_dir
    for name, value in values.items():
        file = env.settings.state.path(f".{name}")
        yield WriteFile(file, value, secret=True, step=f"{name} for az --file")
        try:
            yield plan.secret_set(env.spec, name, file)
        finally:
            yield Remove(file, step=f"{name} (no longer needed)")
        yield op.Report(f"Key Vault secret {name}: stored")


def _pg_backup_secrets(env: Env) -> Op[None]:
    """The storage account name and key for CloudNativePG's Barman plugin."""
    spec = env.spec
    missing = yield from _missing_secrets(
        spec, (PG_ACCOUNT_ENTRY, PG_KEY_ENTRY), "the CloudNativePG backups"
    )
    if not missing:
        return
    values = {PG_ACCOUNT_ENTRY: spec.storage.account}
    if PG_KEY_ENTRY in missing:
        key = yield from op.probe(plan.storage_key(spec))
        if key.observed and not key.ok:
            raise UserError(f"Cannot read the key of {spec.storage.account}: {key.stderr.strip()}")
        value = (
            str(facts.parse(key.stdout, "storage account keys list", secret=True) or "")
            if key.observed
            else ""
        )
        yield op.Secret((value,))
        values[PG_KEY_ENTRY] = value
    yield from _store_secrets(env, {n: values[n] for n in missing})


def _velero_credentials(env: Env, backups_id: str) -> Op[None]:
    """Velero's service principal and the four values its credentials file is assembled from.
    The principal is created (or its password reset) only when Key Vault lacks one of them, so
    the password Key Vault holds is always the one that works."""
    spec = env.spec
    if not (yield from _missing_secrets(spec, VELERO_ENTRIES, "Velero")):
        return
    created = yield from op.run(plan.velero_principal_create(spec, backups_id))
    principal = (
        facts.parse(created.stdout, "az ad sp create-for-rbac", secret=True)
        if created.observed
        else {}
    )
    if not isinstance(principal, dict):
        principal = {}
    password = str(principal.get("password") or "")
    yield op.Secret((password,))
    account = yield from facts.show(plan.account(spec))
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
    yield from _store_secrets(env, values)


# -- aks.credentials ----------------------------------------------------------------------------


def credentials(env: Env) -> Op[None]:
    yield env.state_dir
    yield plan.get_credentials(env.settings, env.spec)
    yield op.Report(f"kubeconfig: {env.settings.kubeconfig}")


# -- aks.status ---------------------------------------------------------------------------------


def status_rows(spec: AksSpec) -> Op[list[tuple[str, str, str]]]:
    rows: list[tuple[str, str, str]] = []

    def row(kind: str, name: str, show: Command, state: Callable[[Fact], str]) -> Op[None]:
        found = yield from facts.show(show)
        text = state(found) if found.exists else ("missing" if found.observed else "unknown")
        rows.append((kind, name, text))

    for group in (
        spec.resource_groups.cluster,
        spec.resource_groups.network,
        spec.resource_groups.backups,
    ):
        yield from row(
            "resource group",
            group,
            plan.group_show(spec, group),
            lambda f: f.get("properties", "provisioningState"),
        )
    yield from row(
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
    yield from row(
        "public IP",
        spec.gateway_ip,
        plan.public_ip_show(spec),
        lambda f: f.get("ipAddress", default="(no address yet)"),
    )
    yield from row(
        "Key Vault",
        spec.key_vault.name,
        plan.keyvault_show(spec),
        lambda f: f.get("properties", "vaultUri"),
    )
    yield from row(
        "storage account",
        spec.storage.account,
        plan.storage_show(spec),
        lambda f: f.get("provisioningState"),
    )
    yield from row(
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


def destroy(env: Env, *, yes: bool, network: bool, backups: bool) -> Op[None]:
    spec = env.spec
    wanted = [spec.resource_groups.cluster]
    if network:
        wanted.append(spec.resource_groups.network)
    if backups:
        wanted.append(spec.resource_groups.backups)
    present = []
    for group in wanted:
        if _there_or_unknown((yield from facts.show(plan.group_show(spec, group)))):
            present.append(group)
    if not present:
        console.info(f"nothing to delete: {', '.join(wanted)} do not exist")
        return
    yield op.Confirm(
        f"Delete resource group(s) {', '.join(present)} and everything in them "
        f"(cluster {spec.cluster.name}{', the Gateway IP' if network else ''}"
        f"{', every backup' if backups else ''})?",
        yes,
    )
    for group in present:
        yield plan.group_delete(spec, group, env.settings.timeouts.delete)
        yield op.Report(f"resource group {group}: deleted")
    yield op.Proof(lambda: env.settings.state.forget(FLOW))
