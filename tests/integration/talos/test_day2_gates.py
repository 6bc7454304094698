"""Day-2 gates through the fakes: version preflight, etcd snapshots, the gated rolling upgrade
(a failure injected at each node) and the etcd restore drill, resumed after an interruption."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.integration.talos.conftest import CP, INSTALLER, VERSIONS, W1, W2, Workspace
from tests.integration.talos.test_day2 import target, version_reply

pytestmark = pytest.mark.integration

TALOS = VERSIONS.talos
OLD = "1.12.4"
NODES = {"talos-cp-01": CP, "talos-worker-01": W1, "talos-worker-02": W2}


def client_reply(version: str) -> dict[str, Any]:
    out = f"Client:\n\tTag: v{version}\n\tSHA: 0000000\n\tOS/Arch: linux/amd64\n"
    return {"tool": "talosctl", "match": ["version", "--client"], "stdout": out}


def kubernetes_reply(version: str) -> dict[str, Any]:
    out = json.dumps(
        {"clientVersion": {"gitVersion": "v1.37.1"}, "serverVersion": {"gitVersion": f"v{version}"}}
    )
    return {"tool": "kubectl", "match": ["version", "--output", "json"], "stdout": out}


def cluster(talos: dict[str, str], kubernetes: str, client: str = TALOS) -> list[dict[str, Any]]:
    """What a running cluster answers: talosctl's own version, each node's, the API server's."""
    return [
        client_reply(client),
        *(version_reply(NODES[name], v) for name, v in talos.items()),
        kubernetes_reply(kubernetes),
    ]


def spec_with(tmp_path: Path, **pins: str) -> str:
    """The repository's cluster spec with other versions pinned; its path."""
    text = (REPO / "deploy" / "local-cluster" / "cluster.yaml").read_text()
    for key, value in pins.items():
        old = f"\n  {key}: {getattr(VERSIONS, key)}\n"
        assert old in text, key
        text = text.replace(old, f"\n  {key}: {value}\n")
    path = tmp_path / "cluster.yaml"
    path.write_text(text)
    return str(path)


def mutating(ws: Workspace) -> list[list[str]]:
    """Every talosctl call that changes something (the probes left out)."""
    return [c for c in ws.calls("talosctl") if c[0] not in ("version", "service")]


# -- preflight --------------------------------------------------------------------------------


def test_preflight_offline_compares_the_spec_pins(ws: Workspace) -> None:
    result = ws.inv("talos.preflight", "--offline")
    assert result.returncode == 0, result.output
    assert "Version preflight (spec only" in result.stdout
    assert f"Talos {TALOS} supports Kubernetes {VERSIONS.kubernetes}" in result.stdout
    assert ws.calls() == []  # offline: nothing asked


def test_preflight_asks_the_running_cluster(ws: Workspace) -> None:
    ws.seed(["config", "kubeconfig"])
    ws.scenario(cluster(dict.fromkeys(NODES, TALOS), VERSIONS.kubernetes))
    result = ws.inv("talos.preflight")
    assert result.returncode == 0, result.output
    assert "Version preflight (spec and cluster" in result.stdout
    assert f"talos-worker-02 runs Talos {TALOS}" in result.stdout
    assert f"Kubernetes {VERSIONS.kubernetes} -> {VERSIONS.kubernetes}" in result.stdout
    assert ws.calls("kubectl") == [
        ["--kubeconfig", ws.kubeconfig, "--context", "propertea-local",
         "version", "--output", "json"],
    ]  # fmt: skip


def test_a_spec_pinning_kubernetes_past_its_talos_fails_everywhere(
    ws: Workspace, tmp_path: Path
) -> None:
    ws.seed(["config"])
    spec = spec_with(tmp_path, kubernetes="1.37.1")
    for task in ("talos.preflight", "talos.upgrade", "talos.upgrade-k8s", "talos.bootstrap"):
        ws.scenario(cluster(dict.fromkeys(NODES, TALOS), VERSIONS.kubernetes))
        result = ws.inv(task, INVOKE_CLUSTER_FILE=spec)
        assert result.returncode == 1, task
        assert "Kubernetes 1.37.1 is too new for Talos 1.13.9" in result.stderr, task
        assert "Upgrade Talos first (`inv talos.upgrade`)" in result.stderr, task
        assert mutating(ws) == [], task


def test_upgrade_k8s_waits_for_talos_first(ws: Workspace) -> None:
    ws.seed(["config", "kubeconfig"])
    ws.scenario(cluster({**dict.fromkeys(NODES, TALOS), "talos-worker-02": OLD}, "1.35.4"))
    result = ws.inv("talos.upgrade-k8s")
    assert result.returncode == 1
    assert "running Talos vs target Kubernetes (talos-worker-02)" in result.stderr
    assert f"Kubernetes {VERSIONS.kubernetes} is too new for Talos {OLD}" in result.stderr
    assert mutating(ws) == []


