"""gitops.* against fake helm, argocd and cluster kubectl (client-side kubectl stays real)."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tasks.core.errors import CommandFailed, UserError
from tasks.core.waits import Clock
from tasks.deploytree import appset
from tasks.gitops import facts, ops
from tests.conftest import Inv
from tests.integration.gitops.conftest import Cluster, applications, rule

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
VALUES = [REPO / "deploy/infrastructure/argocd/values.yaml"]
HELM_HEADER = "NAME\tNAMESPACE\tREVISION\tUPDATED\tSTATUS\tCHART\tAPP VERSION\n"


def deployed(version: str) -> str:
    return HELM_HEADER + f"argocd\targocd\t1\tnow\tdeployed\targo-cd-{version}\tv3.5.1\n"


def install(cluster: Cluster, **kwargs: Any) -> None:
    cluster.runner().converge(
        ops.install(
            cluster.kube,
            version=kwargs.pop("version", "9.4.0"),
            files=VALUES,
            chart=kwargs.pop("chart", None),
            timeout=kwargs.pop("timeout", 600.0),
        )
    )


def test_install_fresh_adds_the_repo_and_installs_with_the_chart_values(cluster: Cluster) -> None:
    cluster.fake.scenario([rule("helm", "list", stdout=HELM_HEADER)])
    install(cluster)
    argvs = cluster.fake.argvs("helm")
    kubeconfig = str(cluster.kube.kubeconfig)
    assert argvs == [
        ["list", "--namespace", "argocd", "--filter", "^argocd$", "--kubeconfig", kubeconfig],
        ["repo", "add", "argo", "https://argoproj.github.io/argo-helm", "--force-update"],
        [
            "upgrade", "--install", "argocd", "argo/argo-cd", "--version", "9.4.0",
            "--namespace", "argocd", "--create-namespace", "--values", "-", "--wait",
            "--timeout", "600s", "--kubeconfig", kubeconfig,
        ],
    ]  # fmt: skip
    sent = YAML(typ="safe").load(cluster.fake.calls("helm")[-1]["stdin"])
    assert sent == facts.install_inputs(VALUES).values
    assert "configs" in sent and "argo-cd" not in sent
    assert "Argo CD installed" in cluster.output


def test_install_is_idempotent(cluster: Cluster) -> None:
    values = facts.install_inputs(VALUES).values
    current = "USER-SUPPLIED VALUES:\n" + ops.dump_values(values)
    cluster.fake.scenario(
        [
            rule("helm", "list", stdout=deployed("9.4.0")),
            rule("helm", "get", "values", stdout=current),
        ]
    )
    install(cluster)
    assert [a[0] for a in cluster.fake.argvs("helm")] == ["list", "get"]
    assert "nothing to do" in cluster.output


def test_install_upgrades_another_chart_version(cluster: Cluster) -> None:
    cluster.fake.scenario([rule("helm", "list", stdout=deployed("9.3.0"))])
    install(cluster)
    assert cluster.fake.argvs("helm")[-1][:2] == ["upgrade", "--install"]
    assert "Argo CD upgraded" in cluster.output


def test_install_failure_is_one_paragraph_with_stderr(cluster: Cluster) -> None:
    cluster.fake.scenario(
        [
            rule("helm", "list", stdout=HELM_HEADER),
            rule("helm", "upgrade", exit=1, stderr="Error: context deadline exceeded\n"),
        ]
    )
    with pytest.raises(CommandFailed) as err:
        install(cluster)
    text = err.value.text
    assert text.startswith("install Argo CD failed.")
    assert "context deadline exceeded" in text and "exit code: 1" in text
    assert "try: inv gitops.status" in text


def test_install_timeout_ends_a_hung_helm(cluster: Cluster) -> None:
    cluster.fake.scenario(
        [rule("helm", "list", stdout=HELM_HEADER), rule("helm", "upgrade", sleep=30)]
    )
    with pytest.raises(CommandFailed) as err:
        install(cluster, timeout=1.0)
    assert err.value.returncode == 124
    assert "timed out" in err.value.text


def test_install_task_with_a_local_chart(cluster: Cluster, inv: Inv, tmp_path: Path) -> None:
    cluster.fake.scenario([rule("helm", "list", stdout=HELM_HEADER)])
    chart = tmp_path / "argo-cd-9.4.0.tgz"
    chart.write_text("not really a chart")
    result = inv("gitops.install", "--chart", str(chart), "--timeout", "120", env=cluster.env)
    assert result.returncode == 0, result.output
    [_, upgrade] = cluster.fake.argvs("helm")
    assert upgrade[:4] == ["upgrade", "--install", "argocd", str(chart)]
    assert "--version" not in upgrade and "120s" in upgrade


def _infra_names() -> list[str]:
    values = facts.install_inputs(VALUES).values
    apps = appset.render_tree(REPO, Path("deploy/bootstrap"), appset.clusters_from_values(values))
    return ops.layer_apps(apps, "deploy/infrastructure/")


def bootstrap(cluster: Cluster, key_file: Path, *, timeout: float, clock: Any = None) -> None:
    values = facts.install_inputs(VALUES).values
    cluster.runner().converge(
        ops.bootstrap(
            cluster.kube,
            root=REPO,
            gitops_path="deploy",
            key_file=key_file,
            clusters=appset.clusters_from_values(values),
            timeout=timeout,
            interval=0,
            clock=clock,
        )
    )


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "age" / "keys.txt"
    path.parent.mkdir()
    subprocess.run(["age-keygen", "-o", str(path)], capture_output=True, check=True)
    return path


def test_bootstrap_applies_key_and_root_then_waits_for_infrastructure(
    cluster: Cluster, key_file: Path
) -> None:
    names = _infra_names()
    assert "cilium" in names and "cert-manager" in names
    ready = applications(*[(n, "Synced", "Healthy") for n in names])
    cluster.fake.scenario([rule("kubectl", "get", "applications.argoproj.io", stdout=ready)])
    bootstrap(cluster, key_file, timeout=60)
    calls = cluster.fake.calls("kubectl")
    kube = ["--kubeconfig", str(cluster.kube.kubeconfig)]
    assert [c["argv"] for c in calls] == [
        [*kube, "apply", "--filename", "-"],
        [*kube, "apply", "--filename", "deploy/bootstrap/root-application.yaml"],
        [*kube, "get", "applications.argoproj.io", "--namespace", "argocd", "--output", "json"],
    ]
    assert "helm-secrets-private-keys" in calls[0]["stdin"]
    identity = key_file.read_text().strip().splitlines()[-1]
    assert all(identity not in " ".join(c["argv"]) for c in calls)
    assert identity not in cluster.output
    assert "every application Synced and Healthy" in cluster.output


def test_bootstrap_times_out_naming_what_is_not_ready(cluster: Cluster, key_file: Path) -> None:
    names = _infra_names()
    states = [(n, "Synced", "Healthy") for n in names if n != "cilium"]
    states.append(("cilium", "OutOfSync", "Progressing"))
    cluster.fake.scenario(
        [rule("kubectl", "get", "applications.argoproj.io", stdout=applications(*states[1:]))]
    )
    with pytest.raises(UserError) as err:
        bootstrap(cluster, key_file, timeout=0)
    text = err.value.text
    assert "Timed out after 0s" in text
    assert "cilium (OutOfSync/Progressing)" in text
    assert f"{states[0][0]} (not created yet)" in text
    assert "inv gitops.status" in text


def test_bootstrap_rides_out_a_failing_api_server(cluster: Cluster, key_file: Path) -> None:
    ready = applications(*[(n, "Synced", "Healthy") for n in _infra_names()])
    cluster.fake.scenario(
        [
            rule(
                "kubectl",
                "get",
                "applications.argoproj.io",
                stdout=ready,
                fail_times=2,
                fail_stderr="connection refused",
            )
        ]
    )
    ticks = iter(range(1000))
    clock = Clock(now=lambda: float(next(ticks)), sleep=lambda _: None)
    bootstrap(cluster, key_file, timeout=100, clock=clock)
    assert len(cluster.fake.argvs("kubectl")) == 2 + 3  # two applies, three polls


def test_bootstrap_reports_a_hung_kubectl(cluster: Cluster, key_file: Path) -> None:
    cluster.fake.scenario([rule("kubectl", "get", "applications.argoproj.io", sleep=30)])
    with pytest.raises(UserError) as err:
        bootstrap(cluster, key_file, timeout=0)
    assert "last error" in err.value.text and "timed out" in err.value.text


def test_status_table_and_json(cluster: Cluster, inv: Inv) -> None:
    cluster.fake.scenario(
        [
            rule(
                "kubectl",
                "get",
                "applications.argoproj.io",
                stdout=applications(
                    ("cilium", "Synced", "Healthy"), ("gateway", "OutOfSync", "Degraded")
                ),
            )
        ]
    )
    table = inv("gitops.status", env=cluster.env)
    assert table.returncode == 0, table.output
    assert "cilium" in table.stdout and "OutOfSync" in table.stdout and "Degraded" in table.stdout
    as_json = inv("gitops.status", "--json", env=cluster.env)
    rows = json.loads(as_json.stdout)
    assert [(r["name"], r["sync"], r["health"]) for r in rows] == [
        ("cilium", "Synced", "Healthy"),
        ("gateway", "OutOfSync", "Degraded"),
    ]


def test_sync_uses_argocd_core_in_the_argocd_namespace(cluster: Cluster) -> None:
    from tasks.gitops import plan

    runner = cluster.runner()
    runner.converge(ops.prepare_argocd(cluster.kube))
    runner.run(plan.sync(cluster.kube, "cilium", prune=True, timeout=300))
    [call] = cluster.fake.calls("argocd")
    assert call["argv"] == ["app", "sync", "cilium", "--prune", "--timeout", "300", "--core"]
    overlay = cluster.kube.overlay
    assert call["env"]["KUBECONFIG"] == f"{overlay}:{cluster.kube.kubeconfig}"
    assert overlay.stat().st_mode & 0o777 == 0o600
    context = YAML(typ="safe").load(overlay.read_text())["contexts"][0]["context"]
    assert context == {
        "cluster": "propertea-local",
        "user": "admin@propertea-local",
        "namespace": "argocd",
    }


def test_sync_failure_names_the_app(cluster: Cluster, inv: Inv) -> None:
    cluster.fake.scenario(
        [rule("argocd", "app", "sync", exit=20, stderr="rpc error: application not found")]
    )
    result = inv("gitops.sync", "nope", env=cluster.env)
    assert result.returncode == 1
    assert "sync nope failed" in result.output and "exit code: 20" in result.output
    assert "application not found" in result.output
    assert "Traceback" not in result.output


def test_diff_exits_1_on_drift(cluster: Cluster, inv: Inv) -> None:
    cluster.fake.scenario(
        [
            rule(
                "kubectl",
                "get",
                "applications.argoproj.io",
                stdout=applications(("a", "Synced", "Healthy"), ("b", "OutOfSync", "Healthy")),
            ),
            rule("argocd", "app", "diff", "a", exit=0),
            rule("argocd", "app", "diff", "b", exit=1, stdout="===== apps/Deployment b/b ======\n"),
        ]
    )
    result = inv("gitops.diff", env=cluster.env)
    assert result.returncode == 1
    assert "apps/Deployment b/b" in result.output
    assert "drift in 1 application(s): b" in result.output
    clean = inv("gitops.diff", "--app", "a", env=cluster.env)
    assert clean.returncode == 0 and "no drift in 1 application(s)" in clean.output


def test_diff_error_is_not_drift(cluster: Cluster) -> None:
    cluster.fake.scenario(
        [rule("argocd", "app", "diff", exit=2, stderr="failed to get application")]
    )
    with pytest.raises(CommandFailed, match="argocd app diff a failed \\(exit 2\\)"):
        cluster.runner().converge(ops.diff(cluster.kube, ["a"]))


def test_wait_names_every_application(cluster: Cluster, inv: Inv) -> None:
    cluster.fake.scenario(
        [
            rule(
                "kubectl",
                "get",
                "applications.argoproj.io",
                stdout=applications(("a", "Synced", "Healthy"), ("b", "Synced", "Healthy")),
            )
        ]
    )
    result = inv("gitops.wait", "--timeout", "30", env=cluster.env)
    assert result.returncode == 0, result.output
    assert cluster.fake.argvs("argocd") == [
        ["app", "wait", "a", "b", "--sync", "--health", "--timeout", "30", "--core"]
    ]


def test_ui_masks_the_password_unless_shown(cluster: Cluster, inv: Inv) -> None:
    password = "Xq7-initial-Admin"
    encoded = base64.b64encode(password.encode()).decode()
    cluster.fake.scenario([rule("kubectl", "get", "secret", stdout=encoded)])
    masked = inv("gitops.ui", "--port", "18080", env=cluster.env)
    assert masked.returncode == 0, masked.output
    assert password not in masked.output and "password ***" in masked.output
    assert ["--kubeconfig", str(cluster.kube.kubeconfig), "port-forward", "svc/argocd-server",
            "--namespace", "argocd", "18080:80"] in cluster.fake.argvs("kubectl")  # fmt: skip
    shown = inv("gitops.ui", "--show", env=cluster.env)
    assert f"password {password}" in shown.output


def test_ui_without_the_initial_secret_says_so(cluster: Cluster, inv: Inv) -> None:
    cluster.fake.scenario([rule("kubectl", "get", "secret", exit=1, stderr="NotFound")])
    result = inv("gitops.ui", env=cluster.env)
    assert result.returncode == 0, result.output
    assert "no argocd-initial-admin-secret" in result.output


def test_render_task_lists_the_real_tree(inv: Inv) -> None:
    result = inv("gitops.render", "--json")
    assert result.returncode == 0, result.output
    rows = json.loads(result.stdout)
    names = {r["name"] for r in rows}
    assert {"root", "cilium", "argocd"} <= names
    cilium = next(r for r in rows if r["name"] == "cilium")
    assert cilium["sources"][0]["kind"] == "helm" and cilium["sources"][0]["charts"]
    table = inv("gitops.render")
    assert "ApplicationSet infrastructure" in table.stdout


def test_dry_run_changes_nothing_and_prints_every_command(cluster: Cluster, inv: Inv) -> None:
    result = inv("--dry", "gitops.install", env=cluster.env)
    assert result.returncode == 0, result.output
    assert "$ helm upgrade --install argocd argo/argo-cd" in result.output
    assert [a[0] for a in cluster.fake.argvs("helm")] == ["list"]  # the read-only probe only
