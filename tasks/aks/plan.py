"""Pure plans of the aks tasks: the AKS spec and facts in, ``az``/``kubectl``/``helm`` argv out.

Every ``az`` call names the subscription when the spec has one, asks for JSON (``-o json``) and
keeps warnings off stdout (``--only-show-errors``), so facts parse. Nothing secret is ever in an
argv: Key Vault secrets are set from files (``--file``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core.steps import Command, cmd

if TYPE_CHECKING:
    from tasks.aks.settings import Settings
    from tasks.aks.spec import AksSpec

CONTAINER_SERVICE = "Microsoft.ContainerService"
#: Disabling AKS's kube-proxy (Cilium replaces it) is an AKS preview: the aks-preview extension
#: (0.5.105 or later) adds ``--kube-proxy-config`` and the subscription needs this feature.
KUBE_PROXY_FEATURE = "KubeProxyConfigurationPreview"
AKS_PREVIEW = "aks-preview"
#: ``enabled: false``: no managed kube-proxy DaemonSet (the --kube-proxy-config file).
KUBE_PROXY_CONFIG = '{"enabled": false}\n'
NETWORK_CONTRIBUTOR = "Network Contributor"
KEY_VAULT_SECRETS_USER = "Key Vault Secrets User"
#: The Key Vault uses Azure RBAC: whoever runs aks.up needs this role to store secrets in it.
KEY_VAULT_SECRETS_OFFICER = "Key Vault Secrets Officer"
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
ESO_REPO = "https://charts.external-secrets.io"
GATEWAY_API_CRDS = "infrastructure/gateway-api-crds"
WORKLOAD_IDENTITY_CLIENT_ID = "serviceAccount.annotations.azure\\.workload\\.identity/client-id"
WORKLOAD_IDENTITY_USE = "podLabels.azure\\.workload\\.identity/use"


def az(
    spec: AksSpec,
    *args: str | Path,
    step: str,
    timeout: float | None = None,
    read_only: bool = False,
    subscription: bool = True,
) -> Command:
    """``subscription=False`` for commands about the signed-in identity (Entra ID, not ARM)."""
    sub = ("--subscription", spec.subscription) if spec.subscription and subscription else ()
    return Command(
        ("az", *(str(a) for a in args), *sub, "--only-show-errors", "-o", "json"),
        step=step,
        timeout=timeout,
        read_only=read_only,
    )


def probe(spec: AksSpec, *args: str, step: str, subscription: bool = True) -> Command:
    """A read-only ``az ... show``/``list``: it runs under ``--dry`` too when az exists."""
    return az(spec, *args, step=step, read_only=True, subscription=subscription)


# -- prerequisites ------------------------------------------------------------------------------


def account(spec: AksSpec) -> Command:
    return probe(spec, "account", "show", step="the Azure account az is logged in to")


def extension_show() -> Command:
    return Command(
        ("az", "extension", "show", "--name", AKS_PREVIEW, "-o", "json"),
        step="the aks-preview extension",
        read_only=True,
    )


def extension_add() -> Command:
    return cmd(
        "az",
        "extension",
        "add",
        "--name",
        AKS_PREVIEW,
        "--only-show-errors",
        step="install the aks-preview extension (--kube-proxy-config)",
    )


def feature_show(spec: AksSpec) -> Command:
    return probe(
        spec,
        "feature",
        "show",
        "--namespace",
        CONTAINER_SERVICE,
        "--name",
        KUBE_PROXY_FEATURE,
        step=f"the {KUBE_PROXY_FEATURE} feature",
    )


def feature_register(spec: AksSpec) -> Command:
    return az(
        spec,
        "feature",
        "register",
        "--namespace",
        CONTAINER_SERVICE,
        "--name",
        KUBE_PROXY_FEATURE,
        step=f"register the {KUBE_PROXY_FEATURE} feature",
    )


def provider_register(spec: AksSpec) -> Command:
    return az(
        spec,
        "provider",
        "register",
        "--namespace",
        CONTAINER_SERVICE,
        step=f"re-register {CONTAINER_SERVICE} so the feature takes effect",
    )


# -- resources ----------------------------------------------------------------------------------


def _show(spec: AksSpec, noun: str, group: str, name: str) -> Command:
    """``az <noun> show --resource-group G --name N``: the probe of one named resource."""
    return probe(
        spec,
        *noun.split(),
        "show",
        "--resource-group",
        group,
        "--name",
        name,
        step=f"{noun} {name}",
    )


def _create(
    spec: AksSpec,
    noun: str,
    group: str,
    name: str,
    *extra: str | Path,
    step: str = "",
    timeout: float | None = None,
) -> Command:
    return az(
        spec,
        *noun.split(),
        "create",
        "--resource-group",
        group,
        "--name",
        name,
        "--location",
        spec.location,
        *extra,
        step=step or f"create {noun} {name}",
        timeout=timeout,
    )


def group_show(spec: AksSpec, name: str) -> Command:
    return probe(spec, "group", "show", "--name", name, step=f"resource group {name}")


def group_create(spec: AksSpec, name: str) -> Command:
    return az(
        spec,
        "group",
        "create",
        "--name",
        name,
        "--location",
        spec.location,
        step=f"create resource group {name}",
    )


def group_delete(spec: AksSpec, name: str, timeout: float) -> Command:
    return az(
        spec,
        "group",
        "delete",
        "--name",
        name,
        "--yes",
        step=f"delete resource group {name} and everything in it",
        timeout=timeout,
    )


def aks_show(spec: AksSpec) -> Command:
    return _show(spec, "aks", spec.resource_groups.cluster, spec.cluster.name)


def aks_create(settings: Settings, spec: AksSpec) -> Command:
    """BYO CNI without kube-proxy (Cilium is both), OIDC issuer and workload identity (External
    Secrets reads Key Vault as a federated managed identity)."""
    c = spec.cluster
    version = ("--kubernetes-version", c.kubernetes_version) if c.kubernetes_version else ()
    return _create(
        spec,
        "aks",
        spec.resource_groups.cluster,
        c.name,
        "--node-count",
        str(c.node_count),
        "--node-vm-size",
        c.node_vm_size,
        *version,
        "--network-plugin",
        "none",
        "--kube-proxy-config",
        settings.kube_proxy_config,
        "--enable-oidc-issuer",
        "--enable-workload-identity",
        "--generate-ssh-keys",
        step=f"create AKS cluster {c.name} (about 10 minutes)",
        timeout=settings.timeouts.create,
    )


def public_ip_show(spec: AksSpec) -> Command:
    return _show(spec, "network public-ip", spec.resource_groups.network, spec.gateway_ip)


def public_ip_create(spec: AksSpec) -> Command:
    return _create(
        spec,
        "network public-ip",
        spec.resource_groups.network,
        spec.gateway_ip,
        "--sku",
        "Standard",
        "--allocation-method",
        "Static",
        step=f"create the Gateway's static public IP {spec.gateway_ip}",
    )


def role_list(spec: AksSpec, principal: str, role: str, scope: str) -> Command:
    return probe(
        spec,
        "role",
        "assignment",
        "list",
        "--assignee",
        principal,
        "--role",
        role,
        "--scope",
        scope,
        step=f"{role} for {principal}",
    )


def signed_in_user(spec: AksSpec) -> Command:
    return probe(
        spec,
        "ad",
        "signed-in-user",
        "show",
        step="the signed-in user's object ID",
        subscription=False,
    )


def service_principal(spec: AksSpec, app_id: str) -> Command:
    return probe(spec, "ad", "sp", "show", "--id", app_id, step="its object ID", subscription=False)


def role_create(
    spec: AksSpec, principal: str, role: str, scope: str, kind: str = "ServicePrincipal"
) -> Command:
    return az(
        spec,
        "role",
        "assignment",
        "create",
        "--assignee-object-id",
        principal,
        "--assignee-principal-type",
        kind,
        "--role",
        role,
        "--scope",
        scope,
        step=f"grant {role} to {principal}",
    )


def keyvault_show(spec: AksSpec) -> Command:
    return _show(spec, "keyvault", spec.resource_groups.cluster, spec.key_vault.name)


def keyvault_create(spec: AksSpec) -> Command:
    return _create(
        spec,
        "keyvault",
        spec.resource_groups.cluster,
        spec.key_vault.name,
        "--enable-rbac-authorization",
        "true",
    )


def secret_show(spec: AksSpec, name: str) -> Command:
    """``--query id``: whether it exists, without the value ever reaching this process."""
    command = probe(
        spec,
        "keyvault",
        "secret",
        "show",
        "--vault-name",
        spec.key_vault.name,
        "--name",
        name,
        step=f"Key Vault secret {name}",
    )
    return Command((*command.argv, "--query", "id"), step=command.step, read_only=True)


def secret_set(spec: AksSpec, name: str, file: Path) -> Command:
    return az(
        spec,
        "keyvault",
        "secret",
        "set",
        "--vault-name",
        spec.key_vault.name,
        "--name",
        name,
        "--file",
        file,
        "--query",
        "id",
        step=f"store {file.name} as Key Vault secret {name}",
    )


def storage_show(spec: AksSpec) -> Command:
    return _show(spec, "storage account", spec.resource_groups.backups, spec.storage.account)


def velero_principal_name(spec: AksSpec) -> str:
    return f"{spec.cluster.name}-velero"


def velero_principal_create(spec: AksSpec, scope: str) -> Command:
    """Velero's service principal, Contributor on the backups resource group (snapshots and
    blobs live there). Its password is in the output: a secret the runner masks."""
    return az(
        spec,
        "ad",
        "sp",
        "create-for-rbac",
        "--name",
        velero_principal_name(spec),
        "--role",
        "Contributor",
        "--scopes",
        scope,
        step=f"create Velero's service principal {velero_principal_name(spec)}",
    )


def storage_key(spec: AksSpec) -> Command:
    """The account key CloudNativePG's Barman plugin needs (a secret: the runner masks it)."""
    command = probe(
        spec,
        "storage",
        "account",
        "keys",
        "list",
        "--resource-group",
        spec.resource_groups.backups,
        "--account-name",
        spec.storage.account,
        step=f"the key of storage account {spec.storage.account}",
    )
    return Command((*command.argv, "--query", "[0].value"), step=command.step, read_only=True)