def test_upgrade_k8s_moves_one_minor_at_a_time(ws: Workspace) -> None:
    ws.seed(["config", "kubeconfig"])
    ws.scenario(cluster(dict.fromkeys(NODES, TALOS), "1.34.2"))
    result = ws.inv("talos.upgrade-k8s")
    assert result.returncode == 1
    assert "Kubernetes 1.34.2 -> 1.36.3 skips a minor" in result.stderr
    assert "`inv talos.upgrade-k8s` for 1.35, 1.36" in result.stderr
    assert mutating(ws) == []


def test_upgrade_refuses_a_host_too_old_for_one_step(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario(cluster({**dict.fromkeys(NODES, TALOS), "talos-worker-01": "1.10.7"}, "1.33.0"))
    result = ws.inv("talos.upgrade")
    assert result.returncode == 1
    assert "talos-worker-01 runs Talos 1.10.7: too old to upgrade to 1.13.9" in result.stderr
    assert mutating(ws) == []


def test_an_old_talosctl_is_refused(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario(cluster(dict.fromkeys(NODES, OLD), VERSIONS.kubernetes, client="1.11.3"))
    result = ws.inv("talos.upgrade")
    assert result.returncode == 1
    assert "talosctl 1.11.3 is more than one minor from Talos" in result.stderr
    assert mutating(ws) == []


# -- snapshots --------------------------------------------------------------------------------


def test_snapshot_is_named_with_the_running_versions_and_pruned(ws: Workspace) -> None:
    ws.seed(["config", "kubeconfig"])
    ws.scenario(cluster({"talos-cp-01": TALOS}, "1.36.1"))
    backups = ws.cluster_state / "backups"
    backups.mkdir(parents=True)
    for stamp in ("20250101T000000Z", "20250201T000000Z", "20250301T000000Z"):
        (backups / f"etcd-{stamp}-talos1.12.4-k8s1.35.0.snapshot").write_text("old\n")
    (backups / "notes.txt").write_text("not a snapshot: never pruned\n")
    result = ws.inv("talos.snapshot", INVOKE_TALOS_SNAPSHOT_KEEP="2")
    assert result.returncode == 0, result.output
    names = sorted(p.name for p in backups.iterdir())
    assert names[0] == "etcd-20250301T000000Z-talos1.12.4-k8s1.35.0.snapshot"
    assert names[1].endswith(f"-talos{TALOS}-k8s1.36.1.snapshot")
    assert names[2:] == ["notes.txt"]
    assert "etcd snapshot etcd-" in result.stdout
    [taken] = [c for c in ws.calls("talosctl") if c[:2] == ["etcd", "snapshot"]]
    assert taken[3:] == target(ws)


def test_a_snapshot_that_wrote_nothing_is_not_kept(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario([{"tool": "talosctl", "match": ["etcd", "snapshot"], "stdout": "ok"}])
    result = ws.inv("talos.snapshot")
    assert result.returncode == 1
    assert "talosctl etcd snapshot exited 0 but wrote nothing" in result.stderr
    assert list((ws.cluster_state / "backups").iterdir()) == []


def test_snapshot_under_dry_writes_nothing(ws: Workspace) -> None:
    ws.seed(["config"])
    result = ws.inv("--dry", "talos.snapshot")
    assert result.returncode == 0, result.output
    assert "$ talosctl etcd snapshot " in result.stdout
    assert not (ws.cluster_state / "backups").exists()
    assert mutating(ws) == []


def test_settings_refuse_keeping_no_snapshot(ws: Workspace) -> None:
    ws.seed(["config"])
    result = ws.inv("talos.snapshot", INVOKE_TALOS_SNAPSHOT_KEEP="0")
    assert result.returncode == 1
    assert "snapshot_keep 0: keep at least 1 snapshot" in result.stderr


# -- the gated roll ---------------------------------------------------------------------------


@pytest.mark.parametrize("failing", list(NODES))
def test_a_failed_node_stops_the_roll_and_a_rerun_resumes(ws: Workspace, failing: str) -> None:
    ws.seed(["config"])
    order = list(NODES)
    ip = NODES[failing]
    broken = {"tool": "talosctl", "match": ["upgrade", "--nodes", ip], "exit": 1,
              "stderr": "failed to upgrade: installer image pull failed"}  # fmt: skip
    ws.scenario([broken, *cluster(dict.fromkeys(NODES, OLD), "1.35.2")])
    result = ws.inv("talos.upgrade")
    assert result.returncode == 1
    upgraded = [c[c.index("--nodes") + 1] for c in mutating(ws) if c[0] == "upgrade"]
    assert upgraded == [NODES[n] for n in order[: order.index(failing) + 1]]
    assert f"The upgrade stopped at {failing}; no further node was touched" in result.stderr
    assert f"talosctl rollback --nodes {ip}" in result.stderr
    assert "etcd was saved first in" in result.stderr
    # Resume: the nodes before it now run the target; only the rest are upgraded.
    done = dict.fromkeys(order[: order.index(failing)], TALOS)
    ws.scenario(cluster({**dict.fromkeys(NODES, OLD), **done}, "1.35.2"))
    again = ws.inv("talos.upgrade")
    assert again.returncode == 0, again.output
    resumed = [c[c.index("--nodes") + 1] for c in mutating(ws) if c[0] == "upgrade"]
    assert resumed == [NODES[n] for n in order[order.index(failing) :]]


def test_a_failed_health_gate_never_upgrades_the_next_node(ws: Workspace) -> None:
    ws.seed(["config"])
    sick = {"tool": "talosctl", "match": ["health"], "exit": 1, "stderr": "etcd unhealthy"}
    ws.scenario([sick, *cluster(dict.fromkeys(NODES, OLD), "1.35.2")])
    result = ws.inv("talos.upgrade", INVOKE_TALOS_TIMEOUTS_HEALTH="0.3")
    assert result.returncode == 1
    assert [c[0] for c in mutating(ws)] == [
        "etcd",
        "upgrade",
        *["health"] * (len(mutating(ws)) - 2),
    ]
    assert "The upgrade stopped at talos-cp-01" in result.stderr


def test_dry_upgrade_shows_the_whole_sequence(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario(cluster(dict.fromkeys(NODES, OLD), "1.35.2"))
    result = ws.inv("--dry", "talos.upgrade")
    assert result.returncode == 0, result.output
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("$ talosctl ")]
    mutations = [ln.split()[2] for ln in lines if ln.split()[2] != "version"]
    assert mutations == ["etcd", "upgrade", "health", "upgrade", "health", "upgrade", "health"]
    assert f"--image {INSTALLER}" in result.stdout
    assert mutating(ws) == []  # the probes ran (facts first), nothing else


# -- restore ----------------------------------------------------------------------------------

PREPARING = {
    "tool": "talosctl",
    "match": ["service", "etcd"],
    "stdout": f"NODE     {CP}\nID       etcd\nSTATE    Preparing\nHEALTH   ?\n",
}


def a_snapshot(ws: Workspace) -> Path:
    backups = ws.cluster_state / "backups"
    backups.mkdir(parents=True, exist_ok=True)
    path = backups / f"etcd-20261201T101500Z-talos{TALOS}-k8s1.36.3.snapshot"
    path.write_text("etcd snapshot bytes\n")
    return path


def test_restore_refuses_without_yes(ws: Workspace) -> None:
    ws.seed(["config"])
    snap = a_snapshot(ws)
    result = ws.inv("talos.restore", snap.name)
    assert result.returncode == 1
    assert "Refusing without a terminal to confirm: pass --yes." in result.stderr
    assert ws.calls() == []


def test_restore_names_the_snapshots_it_knows(ws: Workspace) -> None:
    ws.seed(["config"])
    snap = a_snapshot(ws)
    result = ws.inv("talos.restore", "etcd-nope.snapshot", "--yes")
    assert result.returncode == 1
    assert "No snapshot 'etcd-nope.snapshot'" in result.stderr
    assert snap.name in result.stderr


def test_restore_wipes_waits_recovers_and_checks(ws: Workspace) -> None:
    ws.seed(["config"])
    snap = a_snapshot(ws)
    ws.scenario([PREPARING])
    result = ws.inv("talos.restore", snap.name, "--yes")
    assert result.returncode == 0, result.output
    assert ws.calls("talosctl") == [
        ["reset", *target(ws), "--graceful=false", "--reboot",
         "--system-labels-to-wipe", "EPHEMERAL", "--wait=false"],
        ["service", "etcd", *target(ws)],
        ["bootstrap", *target(ws), "--recover-from", str(snap)],
        ["health", *target(ws), "--control-plane-nodes", CP,
         "--worker-nodes", f"{W1},{W2}", "--wait-timeout", "1s"],
    ]  # fmt: skip
    assert "talos.restore: all phases done" in result.stdout
    state = json.loads((ws.cluster_state / "phases.json").read_text())
    assert "talos.restore" not in state  # finished: the next restore starts from the top


def test_an_interrupted_restore_resumes_without_wiping_again(ws: Workspace) -> None:
    ws.seed(["config"])
    snap = a_snapshot(ws)
    refused = {"tool": "talosctl", "match": ["bootstrap", "--recover-from"], "exit": 1,
               "stderr": "rpc error: etcd is not in Preparing"}  # fmt: skip
    ws.scenario([refused, PREPARING])
    first = ws.inv("talos.restore", str(snap), "--yes")
    assert first.returncode == 1
    assert "Phase recover did not finish" in first.stderr
    assert f"`inv talos.restore {snap} --yes` again" in first.stderr
    ws.scenario([PREPARING])
    second = ws.inv("talos.restore", str(snap), "--yes")
    assert second.returncode == 0, second.output
    assert [c[0] for c in ws.calls("talosctl")] == ["bootstrap", "health"]
    assert "[1/4] wipe-etcd: done earlier, skipped" in second.stdout
