"""Pure plans of the ``talos`` namespace: cluster spec + settings + facts in, argv out.

Every talosctl call names its talosconfig, nodes and endpoints explicitly (no dependence on a
current context); per-node calls use the node itself as endpoint, which works before the control
plane is up. kubectl, helm and cilium name the kubeconfig and the context named after the cluster.
Every flag used here is checked against the upstream flag lists in a unit test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core.runner import Command, cmd
from tasks.secrets import plan as secrets_plan

#: The phase markers of ``talos.bootstrap`` (tasks.talos.phases) in the state dir.
BOOTSTRAP_FLOW = "talos.bootstrap"

if TYPE_CHECKING:
    from tasks.core.config import ClusterSpec, Node
    from tasks.talos.settings import Settings

#: What to look at when a wait times out, per kind of wait.
LOOK_AT_MAINTENANCE = (
    "`inv infra.status` (is the VM running, did it get its DHCP lease?), "
    "`inv infra.console NODE` (did it boot the Talos ISO into maintenance mode?)"
)
LOOK_AT_NODE = (
    "`inv talos.dmesg --node NODE`, `inv talos.logs machined --node NODE`, "
    "`inv infra.console NODE` (is it installing or rebooting?)"
)
LOOK_AT_ETCD = (
    "`inv talos.logs etcd`, `inv talos.dmesg`, "
    "`talosctl service etcd` with the generated talosconfig"
)
LOOK_AT_API = "`inv talos.logs kubelet`, `inv talos.logs etcd`, `inv talos.dmesg`"
LOOK_AT_CILIUM = (
    "`kubectl -n kube-system get pods -l k8s-app=cilium`, "
    "`kubectl -n kube-system describe ds cilium`, `inv talos.logs kubelet`"
)
LOOK_AT_NODES = "`kubectl get nodes -o wide`, `cilium status`, `inv talos.logs kubelet --node NODE`"
LOOK_AT_HEALTH = "`inv talos.dashboard`, `inv talos.logs kubelet`, `inv talos.dmesg`"

#: talosctl errors that mean "the node is not answering yet" (booting, installing, rebooting);
#: anything else (a config the node rejects) is not retried.
TRANSIENT = (
    r"connection refused",
    r"Unavailable",
    r"[Dd]eadline ?[Ee]xceeded",
    r"i/o timeout",
    r"no route to host",
    r"connection reset",
    r"\bEOF\b",
    r"timed out",
)

SOPS_HINT = (
    "check that .sops.yaml has a creation rule for the bundle and that your age key is in "
    "SOPS_AGE_KEY_FILE (see `inv secrets.*`)"
)


def contract(spec: ClusterSpec) -> str:
    """The machine-config contract (``v1.13``) for ``--talos-version``."""
    major, minor = spec.versions.talos.split(".")[:2]
    return f"v{major}.{minor}"


def first_control_plane(spec: ClusterSpec) -> Node:
    return spec.control_planes[0]


def seconds(value: float) -> str:
    return f"{max(1, round(value))}s"


# -- talosctl targeting ----------------------------------------------------------------------


def node_target(settings: Settings, node: Node) -> tuple[str, ...]:
    return ("--talosconfig", str(settings.talosconfig), "--nodes", node.ip, "--endpoints", node.ip)


def cluster_target(settings: Settings, spec: ClusterSpec) -> tuple[str, ...]:
    return node_target(settings, first_control_plane(spec))


# -- secrets ---------------------------------------------------------------------------------


def gen_secrets(settings: Settings, spec: ClusterSpec) -> Command:
    return cmd(
        "talosctl",
        "gen",
        "secrets",
        "--output-file",
        settings.generated_secrets,
        "--talos-version",
        contract(spec),
        step="generate the Talos secrets bundle",
    )


def encrypt_secrets(settings: Settings, root: Path, output: str | None = None) -> Command:
    """Encrypt from the state dir straight to the repository path: plaintext never lands there.

    The secrets namespace's command, so sops picks the bundle's creation rule the same way;
    ``output`` is the temporary file the secrets namespace renames into place.
    """
    command = secrets_plan.encrypt_new(
        root, str(settings.secrets_file), source=settings.generated_secrets, output=output
    )
    return replace(command, step="encrypt the Talos secrets bundle", hint=SOPS_HINT)


def decrypt_secrets(settings: Settings, root: Path) -> Command:
    command = secrets_plan.decrypt_to_stdout(root, str(settings.secrets_file))
    return replace(command, step="decrypt the Talos secrets bundle", hint=SOPS_HINT)


# -- machine configs -------------------------------------------------------------------------


def gen_config(settings: Settings, spec: ClusterSpec, install_image: str) -> Command:
    return cmd(
        "talosctl",
        "gen",
        "config",
        spec.cluster.name,
        spec.cluster.endpoint,
        "--with-secrets",
        settings.decrypted_secrets,
        "--install-image",
        install_image,
        "--install-disk",
        settings.install_disk,
        "--kubernetes-version",
        spec.versions.kubernetes,
        "--talos-version",
        contract(spec),
        "--config-patch",
        f"@{settings.patch('common')}",
        "--config-patch-control-plane",
        f"@{settings.patch('controlplane')}",
        "--config-patch-worker",
        f"@{settings.patch('worker')}",
        "--with-docs=false",
        "--with-examples=false",
        "--output",
        settings.config_dir,
        "--force",
        step="generate the machine configs",
    )


def node_config_plan(settings: Settings, node: Node) -> list[Command]:
    """The role config patched with the node's committed patch, then validated."""
    target = settings.node_config(node)
    return [
        cmd(
            "talosctl",
            "machineconfig",
            "patch",
            settings.role_config(node.role),
            "--patch",
            f"@{settings.node_patch(node)}",
            "--output",
            target,
            step=f"patch the {node.role} config for {node.name}",
        ),
        cmd(
            "talosctl",
            "validate",
            "--config",
            target,
            "--mode",
            "metal",
            step=f"validate the machine config of {node.name}",
        ),
    ]