def storage_create(spec: AksSpec) -> Command:
    return _create(
        spec,
        "storage account",
        spec.resource_groups.backups,
        spec.storage.account,
        "--sku",
        "Standard_LRS",
        "--kind",
        "StorageV2",
    )


#: ``--auth-mode key``: az looks the account key up itself (ARM permission the creator has);
#: ``login`` would need a data-plane role (Storage Blob Data Contributor) assigned first.
def container_show(spec: AksSpec, name: str) -> Command:
    return probe(
        spec,
        "storage",
        "container",
        "show",
        "--account-name",
        spec.storage.account,
        "--name",
        name,
        "--auth-mode",
        "key",
        step=f"blob container {name}",
    )


def container_create(spec: AksSpec, name: str) -> Command:
    return az(
        spec,
        "storage",
        "container",
        "create",
        "--account-name",
        spec.storage.account,
        "--name",
        name,
        "--auth-mode",
        "key",
        step=f"create blob container {name}",
    )


def identity_show(spec: AksSpec) -> Command:
    return _show(spec, "identity", spec.resource_groups.cluster, spec.external_secrets.identity)


def identity_create(spec: AksSpec) -> Command:
    return _create(
        spec,
        "identity",
        spec.resource_groups.cluster,
        spec.external_secrets.identity,
        step=f"create managed identity {spec.external_secrets.identity} (External Secrets)",
    )


