"""`inv talos.bootstrap`: the whole sequence, resume after a failure in any phase, retries,
AlreadyExists, bounded waits and their messages, --from / --only."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from tests.integration.talos.conftest import CP, VERSIONS, W1, W2, Workspace

pytestmark = pytest.mark.integration

NODES = (("talos-cp-01", CP), ("talos-worker-01", W1), ("talos-worker-02", W2))
ALL_PHASES = [
    "config", "wait-maintenance", "apply", "bootstrap-etcd", "kubeconfig",
    "gateway-api-crds", "cilium", "nodes-ready",
]  # fmt: skip


def probe(ip: str) -> list[str]:
    return ["talosctl", "get", "disks", "--insecure", "--nodes", ip, "--endpoints", ip]


def expected_after_config(ws: Workspace) -> dict[str, list[list[str]]]:
    cfg = ws.config_dir
    kube = ["kubectl", "--kubeconfig", ws.kubeconfig, "--context", "propertea-local"]
    target = ["--talosconfig", ws.talosconfig, "--nodes", CP, "--endpoints", CP]
    return {
        "wait-maintenance": [probe(ip) for _, ip in NODES],
        "apply": [
            call
            for name, ip in NODES
            for call in (
                probe(ip),
                [
                    "talosctl",
                    "apply-config",
                    "--insecure",
                    "--nodes",
                    ip,
                    "--endpoints",
                    ip,
                    "--file",
                    str(cfg / "nodes" / f"{name}.yaml"),
                ],
            )
        ],
        "bootstrap-etcd": [["talosctl", "bootstrap", *target]],
        "kubeconfig": [
            [
                "talosctl",
                "kubeconfig",
                ws.kubeconfig,
                *target,
                "--merge",
                "--force",
                "--force-context-name",
                "propertea-local",
            ],
            [*kube, "get", "--raw", "/readyz"],
        ],
        "gateway-api-crds": [
            [
                *kube,
                "apply",
                "--server-side",
                "--force-conflicts",
                "--kustomize",
                "deploy/infrastructure/gateway-api-crds",
            ]
        ],
        "cilium": [
            ["helm", "repo", "add", "cilium", "https://helm.cilium.io/", "--force-update"],
            [
                "helm",
                "upgrade",
                "--install",
                "cilium",
                "cilium/cilium",
                "--version",
                VERSIONS.cilium,
                "--namespace",
                "kube-system",
                "--values",
                str(ws.cluster_state / "cilium-values.yaml"),
                "--wait",
                "--timeout",
                "1s",
                "--kubeconfig",
                ws.kubeconfig,
                "--kube-context",
                "propertea-local",
            ],
        ],
        "nodes-ready": [
            [
                "cilium",
                "status",
                "--wait",
                "--wait-duration",
                "1s",
                "--kubeconfig",
                ws.kubeconfig,
                "--context",
                "propertea-local",
            ],
            [*kube, "wait", "--for=condition=Ready", "nodes", "--all", "--timeout=1s"],
        ],
    }


def calls(ws: Workspace) -> list[list[str]]:
    return [[r["tool"], *r["argv"]] for r in ws.fake.calls()]


def test_whole_bootstrap_in_order(ws: Workspace) -> None:
    ws.encrypt_bundle()
    result = ws.inv("talos.bootstrap")
    assert result.returncode == 0, result.output
    made = calls(ws)
    # config phase: gen config, 3 x (patch, validate), talosconfig endpoint and node.
    assert made[0][:3] == ["talosctl", "gen", "config"]
    assert len([c for c in made if c[1] in {"gen", "machineconfig", "validate", "config"}]) == 9
    rest = made[9:]
    expected = expected_after_config(ws)
    wait, apply = expected["wait-maintenance"], expected["apply"]
    assert rest[:3] == wait
    # apply runs on every node at once: same calls, any interleaving.
    assert Counter(map(tuple, rest[3:9])) == Counter(map(tuple, apply))
    tail = [c for phase in ALL_PHASES[3:] for c in expected[phase]]
    assert rest[9:] == tail
    assert ws.phases() == sorted(ALL_PHASES)
    for index, phase in enumerate(ALL_PHASES, 1):
        assert f"==> [{index}/9] {phase}:" in result.stdout
    assert "hand-over is off" in result.stdout
    values = (ws.cluster_state / "cilium-values.yaml").read_text()
    assert '"k8sServicePort": 7445' in values and "cilium:" not in values

    # Everything recorded: a second run changes nothing.
    ws.fake.reset_log()
    again = ws.inv("talos.bootstrap")
    assert again.returncode == 0, again.output
    assert calls(ws) == []
    assert "[8/9] nodes-ready: done earlier, skipped" in again.stdout


def fail(tool: str, *match: str, **extra: Any) -> dict[str, Any]:
    return {"tool": tool, "match": list(match), "exit": 1, "stderr": "injected failure\n", **extra}


FAILURES: dict[str, list[dict[str, Any]]] = {
    "config": [fail("talosctl", "gen", "config")],
    "wait-maintenance": [fail("talosctl", "get", "--insecure"), fail("talosctl", "version")],
    # One node only: the fake's per-rule call counter is not safe for concurrent calls.
    "apply": [fail("talosctl", "apply-config", "--nodes", CP)],
    "bootstrap-etcd": [fail("talosctl", "bootstrap")],
    "kubeconfig": [fail("kubectl", "get", "--raw")],
    "gateway-api-crds": [fail("kubectl", "apply")],
    "cilium": [fail("helm", "upgrade")],
    "nodes-ready": [fail("kubectl", "wait")],
}

#: Failing waits give up quickly.
SHORT = {
    f"INVOKE_TALOS_TIMEOUTS_{name}": "0.3"
    for name in ("MAINTENANCE", "APPLY", "BOOTSTRAP", "KUBERNETES_API", "CILIUM", "NODES_READY")
}

LOOK_AT = {
    "config": "generate the machine configs failed",
    "wait-maintenance": "look at: `inv infra.status`",
    "apply": "try: `talosctl validate --config",
    "bootstrap-etcd": "look at: `inv talos.logs etcd`",
    "kubeconfig": "look at: `inv talos.logs kubelet`",
    "gateway-api-crds": "look at: `inv talos.logs kubelet`",
    "cilium": "look at: `kubectl -n kube-system get pods -l k8s-app=cilium`",
    "nodes-ready": "look at: `kubectl get nodes -o wide`",
}


@pytest.mark.parametrize("phase", list(FAILURES))
def test_resumes_at_the_phase_that_failed(ws: Workspace, phase: str) -> None:
    """Earlier phases are seeded as finished (the whole run is covered above) to keep this fast."""
    ws.encrypt_bundle()
    ws.seed(ALL_PHASES[: ALL_PHASES.index(phase)])
    ws.scenario(FAILURES[phase])
    failed = ws.inv("talos.bootstrap", **SHORT)
    assert failed.returncode == 1, failed.output
    assert "Traceback" not in failed.output
    assert LOOK_AT[phase] in failed.stderr
    assert f"Phase {phase} did not finish." in failed.stderr
    assert f"`--only {phase}` retries just this one" in failed.stderr
    before = ALL_PHASES[: ALL_PHASES.index(phase)]
    assert ws.phases() == sorted(before)

    ws.scenario([])
    resumed = ws.inv("talos.bootstrap")
    assert resumed.returncode == 0, resumed.output
    assert ws.phases() == sorted(ALL_PHASES)
    for done in before:
        assert f"{done}: done earlier, skipped" in resumed.stdout
    made = calls(ws)
    if phase != "config":
        expected = expected_after_config(ws)
        assert made[0] in expected[phase], made[0]
        assert not any(c[:3] == ["talosctl", "gen", "config"] for c in made)


def test_waits_are_bounded_by_the_configured_timeout(ws: Workspace) -> None:
    """A hung tool is killed at the deadline; the message names the wait and the timeout."""
    ws.encrypt_bundle()
    ws.seed(ALL_PHASES[: ALL_PHASES.index("cilium")])
    ws.scenario([{"tool": "helm", "match": ["upgrade"], "sleep": 30}])
    result = ws.inv("talos.bootstrap", INVOKE_TALOS_TIMEOUTS_CILIUM="1.5")
    assert result.returncode == 1, result.output
    assert (
        f"Timed out after 1.5s waiting for Cilium {VERSIONS.cilium} to install (1 attempt(s))."
        in result.stderr
    )
    assert "timed out after" in result.stderr
    assert ws.phases() == sorted(ALL_PHASES[: ALL_PHASES.index("cilium")])


def test_a_phase_is_bounded_by_its_deadline_not_only_each_command(ws: Workspace) -> None:
    """gen config names no timeout of its own (the runner's 15 min default): the config phase's
    budget (4 x talos.timeouts.command) stops it, and the error names the phase."""
    ws.encrypt_bundle()
    ws.scenario([{"tool": "talosctl", "match": ["gen", "config"], "sleep": 30}])
    started = time.monotonic()
    result = ws.inv("talos.bootstrap", INVOKE_TALOS_TIMEOUTS_COMMAND="0.5")
    assert time.monotonic() - started < 20
    assert result.returncode == 1, result.output
    assert "timed out after" in result.stderr
    assert "(phase config ran past its deadline of 2s)" in result.stderr
    assert "Phase config did not finish" in result.stderr
    assert ws.phases() == []


def test_bootstrap_retries_until_the_node_answers(ws: Workspace) -> None:
    ws.encrypt_bundle()
    ws.scenario(
        [
            {
                "tool": "talosctl",
                "match": ["bootstrap"],
                "fail_times": 3,
                "fail_stderr": "rpc error: code = Unavailable desc = connection refused\n",
            }
        ]
    )
    result = ws.inv(
        "talos.bootstrap", "--from", "bootstrap-etcd", INVOKE_TALOS_TIMEOUTS_BOOTSTRAP="30"
    )
    assert result.returncode == 0, result.output
    assert len(ws.fake.argvs("talosctl")) == 4 + 1  # 4 bootstrap attempts, then kubeconfig
    assert (
        "waiting for talos-cp-01 to install, reboot and bootstrap etcd (up to 30s)" in result.stdout
    )


def test_already_bootstrapped_etcd_counts_as_done(ws: Workspace) -> None:
    ws.encrypt_bundle()
    ws.scenario(
        [
            {
                "tool": "talosctl",
                "match": ["bootstrap"],
                "exit": 1,
                "stderr": "rpc error: code = AlreadyExists desc = etcd data directory is not empty",
            }
        ]
    )
    result = ws.inv("talos.bootstrap", "--only", "bootstrap-etcd")
    assert result.returncode == 0, result.output
    assert ws.phases() == ["bootstrap-etcd"]
    assert [c[0] for c in ws.fake.argvs()] == ["bootstrap"]


def test_wait_maintenance_accepts_configured_nodes_and_reports_unreachable_ones(
    ws: Workspace,
) -> None:
    ws.seed(["config"])
    ws.scenario(
        [
            fail("talosctl", "get", "--insecure", "--nodes", CP),
            fail("talosctl", "get", "--insecure", "--nodes", W2),
            fail(
                "talosctl",
                "version",
                "--nodes",
                W2,
                stderr="dial tcp 192.168.50.12:50000: i/o timeout\n",
            ),
        ]
    )
    result = ws.inv("talos.bootstrap", "--only", "wait-maintenance")
    assert result.returncode == 1
    assert "talos-cp-01 (192.168.50.10): configured" in result.stdout
    assert "talos-worker-01 (192.168.50.11): maintenance" in result.stdout
    assert (
        "Timed out after 1s waiting for the Talos API of "
        "talos-cp-01, talos-worker-01, talos-worker-02" in result.stderr
    )
    assert (
        "talos-worker-02 (192.168.50.12): dial tcp 192.168.50.12:50000: i/o timeout"
        in result.stderr
    )


def test_from_reruns_later_phases_and_only_runs_one(ws: Workspace) -> None:
    ws.encrypt_bundle()
    ws.seed(ALL_PHASES)
    result = ws.inv("talos.bootstrap", "--from", "cilium")
    assert result.returncode == 0, result.output
    assert [c[0] for c in calls(ws)] == ["helm", "helm", "cilium", "kubectl"]
    ws.fake.reset_log()
    result = ws.inv("talos.bootstrap", "--only", "gateway-api-crds")
    assert result.returncode == 0, result.output
    assert [c[0] for c in calls(ws)] == ["kubectl"]


def test_bad_phase_name(ws: Workspace) -> None:
    result = ws.inv("talos.bootstrap", "--from", "etcd")
    assert result.returncode == 2
    assert (
        "--from 'etcd': not a phase. Phases, in order: config, wait-maintenance, apply"
        in result.stderr
    )
    assert calls(ws) == []


def test_missing_components_fail_their_phase_with_the_setting_to_fix(ws: Workspace) -> None:
    ws.encrypt_bundle()
    ws.seed(ALL_PHASES[: ALL_PHASES.index("cilium")])
    (ws.root / "deploy/infrastructure/cilium/values.yaml").unlink()
    result = ws.inv("talos.bootstrap")
    assert result.returncode == 1
    assert (
        "Cilium values not found at deploy/infrastructure/cilium/values.yaml "
        "(Invoke config talos.cilium_values)." in result.stderr
    )
    assert ws.phases() == sorted(ALL_PHASES[: ALL_PHASES.index("cilium")])
