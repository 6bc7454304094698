"""The version support table and each pair's verdict (tasks.talos.support)."""

from __future__ import annotations

import pytest

from tasks.talos import support
from tasks.talos.support import Level, Purpose, Versions

#: The spec's pins (deploy/local-cluster/cluster.yaml) as the baseline of a good cluster.
GOOD = Versions(talos="1.13.9", kubernetes="1.36.3", cilium="1.18.4", gateway_api="1.3.0")


@pytest.mark.parametrize(
    ("talos", "kubernetes", "level"),
    [
        # Every Talos row at its edges: min is inclusive, MaximumKubernetesVersion 1.N.99 too.
        *[
            (f"{t[0]}.{t[1]}.0", show, level)
            for t, row in support.TALOS.items()
            for show, level in (
                (support.show(row.kubernetes_min), Level.OK),
                (f"{row.kubernetes_below[0]}.{row.kubernetes_below[1] - 1}.99", Level.OK),
                (support.show(row.kubernetes_below), Level.FAIL),
                (f"{row.kubernetes_min[0]}.{row.kubernetes_min[1] - 1}.9", Level.FAIL),
            )
        ],
        ("1.9.5", "1.30.0", Level.WARN),  # no row: a warning naming the source, never a pass
    ],
)
def test_talos_and_kubernetes(talos: str, kubernetes: str, level: Level) -> None:
    assert support.check_talos_kubernetes(talos, kubernetes, pair="p").level is level


def test_too_new_kubernetes_names_the_talos_that_runs_it_and_the_order() -> None:
    found = support.check_talos_kubernetes("1.13.9", "1.37.1", pair="p")
    assert found.level is Level.FAIL
    assert "Kubernetes 1.37.1 is too new for Talos 1.13.9" in found.detail
    assert "Talos with Kubernetes 1.37: 1.14, 1.15" in found.fix
    assert found.fix.index("`inv talos.upgrade`") < found.fix.index("`inv talos.upgrade-k8s`")


def test_too_old_kubernetes_says_upgrade_kubernetes_first() -> None:
    found = support.check_talos_kubernetes("1.14.1", "1.31.4", pair="p")
    assert found.level is Level.FAIL
    assert "supports Kubernetes 1.32.0 up to (not including) 1.38.0" in found.fix
    assert "upgrade Kubernetes first" in found.fix


@pytest.mark.parametrize(
    ("running", "target", "level", "words"),
    [
        ("1.13.9", "1.13.9", Level.OK, "runs Talos"),
        ("1.12.4", "1.13.9", Level.OK, "->"),
        ("1.11.0", "1.13.9", Level.WARN, "skips a minor"),  # allowed upstream, not tested
        ("1.10.7", "1.13.9", Level.FAIL, "too old to upgrade"),
        ("1.15.0", "1.13.9", Level.FAIL, "too new to downgrade"),
        ("1.14.2", "1.13.9", Level.OK, "->"),
        ("1.12.0", "1.16.0", Level.WARN, "no row"),
    ],
)
def test_talos_upgrade_path(running: str, target: str, level: Level, words: str) -> None:
    found = support.check_talos_upgrade("cp", running, target)
    assert found.level is level
    assert words in found.detail


@pytest.mark.parametrize(
    ("client", "servers", "target", "level"),
    [
        ("1.13.9", ["1.13.9"], "1.13.9", Level.OK),
        ("1.14.0", ["1.13.9"], "1.13.9", Level.OK),
        ("1.12.3", ["1.12.3"], "1.13.9", Level.WARN),  # older than the target: install it first
        ("1.11.0", ["1.13.9"], "1.13.9", Level.FAIL),
        ("1.13.9", ["1.11.2"], "1.13.9", Level.FAIL),  # a node two minors away
        ("2.0.0", [], "1.13.9", Level.FAIL),
    ],
)
def test_talosctl_skew(client: str, servers: list[str], target: str, level: Level) -> None:
    assert support.check_talosctl(client, servers, target).level is level


@pytest.mark.parametrize(
    ("cilium", "kubernetes", "level"),
    [
        ("1.18.4", "1.30.0", Level.OK),
        ("1.18.4", "1.33.9", Level.OK),
        ("1.18.4", "1.29.9", Level.FAIL),  # older than listed: unsupported
        ("1.18.4", "1.34.0", Level.WARN),  # newer than listed: untested
        ("1.19.3", "1.35.1", Level.OK),
        ("1.19.3", "1.31.0", Level.FAIL),
        ("1.20.2", "1.36.3", Level.WARN),  # no row
    ],
)
def test_cilium_and_kubernetes(cilium: str, kubernetes: str, level: Level) -> None:
    assert support.check_cilium_kubernetes(cilium, kubernetes).level is level