def federation_show(spec: AksSpec) -> Command:
    eso = spec.external_secrets
    return probe(
        spec,
        "identity",
        "federated-credential",
        "show",
        "--resource-group",
        spec.resource_groups.cluster,
        "--identity-name",
        eso.identity,
        "--name",
        eso.service_account,
        step=f"federated credential {eso.service_account}",
    )


def federation_create(spec: AksSpec, issuer: str) -> Command:
    eso = spec.external_secrets
    return az(
        spec,
        "identity",
        "federated-credential",
        "create",
        "--resource-group",
        spec.resource_groups.cluster,
        "--identity-name",
        eso.identity,
        "--name",
        eso.service_account,
        "--issuer",
        issuer,
        "--subject",
        spec.federated_subject,
        "--audiences",
        FEDERATION_AUDIENCE,
        step=f"federate {spec.federated_subject} to {eso.identity}",
    )


def get_credentials(settings: Settings, spec: AksSpec) -> Command:
    c = spec.cluster
    return az(
        spec,
        "aks",
        "get-credentials",
        "--resource-group",
        spec.resource_groups.cluster,
        "--name",
        c.name,
        "--file",
        settings.kubeconfig,
        "--overwrite-existing",
        step=f"kubeconfig of {c.name}",
    )


# -- in the cluster -----------------------------------------------------------------------------


