"""Day-2 tasks through the fakes: apply, health, upgrade, upgrade-k8s, reset, kubeconfig and the
passthroughs (dashboard, logs, dmesg, stats)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.talos.conftest import CP, INSTALLER, VERSIONS, W1, W2, Workspace

pytestmark = pytest.mark.integration

TALOS = VERSIONS.talos
OLD = "1.12.0"


def target(ws: Workspace, ip: str = CP) -> list[str]:
    return ["--talosconfig", ws.talosconfig, "--nodes", ip, "--endpoints", ip]


def not_in_maintenance(ip: str) -> dict[str, Any]:
    return {
        "tool": "talosctl",
        "match": ["get", "--insecure", "--nodes", ip],
        "exit": 1,
        "stderr": "rpc error: code = Unavailable desc = tls: certificate required",
    }


# -- apply ----------------------------------------------------------------------------------


def test_apply_detects_maintenance_mode_per_node(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario([not_in_maintenance(CP)])
    result = ws.inv("talos.apply")
    assert result.returncode == 0, result.output
    applies = sorted(a for a in ws.calls("talosctl") if a[0] == "apply-config")
    nodes = ws.config_dir / "nodes"
    assert applies == sorted(
        [
            ["apply-config", *target(ws), "--file", str(nodes / "talos-cp-01.yaml")],
            ["apply-config", "--insecure", "--nodes", W1, "--endpoints", W1,
             "--file", str(nodes / "talos-worker-01.yaml")],
            ["apply-config", "--insecure", "--nodes", W2, "--endpoints", W2,
             "--file", str(nodes / "talos-worker-02.yaml")],
        ]
    )  # fmt: skip
    assert "talos-cp-01: config applied (mTLS)" in result.stdout
    assert "talos-worker-02: config applied (insecure, maintenance mode)" in result.stdout


def test_apply_retries_until_the_node_takes_it(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario(
        [
            {
                "tool": "talosctl",
                "match": ["apply-config"],
                "fail_times": 2,
                "fail_stderr": "connection refused",
            }
        ]
    )
    result = ws.inv("talos.apply", "--node", "talos-worker-01", INVOKE_TALOS_TIMEOUTS_APPLY="30")
    assert result.returncode == 0, result.output
    assert [a[0] for a in ws.calls("talosctl")] == ["get", "apply-config"] * 3


def test_apply_failures_are_reported_per_node(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario(
        [
            {
                "tool": "talosctl",
                "match": ["apply-config", "--nodes", W2],
                "exit": 1,
                "stderr": "invalid config",
            }
        ]
    )
    result = ws.inv("talos.apply", INVOKE_TALOS_TIMEOUTS_APPLY="30")
    assert result.returncode == 1
    assert "1 of 3 node(s) failed:" in result.stderr
    assert "- talos-worker-02: apply the machine config to talos-worker-02" in result.stderr
    assert "invalid config" in result.stderr
    # A rejected config is not retried; the other nodes still got theirs.
    applies = [a for a in ws.calls("talosctl") if a[0] == "apply-config"]
    assert len(applies) == 3
    assert "talos-worker-01: config applied" in result.stdout


def test_apply_gives_up_on_a_node_that_never_answers(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario(
        [{"tool": "talosctl", "match": ["apply-config", "--nodes", W2], "exit": 1,
          "stderr": "rpc error: code = Unavailable desc = connection refused"}]
    )  # fmt: skip
    result = ws.inv("talos.apply", "--node", "talos-worker-02", INVOKE_TALOS_TIMEOUTS_APPLY="0.3")
    assert result.returncode == 1
    assert "Timed out after 0.3s waiting for talos-worker-02 (192.168.50.12)" in result.stderr
    assert "look at: `inv talos.dmesg --node talos-worker-02`" in result.stderr


def test_apply_needs_generated_configs(ws: Workspace) -> None:
    result = ws.inv("talos.apply")
    assert result.returncode == 1
    assert "run `inv talos.config` first" in result.stderr
    assert ws.calls() == []


def test_unknown_node_lists_the_known_ones(ws: Workspace) -> None:
    result = ws.inv("talos.apply", "--node", "talos-worker-09")
    assert result.returncode == 1
    assert (
        "No node named 'talos-worker-09' in the cluster spec "
        "(known: talos-cp-01, talos-worker-01, talos-worker-02)." in result.stderr
    )


# -- health, upgrades -----------------------------------------------------------------------


def test_health(ws: Workspace) -> None:
    ws.seed(["config"])
    result = ws.inv("talos.health")
    assert result.returncode == 0, result.output
    assert ws.calls("talosctl") == [
        ["health", *target(ws), "--control-plane-nodes", CP,
         "--worker-nodes", f"{W1},{W2}", "--wait-timeout", "1s"],
    ]  # fmt: skip


def test_health_failure_names_what_to_look_at(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario([{"tool": "talosctl", "match": ["health"], "exit": 1}])
    result = ws.inv("talos.health")
    assert result.returncode == 1
    assert "check cluster health: talosctl exited with code 1." in result.stderr
    assert "look at: `inv talos.dashboard`" in result.stderr


def test_day2_needs_a_talosconfig(ws: Workspace) -> None:
    for task in ("talos.health", "talos.upgrade", "talos.kubeconfig", "talos.dmesg"):
        result = ws.inv(task)
        assert result.returncode == 1, task
        assert "No talosconfig at" in result.stderr and "run `inv talos.config`" in result.stderr
    assert ws.calls() == []


def version_reply(ip: str, version: str) -> dict[str, Any]:
    out = f"Client:\n\tTag: v{TALOS}\nServer:\n\tNODE: {ip}\n\tTag: v{version}\n"
    return {"tool": "talosctl", "match": ["version", "--nodes", ip], "stdout": out}


def test_upgrade_rolls_one_node_at_a_time_after_a_snapshot(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario([version_reply(CP, TALOS), version_reply(W1, OLD), version_reply(W2, OLD)])
    result = ws.inv("talos.upgrade")
    assert result.returncode == 0, result.output
    made = ws.calls("talosctl")
    assert made[0] == ["version", "--client"]
    assert [m[0] for m in made[1:4]] == ["version"] * 3
    snapshot = made[4]
    backups = ws.cluster_state / "backups"
    assert snapshot[:2] == ["etcd", "snapshot"]
    assert Path(snapshot[2]).parent == backups  # a temporary file beside the snapshot
    assert snapshot[3:] == target(ws)
    health = ["health", *target(ws), "--control-plane-nodes", CP,
              "--worker-nodes", f"{W1},{W2}", "--wait-timeout", "1s"]  # fmt: skip
    assert made[5:] == [
        ["upgrade", *target(ws, W1), "--image", INSTALLER, "--wait", "--timeout", "5s"],
        health,
        ["upgrade", *target(ws, W2), "--image", INSTALLER, "--wait", "--timeout", "5s"],
        health,
    ]
    assert f"talos-cp-01: already at v{TALOS}" in result.stdout
    assert f"talos-worker-01: v{OLD} -> v{TALOS}" in result.stdout
    assert backups.stat().st_mode & 0o777 == 0o700
    [kept] = backups.iterdir()
    assert kept.name.startswith("etcd-") and kept.name.endswith(f"-talos{TALOS}.snapshot")
    assert kept.stat().st_mode & 0o777 == 0o600
    assert kept.read_text() == "etcd snapshot bytes\n"


def test_upgrade_stops_when_the_cluster_is_unhealthy(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario(
        [
            version_reply(CP, OLD),
            version_reply(W1, OLD),
            version_reply(W2, OLD),
            {"tool": "talosctl", "match": ["health"], "exit": 1, "stderr": "etcd unhealthy"},
        ]
    )
    result = ws.inv("talos.upgrade", INVOKE_TALOS_TIMEOUTS_HEALTH="0.3")
    assert result.returncode == 1
    assert "waiting for the cluster to be healthy after upgrading talos-cp-01" in result.stderr
    assert "etcd unhealthy" in result.stderr
    upgraded = [m[1:] for m in ws.calls("talosctl") if m[0] == "upgrade"]
    assert len(upgraded) == 1 and CP in upgraded[0]


def test_upgrade_with_nothing_to_do(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario([version_reply(ip, TALOS) for ip in (CP, W1, W2)])
    result = ws.inv("talos.upgrade")
    assert result.returncode == 0, result.output
    assert f"every node runs Talos v{TALOS}: nothing to do." in result.stdout
    assert [m[0] for m in ws.calls("talosctl")] == ["version"] * 4
    ws.fake.reset_log()
    forced = ws.inv("talos.upgrade", "--node", "talos-worker-02", "--force")
    assert forced.returncode == 0, forced.output
    # The preflight asks every node (the gate covers the cluster), the roll touches one.
    assert [m[0] for m in ws.calls("talosctl")] == [*["version"] * 4, "etcd", "upgrade", "health"]


def test_upgrade_k8s(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario([version_reply(ip, TALOS) for ip in (CP, W1, W2)])
    assert ws.inv("talos.upgrade-k8s", "--preview").returncode == 0
    assert ws.inv("talos.upgrade-k8s").returncode == 0
    made = [m for m in ws.calls("talosctl") if m[0] != "version"]
    assert made[0] == ["upgrade-k8s", *target(ws), "--to", VERSIONS.kubernetes, "--dry-run"]
    assert made[1][:2] == ["etcd", "snapshot"]  # only a real upgrade takes one
    assert made[2] == ["upgrade-k8s", *target(ws), "--to", VERSIONS.kubernetes]
    assert made[3][0] == "health"  # the final gate
    assert len(made) == 4


# -- reset, kubeconfig, passthroughs --------------------------------------------------------


def test_reset_refuses_without_yes_and_without_a_terminal(ws: Workspace) -> None:
    ws.seed(["config", "apply"])
    result = ws.inv("talos.reset")
    assert result.returncode == 1
    assert "Refusing without a terminal to confirm: pass --yes." in result.stderr
    assert ws.calls() == []
    assert ws.phases() == ["apply", "config"]


def test_reset_workers_first_and_forgets_the_bootstrap(ws: Workspace) -> None:
    ws.seed(["config", "apply", "bootstrap-etcd"])
    result = ws.inv("talos.reset", "--yes")
    assert result.returncode == 0, result.output
    flags = ["--graceful=false", "--reboot", "--wait=false"]
    assert ws.calls("talosctl") == [
        ["reset", *target(ws, W1), *flags],
        ["reset", *target(ws, W2), *flags],
        ["reset", *target(ws, CP), *flags],
    ]
    assert ws.phases() == []
    assert "run `inv talos.bootstrap`" in result.stdout


def test_kubeconfig_merges_with_the_cluster_context(ws: Workspace, tmp_path: Path) -> None:
    ws.seed(["config"])
    mine = tmp_path / "kube" / "config"
    assert ws.inv("talos.kubeconfig").returncode == 0
    result = ws.inv("talos.kubeconfig", "--path", str(mine))
    assert result.returncode == 0, result.output
    tail = ["--merge", "--force", "--force-context-name", "propertea-local"]
    assert ws.calls("talosctl") == [
        ["kubeconfig", ws.kubeconfig, *target(ws), *tail],
        ["kubeconfig", str(mine), *target(ws), *tail],
    ]
    assert mine.exists()
    assert f"export KUBECONFIG={mine}" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["talos.dashboard"],
            ["dashboard", "--talosconfig", "{tc}", "--nodes", f"{CP},{W1},{W2}", "--endpoints", CP],
        ),
        (
            ["talos.logs", "kubelet", "--node", "talos-worker-01", "--follow", "--tail", "50"],
            [
                "logs",
                "kubelet",
                "--talosconfig",
                "{tc}",
                "--nodes",
                W1,
                "--endpoints",
                W1,
                "--follow",
                "--tail",
                "50",
            ],
        ),
        (
            ["talos.logs", "cilium-agent", "--kubernetes"],
            [
                "logs",
                "cilium-agent",
                "--talosconfig",
                "{tc}",
                "--nodes",
                CP,
                "--endpoints",
                CP,
                "--kubernetes",
            ],
        ),
        (
            ["talos.dmesg", "--follow", "--tail"],
            [
                "dmesg",
                "--talosconfig",
                "{tc}",
                "--nodes",
                CP,
                "--endpoints",
                CP,
                "--follow",
                "--tail",
            ],
        ),
        (
            ["talos.stats", "--node", "talos-worker-02", "--kubernetes"],
            ["stats", "--talosconfig", "{tc}", "--nodes", W2, "--endpoints", W2, "--kubernetes"],
        ),
    ],
)
def test_passthroughs(ws: Workspace, args: list[str], expected: list[str]) -> None:
    ws.seed(["config"])
    result = ws.inv(*args)
    assert result.returncode == 0, result.output
    assert ws.calls("talosctl") == [[a.replace("{tc}", ws.talosconfig) for a in expected]]


def test_passthrough_exit_code_is_kept(ws: Workspace) -> None:
    ws.seed(["config"])
    ws.scenario([{"tool": "talosctl", "match": ["logs"], "exit": 3}])
    result = ws.inv("talos.logs", "etcd")
    assert result.returncode == 3
    assert "talosctl exited with code 3" in result.stderr


def test_phases_file_is_valid_json_after_reset(ws: Workspace) -> None:
    ws.seed(["config"])
    assert ws.inv("talos.reset", "--yes", "--node", "talos-worker-02").returncode == 0
    data = json.loads((ws.cluster_state / "phases.json").read_text())
    assert data == {}


def test_missing_talosctl_names_how_to_install_it(ws: Workspace, tmp_path: Path) -> None:
    ws.seed(["config"])
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = ws.inv("talos.health", PATH=str(empty))
    assert result.returncode == 1
    assert "`talosctl` is not installed or not on PATH (check cluster health)." in result.stderr
    assert "Install: curl -sL https://talos.dev/install" in result.stderr


@pytest.mark.parametrize("tail", ["lots", "-5", "2.5"])
def test_tail_must_be_a_number(ws: Workspace, tail: str) -> None:
    result = ws.inv("talos.logs", "etcd", "--tail", tail)
    assert result.returncode == 2
    assert f"--tail {tail!r}: expected a number of lines (0 or more)." in result.stderr
    assert ws.fake.argvs() == []