@pytest.mark.parametrize(
    ("argocd", "kubernetes", "level"),
    [
        ("3.2.1", "1.34.2", Level.OK),
        ("3.0.0", "1.28.0", Level.FAIL),
        ("3.1.9", "1.35.0", Level.WARN),
        ("3.5.1", "1.36.3", Level.WARN),
    ],
)
def test_argocd_and_kubernetes(argocd: str, kubernetes: str, level: Level) -> None:
    assert support.check_argocd_kubernetes(argocd, kubernetes).level is level


@pytest.mark.parametrize(
    ("cilium", "gateway", "level"),
    [
        ("1.18.0", "1.3.0", Level.OK),
        ("1.18.0", "1.2.1", Level.FAIL),
        ("1.18.0", "1.4.0", Level.WARN),
        ("1.20.2", "1.6.1", Level.WARN),
    ],
)
def test_cilium_and_gateway_api(cilium: str, gateway: str, level: Level) -> None:
    assert support.check_cilium_gateway_api(cilium, gateway).level is level


@pytest.mark.parametrize(
    ("running", "target", "level"),
    [
        ("1.35.2", "1.36.3", Level.OK),
        ("1.36.3", "1.36.3", Level.OK),
        ("1.34.0", "1.36.3", Level.FAIL),
        ("1.36.3", "1.35.0", Level.FAIL),
    ],
)
def test_kubernetes_moves_one_minor_at_a_time(running: str, target: str, level: Level) -> None:
    assert support.check_kubernetes_step(running, target).level is level


def _levels(versions: Versions, purpose: Purpose) -> dict[str, Level]:
    return {f.pair: f.level for f in support.assess(versions, purpose)}


def test_the_order_rule_decides_what_stops_which_upgrade() -> None:
    # Nodes on Talos 1.12 (Kubernetes below 1.36), the spec moves both to 1.13.9 / 1.36.3.
    old_talos = Versions(
        talos="1.13.9",
        kubernetes="1.36.3",
        cilium="1.18.4",
        gateway_api="1.3.0",
        running_talos={"cp": "1.12.4"},
        running_kubernetes="1.35.1",
    )
    pair = "running Talos vs target Kubernetes (cp)"
    assert _levels(old_talos, Purpose.UPGRADE_K8S)[pair] is Level.FAIL  # Talos first
    assert _levels(old_talos, Purpose.UPGRADE)[pair] is Level.WARN
    assert not support.failures(support.assess(old_talos, Purpose.UPGRADE))
    # Kubernetes too old for the new Talos: the Talos upgrade waits for Kubernetes.
    old_k8s = Versions(
        talos="1.14.1",
        kubernetes="1.32.5",
        cilium="1.18.4",
        gateway_api="1.3.0",
        running_talos={"cp": "1.13.9"},
        running_kubernetes="1.31.4",
    )
    pair = "target Talos vs running Kubernetes (cp)"
    assert _levels(old_k8s, Purpose.UPGRADE)[pair] is Level.FAIL
    assert _levels(old_k8s, Purpose.UPGRADE_K8S)[pair] is Level.WARN
    assert not support.failures(support.assess(old_k8s, Purpose.UPGRADE_K8S))


def test_a_good_cluster_passes_every_purpose() -> None:
    running = Versions(
        **{**GOOD.__dict__, "running_talos": {"cp": "1.13.9"}, "running_kubernetes": "1.36.3"},
    )
    for purpose in Purpose:
        assert not support.failures(support.assess(running, purpose)), purpose
        assert not support.failures(support.assess(GOOD, purpose)), purpose


def test_the_spec_pins_pass_their_own_preflight() -> None:
    from tasks.core.config import load_spec
    from tests.conftest import REPO

    spec = load_spec(REPO / "deploy" / "local-cluster" / "cluster.yaml").spec
    v = spec.versions
    pinned = Versions(
        talos=v.talos,
        kubernetes=v.kubernetes,
        cilium=v.cilium,
        gateway_api=v.gateway_api,
        argocd=v.tools.get("argocd"),
        talosctl=v.tools.get("talosctl"),
    )
    assert not support.failures(support.assess(pinned, Purpose.BOOTSTRAP))


def test_versions_parse_leniently_but_refuse_garbage() -> None:
    assert support.parse("v1.36.3") == (1, 36, 3)
    assert support.parse("1.37") == (1, 37, 0)
    assert support.parse("1.14.0-beta.1") == (1, 14, 0)
    with pytest.raises(ValueError, match="not a version"):
        support.parse("latest")