def kubectl(settings: Settings, *args: str | Path, step: str, stdin: str | None = None) -> Command:
    return cmd(
        "kubectl",
        "--kubeconfig",
        settings.kubeconfig,
        *args,
        step=step,
        stdin=stdin,
        timeout=settings.timeouts.command,
    )


def api_server_configmap(fqdn: str) -> str:
    """The ConfigMap Cilium's values-aks.yaml reads the API server from (no KubePrism on AKS)."""
    from tasks.core import yamldata

    return yamldata.dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "aks-api-server", "namespace": "kube-system"},
            "data": {"host": fqdn},
        }
    )


def apply_stdin(settings: Settings, text: str, step: str) -> Command:
    return kubectl(settings, "apply", "--server-side", "--filename", "-", step=step, stdin=text)


def gateway_api_crds(settings: Settings) -> Command:
    return kubectl(
        settings,
        "apply",
        "--server-side",
        "--force-conflicts",
        "--kustomize",
        settings.deploy / GATEWAY_API_CRDS,
        step="install the Gateway API CRDs",
    )


def cilium_install(settings: Settings) -> Command:
    chart = settings.deploy / "infrastructure/cilium"
    t = settings.timeouts.helm
    return cmd(
        "helm",
        "upgrade",
        "--install",
        "cilium",
        chart,
        "--dependency-update",
        "--namespace",
        "kube-system",
        "--values",
        chart / "values.yaml",
        "--values",
        chart / "values-aks.yaml",
        "--wait",
        "--timeout",
        f"{int(t)}s",
        "--kubeconfig",
        settings.kubeconfig,
        step="install Cilium with values-aks.yaml",
        timeout=t + 60,
    )


def eso_install(settings: Settings, spec: AksSpec, client_id: str) -> Command:
    eso = spec.external_secrets
    t = settings.timeouts.helm
    return cmd(
        "helm",
        "upgrade",
        "--install",
        "external-secrets",
        "external-secrets",
        "--repo",
        ESO_REPO,
        "--version",
        eso.chart_version,
        "--namespace",
        eso.namespace,
        "--create-namespace",
        "--set-string",
        f"{WORKLOAD_IDENTITY_CLIENT_ID}={client_id}",
        "--set-string",
        f"{WORKLOAD_IDENTITY_USE}=true",
        "--wait",
        "--timeout",
        f"{int(t)}s",
        "--kubeconfig",
        settings.kubeconfig,
        step=f"install External Secrets Operator {eso.chart_version}",
        timeout=t + 60,
    )


def aks_bootstrap(settings: Settings) -> Command:
    return kubectl(
        settings,
        "apply",
        "--kustomize",
        settings.deploy / "aks/bootstrap",
        step="apply deploy/aks/bootstrap (Key Vault store, helm-secrets key, backup credentials)",
    )


def root_application(settings: Settings) -> Command:
    return kubectl(
        settings,
        "apply",
        "--filename",
        settings.deploy / "bootstrap/root-application.yaml",
        step="apply the root Application",
    )