def talosconfig_defaults(settings: Settings, spec: ClusterSpec) -> list[Command]:
    """Endpoints and default node in the talosconfig, for people running talosctl by hand."""
    cps = [n.ip for n in spec.control_planes]
    flag = ("--talosconfig", str(settings.talosconfig))
    return [
        cmd("talosctl", "config", "endpoint", *cps, *flag, step="set talosconfig endpoints"),
        cmd("talosctl", "config", "node", cps[0], *flag, step="set the talosconfig node"),
    ]


# -- nodes -----------------------------------------------------------------------------------


def maintenance_probe(node: Node, timeout: float) -> Command:
    """Succeeds only while the node is in maintenance mode (the insecure API is closed after)."""
    return cmd(
        "talosctl",
        "get",
        "disks",
        "--insecure",
        "--nodes",
        node.ip,
        "--endpoints",
        node.ip,
        step=f"probe {node.name} for maintenance mode",
        timeout=timeout,
        read_only=True,
    )


def version_probe(settings: Settings, node: Node, timeout: float) -> Command:
    return cmd(
        "talosctl",
        "version",
        *node_target(settings, node),
        step=f"ask {node.name} for its Talos version",
        timeout=timeout,
        read_only=True,
    )


def client_version(timeout: float) -> Command:
    return cmd(
        "talosctl",
        "version",
        "--client",
        step="ask talosctl for its own version",
        timeout=timeout,
        read_only=True,
    )


def apply_config(settings: Settings, node: Node, *, insecure: bool) -> Command:
    target = (
        ("--insecure", "--nodes", node.ip, "--endpoints", node.ip)
        if insecure
        else node_target(settings, node)
    )
    return cmd(
        "talosctl",
        "apply-config",
        *target,
        "--file",
        settings.node_config(node),
        step=f"apply the machine config to {node.name}"
        + (" (maintenance mode)" if insecure else ""),
        hint=f"`talosctl validate --config {settings.node_config(node)} --mode metal`, "
        + LOOK_AT_NODE.replace("NODE", node.name),
    )


def bootstrap_etcd(settings: Settings, spec: ClusterSpec) -> Command:
    return cmd(
        "talosctl",
        "bootstrap",
        *cluster_target(settings, spec),
        step=f"bootstrap etcd on {first_control_plane(spec).name}",
        ok_if=("AlreadyExists",),
    )


def fetch_kubeconfig(settings: Settings, spec: ClusterSpec, path: Path | None = None) -> Command:
    return cmd(
        "talosctl",
        "kubeconfig",
        path or settings.kubeconfig,
        *cluster_target(settings, spec),
        "--merge",
        "--force",
        "--force-context-name",
        spec.cluster.name,
        step="fetch the admin kubeconfig",
    )


# -- Kubernetes ------------------------------------------------------------------------------


def kubectl(settings: Settings, *argv: str | Path, step: str, **kwargs: object) -> Command:
    return cmd(
        "kubectl",
        "--kubeconfig",
        settings.kubeconfig,
        "--context",
        settings.cluster,
        *argv,
        step=step,
        **kwargs,
    )


