"""gitops.* options a person mistypes: one actionable message, exit 2, nothing run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import InvHere
from tests.integration.gitops.conftest import Cluster

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gitops.install", "--timeout", "soon"], "--timeout 'soon': expected a number of seconds"),
        (["gitops.bootstrap", "--timeout", "ten"], "--timeout 'ten': expected a number of seconds"),
        (["gitops.bootstrap", "--interval", "0"], "--interval '0': must be from 1 to 9999999"),
        (["gitops.install", "--timeout", "inf"], "--timeout 'inf': must be from 1 to 9999999"),
        (["gitops.sync", "cilium", "--timeout", "5m"], "--timeout '5m': expected a number"),
        (["gitops.wait", "--timeout", "-3"], "--timeout '-3': must be from 1 to 9999999 seconds."),
        (["gitops.ui", "--port", "http"], "--port 'http': expected a TCP port, 1-65535."),
        (["gitops.ui", "--port", "70000"], "--port '70000': expected a TCP port, 1-65535."),
        (["gitops.install", "--chart", "/no/such/argo.tgz"], "--chart /no/such/argo.tgz: no such"),
        (["gitops.install", "--env", "staging"], "--env 'staging': there is no values-staging"),
        (["gitops.render", "--env", "prod"], "Environments: aks, local."),
        (
            ["gitops.set-repo", "--repo-url", "https://example.com/r.git", "--branch", "my fix"],
            "--branch 'my fix' is not a valid Git branch name",
        ),
    ],
)
def test_bad_option_is_a_usage_error_before_any_command(
    cluster: Cluster, inv_here: InvHere, args: list[str], message: str
) -> None:
    result = inv_here(*args, env=cluster.env)
    assert result.returncode == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert cluster.fake.calls("helm") == [] and cluster.fake.calls("argocd") == []
    assert cluster.fake.calls("kubectl") == []


def test_known_env_overlay_is_accepted_and_used(cluster: Cluster, inv_here: InvHere) -> None:
    import json

    def value_files(*args: str) -> dict[str, list[str]]:
        result = inv_here("gitops.render", *args, "--json", env=cluster.env)
        assert result.returncode == 0, result.output
        return {
            app["name"]: source.get("valueFiles", [])
            for app in json.loads(result.stdout)
            for source in app["sources"]
            if source.get("kind") == "helm"
        }

    aks, local = value_files("--env", "aks"), value_files()
    assert aks.keys() == local.keys() and aks
    for name, files in aks.items():
        assert "values-aks.yaml" in files and "values-local.yaml" not in files, name
        assert "values-local.yaml" in local[name], name


def test_dry_wait_and_diff_before_the_cluster_exists_plan_for_no_application(
    tmp_path: Path, inv_here: InvHere
) -> None:
    """No kubeconfig yet: --dry prints the probe and plans for a fresh world instead of failing."""
    state = tmp_path / "fresh-state"
    env = {"INVOKE_STATE_DIR": str(state), "KUBECONFIG": str(tmp_path / "none")}
    waited = inv_here("--dry", "gitops.wait", env=env)
    assert waited.returncode == 0, waited.output
    assert "$ kubectl --kubeconfig" in waited.stdout
    assert "get applications.argoproj.io" in waited.stdout
    assert "# no application in the cluster yet: nothing to wait for" in waited.stdout
    diffed = inv_here("--dry", "gitops.diff", env=env)
    assert diffed.returncode == 0, diffed.output
    # The planned lines: the probe, then the argocd --core overlay it would write (no app diff).
    cluster_state = state / "propertea-local"
    assert diffed.stdout.splitlines() == [
        f"$ kubectl --kubeconfig {cluster_state / 'kubeconfig'} get applications.argoproj.io "
        "--namespace argocd --output json",
        f"# write {cluster_state / 'argocd-core.kubeconfig'}",
    ]
    assert not state.exists()


def test_dry_ui_before_the_cluster_exists_claims_no_missing_secret(
    tmp_path: Path, inv_here: InvHere
) -> None:
    env = {"INVOKE_STATE_DIR": str(tmp_path / "state"), "KUBECONFIG": str(tmp_path / "none")}
    result = inv_here("--dry", "gitops.ui", env=env)
    assert result.returncode == 0, result.output
    assert "# user admin: the password is read from argocd-initial-admin-secret when run" in (
        result.stdout
    )
    assert "deleted after the first login" not in result.stdout
    assert "port-forward svc/argocd-server --namespace argocd 8080:80" in result.stdout
