"""Pure argv builders for helm, argocd (``--core``) and cluster-bound kubectl.

Every command carries its own timeout: the tool's ``--timeout`` when it has one, and a slightly
larger process timeout so a hung CLI ends as a clear error instead of blocking the task.
"""

from __future__ import annotations

from pathlib import Path

from tasks.core.runner import Command, Retry
from tasks.gitops.kube import ARGOCD_NAMESPACE, Kube

RELEASE = "argocd"
REPO_NAME = "argo"
DEFAULT_REPO_URL = "https://argoproj.github.io/argo-helm"
CHART = "argo-cd"
SERVER_SERVICE = "svc/argocd-server"
INITIAL_ADMIN_SECRET = "argocd-initial-admin-secret"  # noqa: S105 (a Secret's name)
#: Transient API-server hiccups while a fresh cluster settles.
TRANSIENT = Retry(
    attempts=3, delay=2.0, on=(r"connection refused", r"i/o timeout", r"TLS handshake timeout")
)


def grace(timeout: float) -> float:
    """The process timeout for a tool given ``--timeout``: a little longer, so the tool reports."""
    return timeout + max(2.0, timeout * 0.1)


def repo_add(url: str) -> Command:
    return Command(
        ("helm", "repo", "add", REPO_NAME, url, "--force-update"),
        step=f"add the Helm repository {REPO_NAME}",
        timeout=120,
        retry=Retry(attempts=3, delay=2.0),
    )


def helm_release(kube: Kube) -> Command:
    return Command(
        (
            "helm",
            "list",
            "--namespace",
            ARGOCD_NAMESPACE,
            "--filter",
            f"^{RELEASE}$",
            *kube.helm_flags(),
        ),
        step="look up the Argo CD release",
        timeout=60,
        read_only=True,
    )


def helm_values(kube: Kube) -> Command:
    return Command(
        ("helm", "get", "values", RELEASE, "--namespace", ARGOCD_NAMESPACE, *kube.helm_flags()),
        step="read the Argo CD release's values",
        timeout=60,
        read_only=True,
    )


def helm_install(
    kube: Kube, chart: str, version: str | None, values_yaml: str, timeout: float
) -> Command:
    """``helm upgrade --install`` with the values on stdin (``--values -``)."""
    return Command(
        (
            "helm",
            "upgrade",
            "--install",
            RELEASE,
            chart,
            *(("--version", version) if version else ()),
            "--namespace",
            ARGOCD_NAMESPACE,
            "--create-namespace",
            "--values",
            "-",
            "--wait",
            "--timeout",
            f"{int(timeout)}s",
            *kube.helm_flags(),
        ),
        stdin=values_yaml,
        step="install Argo CD",
        timeout=grace(timeout),
        hint="inv gitops.status; kubectl -n argocd get pods",
    )


def apply_file(kube: Kube, path: Path) -> Command:
    return Command(
        kube.kubectl("apply", "--filename", str(path)),
        step=f"apply {path}",
        timeout=60,
        retry=TRANSIENT,
        hint="is Argo CD installed? inv gitops.install",
    )


def list_applications(kube: Kube, timeout: float = 30.0) -> Command:
    return Command(
        kube.kubectl(
            "get", "applications.argoproj.io", "--namespace", ARGOCD_NAMESPACE, "--output", "json"
        ),
        step="list the Argo CD applications",
        timeout=timeout,
        read_only=True,
        hint="is Argo CD installed? inv gitops.install",
    )


def _argocd(kube: Kube, *args: str, step: str, timeout: float, read_only: bool = False) -> Command:
    return Command(
        ("argocd", *args, "--core"),
        env=kube.argocd_env(),
        step=step,
        timeout=timeout,
        read_only=read_only,
    )


def sync(kube: Kube, app: str, *, prune: bool, timeout: float) -> Command:
    return _argocd(
        kube,
        "app",
        "sync",
        app,
        *(("--prune",) if prune else ()),
        "--timeout",
        str(int(timeout)),
        step=f"sync {app}",
        timeout=grace(timeout),
    )


def wait(kube: Kube, apps: list[str], timeout: float) -> Command:
    return _argocd(
        kube,
        "app",
        "wait",
        *apps,
        "--sync",
        "--health",
        "--timeout",
        str(int(timeout)),
        step="wait for the applications",
        timeout=grace(timeout),
    )


def diff(kube: Kube, app: str, timeout: float = 300.0) -> Command:
    """Exit 0: in sync; 1: drift (printed); anything else: an error."""
    return _argocd(kube, "app", "diff", app, step=f"diff {app}", timeout=timeout, read_only=True)


def initial_password(kube: Kube) -> Command:
    return Command(
        kube.kubectl(
            "get",
            "secret",
            INITIAL_ADMIN_SECRET,
            "--namespace",
            ARGOCD_NAMESPACE,
            "--output",
            "jsonpath={.data.password}",
        ),
        step="read the initial admin password",
        timeout=30,
        read_only=True,
    )


def port_forward(kube: Kube, port: int) -> Command:
    """The UI on http://localhost:PORT (the server runs insecure behind the Gateway: port 80)."""
    return Command(
        kube.kubectl("port-forward", SERVER_SERVICE, "--namespace", ARGOCD_NAMESPACE, f"{port}:80"),
        step="port-forward the Argo CD UI",
    )