def kubernetes_version(settings: Settings, timeout: float) -> Command:
    return kubectl(
        settings,
        "version",
        "--output",
        "json",
        step="ask the Kubernetes API for its version",
        timeout=timeout,
        read_only=True,
    )


def api_ready(settings: Settings, timeout: float) -> Command:
    return kubectl(
        settings, "get", "--raw", "/readyz", step="ask the Kubernetes API", timeout=timeout
    )


def gateway_api_crds(settings: Settings, kustomize: Path | None, files: Sequence[Path]) -> Command:
    """Server-side (the CRDs outgrow the last-applied annotation); forcing conflicts lets a
    re-run take the fields back from Argo CD, which applies the same release file."""
    source: list[str | Path] = ["--kustomize", kustomize] if kustomize else []
    for f in files:
        source += ["--filename", f]
    return kubectl(
        settings,
        "apply",
        "--server-side",
        "--force-conflicts",
        *source,
        step="install the Gateway API CRDs",
    )


def cilium_repo(settings: Settings) -> Command:
    return cmd(
        "helm",
        "repo",
        "add",
        "cilium",
        settings.cilium_repo,
        "--force-update",
        step="add the Cilium Helm repository",
    )


def cilium_install(settings: Settings, spec: ClusterSpec, values: Path, timeout: float) -> Command:
    chart: list[str | Path] = (
        [settings.cilium_chart]
        if settings.cilium_chart
        else ["cilium/cilium", "--version", spec.versions.cilium]
    )
    return cmd(
        "helm",
        "upgrade",
        "--install",
        "cilium",
        *chart,
        "--namespace",
        "kube-system",
        "--values",
        values,
        "--wait",
        "--timeout",
        seconds(timeout),
        "--kubeconfig",
        settings.kubeconfig,
        "--kube-context",
        settings.cluster,
        step=f"install Cilium {spec.versions.cilium}",
        timeout=timeout + 60,
    )


def cilium_status(settings: Settings, timeout: float) -> Command:
    return cmd(
        "cilium",
        "status",
        "--wait",
        "--wait-duration",
        seconds(timeout),
        "--kubeconfig",
        settings.kubeconfig,
        "--context",
        settings.cluster,
        step="wait for Cilium to be healthy",
        timeout=timeout + 60,
    )


def nodes_ready(settings: Settings, timeout: float) -> Command:
    return kubectl(
        settings,
        "wait",
        "--for=condition=Ready",
        "nodes",
        "--all",
        f"--timeout={seconds(timeout)}",
        step="wait for every node to be Ready",
        timeout=timeout + 60,
    )


# -- day 2 -----------------------------------------------------------------------------------


def health(settings: Settings, spec: ClusterSpec, timeout: float) -> Command:
    return cmd(
        "talosctl",
        "health",
        *cluster_target(settings, spec),
        "--control-plane-nodes",
        ",".join(n.ip for n in spec.control_planes),
        "--worker-nodes",
        ",".join(n.ip for n in spec.workers),
        "--wait-timeout",
        seconds(timeout),
        step="check cluster health",
        timeout=timeout + 60,
        hint=LOOK_AT_HEALTH,
    )


def etcd_snapshot(settings: Settings, spec: ClusterSpec, path: Path) -> Command:
    return cmd(
        "talosctl",
        "etcd",
        "snapshot",
        path,
        *cluster_target(settings, spec),
        step="snapshot etcd",
    )


def upgrade_node(settings: Settings, node: Node, image: str, timeout: float) -> Command:
    return cmd(
        "talosctl",
        "upgrade",
        *node_target(settings, node),
        "--image",
        image,
        "--wait",
        "--timeout",
        seconds(timeout),
        step=f"upgrade {node.name}",
        timeout=timeout + 60,
        hint=LOOK_AT_NODE.replace("NODE", node.name),
    )


def upgrade_k8s(settings: Settings, spec: ClusterSpec, *, preview: bool) -> Command:
    return cmd(
        "talosctl",
        "upgrade-k8s",
        *cluster_target(settings, spec),
        "--to",
        spec.versions.kubernetes,
        *(("--dry-run",) if preview else ()),
        step=f"upgrade Kubernetes to {spec.versions.kubernetes}",
    )


def reset_node(settings: Settings, node: Node) -> Command:
    """Wipe and reboot: a node without Talos on disk boots the ISO back into maintenance mode."""
    return cmd(
        "talosctl",
        "reset",
        *node_target(settings, node),
        "--graceful=false",
        "--reboot",
        "--wait=false",
        step=f"reset {node.name}",
    )


