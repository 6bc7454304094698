"""`inv --dry talos.X` prints every command and changes nothing (read-only probes may run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.talos.conftest import CP, VERSIONS, Workspace

pytestmark = pytest.mark.integration

#: Probes that may run under --dry because they only read (DESIGN.md principle 3).
READ_ONLY = {("get", "disks", "--insecure"), ("version", "--talosconfig")}


def snapshot(root: Path) -> dict[str, tuple[int, float]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime)
        for p in root.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("args", "printed"),
    [
        (["talos.config"], [
                            "$ cd {root} && sops decrypt deploy/local-cluster/talos/secrets.yaml",
                            "$ talosctl gen config",
                            "$ talosctl machineconfig patch {state}/config/worker.yaml --patch "
                            "@deploy/local-cluster/patches/nodes/talos-worker-02.yaml",
                            "$ talosctl validate --config {state}/config/nodes/talos-cp-01.yaml"]),
        (["talos.apply"], ["$ talosctl apply-config --insecure --nodes 192.168.50.12"]),
        (["talos.bootstrap"], [
            "$ talosctl gen secrets", "$ talosctl gen config",
            f"$ talosctl bootstrap --talosconfig {{state}}/config/talosconfig --nodes {CP}",
            "$ talosctl kubeconfig {state}/kubeconfig",
            "$ kubectl --kubeconfig {state}/kubeconfig --context propertea-local apply",
            "# write {state}/cilium-values.yaml",
            "$ helm repo add cilium https://helm.cilium.io/ --force-update",
            f"$ helm upgrade --install cilium cilium/cilium --version {VERSIONS.cilium}",
            "$ cilium status --wait --wait-duration 1s --kubeconfig {state}/kubeconfig",
            "wait --for=condition=Ready nodes --all",
        ]),
        (["talos.health"], ["$ talosctl health --talosconfig"]),
        (["talos.upgrade"], ["$ talosctl etcd snapshot {state}/backups/etcd-",
                             "$ talosctl upgrade --talosconfig", "$ talosctl health"]),
        (["talos.upgrade-k8s"], ["$ talosctl upgrade-k8s --talosconfig"]),
        (["talos.reset", "--yes"], ["$ talosctl reset --talosconfig"]),
        (["talos.reset"], ["$ talosctl reset --talosconfig"]),  # --dry needs no --yes
        (["talos.kubeconfig"], ["$ talosctl kubeconfig {state}/kubeconfig"]),
        (["talos.dashboard"], ["$ talosctl dashboard --talosconfig"]),
        (["talos.logs", "kubelet"], ["$ talosctl logs kubelet --talosconfig"]),
        (["talos.dmesg"], ["$ talosctl dmesg --talosconfig"]),
        (["talos.stats"], ["$ talosctl stats --talosconfig"]),
    ],
)  # fmt: skip
def test_dry_run_prints_every_command_and_writes_nothing(
    ws: Workspace, args: list[str], printed: list[str]
) -> None:
    before = snapshot(ws.root)
    result = ws.inv("--dry", *args)
    assert result.returncode == 0, result.output
    for line in printed:
        expected = line.replace("{state}", str(ws.cluster_state)).replace("{root}", str(ws.root))
        assert expected in result.stdout, line
    assert not ws.state.exists(), "nothing written to the state dir"
    assert snapshot(ws.root) == before, "nothing written to the repository"
    for call in ws.fake.argvs():
        assert tuple(call[:3]) in READ_ONLY or tuple(call[:2]) in READ_ONLY, call


def test_the_real_command_line(ws: Workspace) -> None:
    """The same through `python -m invoke` in a subprocess: exit codes, no traceback."""
    dry = ws.inv_subprocess("--dry", "talos.bootstrap")
    assert dry.returncode == 0, dry.output
    assert "$ talosctl gen config propertea-local" in dry.stdout
    assert not ws.state.exists()
    bad = ws.inv_subprocess("talos.logs", "etcd", "--node", "nope")
    assert bad.returncode == 1
    assert "No node named 'nope' in the cluster spec" in bad.stderr
    assert "Traceback" not in bad.output


@pytest.mark.parametrize(
    ("args", "claim"),
    [
        (["talos.bootstrap"], "all phases done"),
        (["talos.upgrade"], "upgraded"),
        (["talos.reset"], "reset talos-"),
        (["talos.kubeconfig"], "merged into"),
        (["talos.config"], "machine configs in"),
    ],
)
def test_dry_run_claims_no_success(ws: Workspace, args: list[str], claim: str) -> None:
    """Nothing ran, so nothing is reported done."""
    result = ws.inv("--dry", *args)
    assert result.returncode == 0, result.output
    assert claim not in result.output


def test_dry_bootstrap_without_talosctl_says_the_node_mode_is_assumed(ws: Workspace) -> None:
    result = ws.inv("--dry", "talos.bootstrap", "--only", "wait-maintenance", PATH="/nonexistent")
    assert result.returncode == 0, result.output
    assert "talos-cp-01 (192.168.50.10): maintenance (assumed: --dry plans for a fresh node)" in (
        result.stdout
    )