# -- etcd recovery (Talos "Disaster Recovery": wipe etcd's data, bootstrap from a snapshot) ----


def wipe_etcd(settings: Settings, node: Node) -> Command:
    """Wipe only the EPHEMERAL partition (where etcd keeps its data) and reboot: the machine
    config stays, and etcd comes back waiting to be bootstrapped."""
    return cmd(
        "talosctl",
        "reset",
        *node_target(settings, node),
        "--graceful=false",
        "--reboot",
        "--system-labels-to-wipe",
        "EPHEMERAL",
        "--wait=false",
        step=f"wipe etcd's data on {node.name}",
        hint=LOOK_AT_NODE.replace("NODE", node.name),
    )


def etcd_service(settings: Settings, node: Node, timeout: float) -> Command:
    return cmd(
        "talosctl",
        "service",
        "etcd",
        *node_target(settings, node),
        step=f"ask {node.name} for the etcd service state",
        timeout=timeout,
        read_only=True,
    )


def recover_etcd(settings: Settings, spec: ClusterSpec, snapshot: Path) -> Command:
    return cmd(
        "talosctl",
        "bootstrap",
        *cluster_target(settings, spec),
        "--recover-from",
        snapshot,
        step=f"bootstrap etcd on {first_control_plane(spec).name} from {snapshot.name}",
        hint=LOOK_AT_ETCD,
    )


def kubectl_list(
    settings: Settings,
    kinds: str,
    timeout: float,
    *,
    namespace: str | None = None,
    selector: str | None = None,
) -> Command:
    """Every object of ``kinds`` (comma-separated), in all namespaces unless one is named."""
    where = ("--namespace", namespace) if namespace else ("--all-namespaces",)
    return kubectl(
        settings,
        "get",
        kinds,
        *where,
        *(("--selector", selector) if selector else ()),
        "--output",
        "json",
        step=f"list {kinds}",
        timeout=timeout,
        read_only=True,
    )


def raw_post(settings: Settings, path: str, body: str, timeout: float) -> Command:
    """POST ``body`` (JSON, on stdin) to an API-server path: a proxied service or pod."""
    return kubectl(
        settings,
        "create",
        "--raw",
        path,
        "--filename=-",  # stdin; one token so no check mistakes "-" for a flag
        stdin=body,
        step=f"POST {path}",
        timeout=timeout,
    )


def raw_get(settings: Settings, path: str, timeout: float) -> Command:
    return kubectl(
        settings, "get", "--raw", path, step=f"GET {path}", timeout=timeout, read_only=True
    )


def talosconfig_new(settings: Settings, spec: ClusterSpec, output: Path) -> Command:
    """A fresh os:admin client certificate (a year) signed by the cluster, from the current one."""
    return cmd(
        "talosctl",
        "config",
        "new",
        output,
        *cluster_target(settings, spec),
        "--roles",
        "os:admin",
        "--crt-ttl",
        "8760h",
        step="issue a new talosconfig client certificate",
    )


def hubble_secret(settings: Settings, name: str, timeout: float) -> Command:
    return kubectl(
        settings,
        "get",
        "secret",
        name,
        "--namespace",
        "kube-system",
        "--output",
        "json",
        step=f"read the {name} secret",
        timeout=timeout,
        read_only=True,
    )


def dashboard(settings: Settings, spec: ClusterSpec, nodes: Sequence[Node]) -> Command:
    return cmd(
        "talosctl",
        "dashboard",
        "--talosconfig",
        settings.talosconfig,
        "--nodes",
        ",".join(n.ip for n in nodes),
        "--endpoints",
        first_control_plane(spec).ip,
    )


def logs(
    settings: Settings,
    node: Node,
    service: str,
    *,
    kubernetes: bool,
    follow: bool,
    tail: int | None,
) -> Command:
    return cmd(
        "talosctl",
        "logs",
        service,
        *node_target(settings, node),
        *(("--kubernetes",) if kubernetes else ()),
        *(("--follow",) if follow else ()),
        *(("--tail", str(tail)) if tail is not None else ()),
    )


def dmesg(settings: Settings, node: Node, *, follow: bool, tail: bool) -> Command:
    return cmd(
        "talosctl",
        "dmesg",
        *node_target(settings, node),
        *(("--follow",) if follow else ()),
        *(("--tail",) if tail else ()),
    )


def stats(settings: Settings, node: Node, *, kubernetes: bool) -> Command:
    return cmd(
        "talosctl",
        "stats",
        *node_target(settings, node),
        *(("--kubernetes",) if kubernetes else ()),
    )
