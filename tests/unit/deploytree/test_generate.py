"""`tree.generate`: change the spec, and the derived files follow (comments kept)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tasks.core.config import ClusterSpec, load_spec
from tasks.deploytree import tree
from tests.unit.deploytree.conftest import OWNED, SPEC, docs, write_changes


def _generate(root: Path, spec: ClusterSpec) -> list[tree.FileChange]:
    """Generate and write every change, as `inv gitops.generate` does."""
    return write_changes(root, tree.generate(spec, tree.Workspace(root)))


def test_committed_tree_matches_the_spec_with_verified_versions(repo: Path) -> None:
    spec = load_spec(repo / SPEC).spec
    drift = [c.describe() for c in tree_changes(repo, spec) if str(c.path).startswith(OWNED)]
    assert drift == []


def tree_changes(root: Path, spec: ClusterSpec) -> list[tree.FileChange]:
    return tree.generate(spec, tree.Workspace(root))


def test_a_second_run_changes_nothing(
    repo: Path, edit_spec: Callable[[Callable[[str], str]], ClusterSpec]
) -> None:
    spec = edit_spec(
        lambda t: t.replace("gateway_ip: 192.168.50.200", "gateway_ip: 192.168.50.210")
    )
    assert _generate(repo, spec)
    assert tree_changes(repo, spec) == []


def test_pool_blocks_follow_the_spec_and_comments_survive(
    repo: Path, edit_spec: Callable[[Callable[[str], str]], ClusterSpec]
) -> None:
    spec = edit_spec(
        lambda t: (
            t.replace("start: 192.168.50.200", "start: 192.168.50.220")
            .replace("end: 192.168.50.230", "end: 192.168.50.240")
            .replace("gateway_ip: 192.168.50.200", "gateway_ip: 192.168.50.221")
        )
    )
    changes = _generate(repo, spec)

    pool_file = repo / "deploy/infrastructure/cilium-lb/ip-pool.yaml"
    assert docs(pool_file)[0]["spec"]["blocks"] == [
        {"start": "192.168.50.220", "stop": "192.168.50.240"}
    ]
    assert "# The range is load_balancer.pool in cluster.yaml" in pool_file.read_text()
    assert any(c.path.name == "ip-pool.yaml" and "spec.blocks" in c.describe() for c in changes)


def test_gateway_address_follows_gateway_ip(
    repo: Path, edit_spec: Callable[[Callable[[str], str]], ClusterSpec]
) -> None:
    spec = edit_spec(
        lambda t: t.replace("gateway_ip: 192.168.50.200", "gateway_ip: 192.168.50.229")
    )
    _generate(repo, spec)

    gateway_file = repo / "deploy/infrastructure/gateway/gateway.yaml"
    gateway = docs(gateway_file)[0]
    assert gateway["spec"]["addresses"] == [{"type": "IPAddress", "value": "192.168.50.229"}]
    assert "# Only the redirect below attaches here." in gateway_file.read_text()


def test_node_patches_follow_the_node_list(
    repo: Path, edit_spec: Callable[[Callable[[str], str]], ClusterSpec]
) -> None:
    spec = edit_spec(lambda t: t.replace("talos-worker-02", "talos-worker-09"))
    changes = _generate(repo, spec)

    nodes = repo / "deploy/local-cluster/patches/nodes"
    assert sorted(p.name for p in nodes.iterdir()) == [
        "talos-cp-01.yaml",
        "talos-worker-01.yaml",
        "talos-worker-09.yaml",
    ]
    machine, hostname = docs(nodes / "talos-worker-09.yaml")
    assert hostname == {
        "apiVersion": "v1alpha1",
        "kind": "HostnameConfig",
        "auto": "off",
        "hostname": "talos-worker-09",
    }
    assert machine == {
        "machine": {
            "nodeLabels": {
                "propertea.io/cluster": spec.cluster.name,
                "propertea.io/node-role": "worker",
            }
        }
    }
    removed = [c for c in changes if c.after is None]
    assert [c.path.name for c in removed] == ["talos-worker-02.yaml"]
    assert "no such node" in removed[0].describe()


def test_control_plane_patch_carries_its_role(repo: Path) -> None:
    _generate(repo, load_spec(repo / SPEC).spec)
    machine, hostname = docs(repo / "deploy/local-cluster/patches/nodes/talos-cp-01.yaml")
    assert machine["machine"]["nodeLabels"]["propertea.io/node-role"] == "controlplane"
    assert hostname["hostname"] == "talos-cp-01"


def test_installer_image_and_schematic_follow_extensions_and_talos_version(
    repo: Path, edit_spec: Callable[[Callable[[str], str]], ClusterSpec]
) -> None:
    spec = edit_spec(
        lambda t: t.replace("    - siderolabs/util-linux-tools\n", "").replace(
            "talos: 1.13.9", "talos: 1.13.8"
        )
    )
    _generate(repo, spec)

    common_file = repo / "deploy/local-cluster/patches/common.yaml"
    image = docs(common_file)[0]["machine"]["install"]["image"]
    only_iscsi = tree_schematic_id(["siderolabs/iscsi-tools"])
    assert image == f"factory.talos.dev/metal-installer/{only_iscsi}:v1.13.8"
    assert "# The libvirt guests get one virtio disk." in common_file.read_text()
    schematic = docs(repo / "deploy/local-cluster/schematic.yaml")[0]
    assert schematic == {
        "customization": {"systemExtensions": {"officialExtensions": ["siderolabs/iscsi-tools"]}}
    }


def tree_schematic_id(extensions: list[str]) -> str:
    from tasks.infra.schematic import schematic_id

    return schematic_id(extensions)


def test_pinned_versions_follow_the_spec(
    repo: Path, edit_spec: Callable[[Callable[[str], str]], ClusterSpec]
) -> None:
    spec = edit_spec(
        lambda t: (
            t.replace("cilium: 1.20.2", "cilium: 1.20.3")
            .replace("gateway_api: 1.6.1", "gateway_api: 1.6.2")
            .replace("argocd_chart: 10.3.3", "argocd_chart: 10.4.1")
        )
    )
    _generate(repo, spec)

    infra = repo / "deploy/infrastructure"
    assert docs(infra / "cilium/Chart.yaml")[0]["dependencies"][0]["version"] == "1.20.3"
    assert docs(infra / "argocd/Chart.yaml")[0]["dependencies"][0]["version"] == "10.4.1"
    crds = docs(infra / "gateway-api-crds/kustomization.yaml")[0]["resources"]
    assert crds == [
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.2/standard-install.yaml"
    ]


def test_rolling_steps_follow_component_waves(repo: Path) -> None:
    extra = repo / "deploy/infrastructure/extra"
    extra.mkdir()
    (extra / "component.yaml").write_text("name: extra\nnamespace: extra\nwave: 7\n")
    _generate(repo, load_spec(repo / SPEC).spec)

    appset = docs(repo / "deploy/bootstrap/apps/infrastructure.yaml")[0]
    steps = appset["spec"]["strategy"]["rollingSync"]["steps"]
    waves = [s["matchExpressions"][0]["values"] for s in steps[:-1]]
    assert waves == [["w-5"], ["w-4"], ["w-3"], ["w-2"], ["w-1"], ["w0"], ["w7"]]
    assert steps[-1]["matchExpressions"][0] == {
        "key": "propertea.io/wave",
        "operator": "NotIn",
        "values": ["w-5", "w-4", "w-3", "w-2", "w-1", "w0", "w7"],
    }


def test_a_layer_without_components_still_has_a_catch_all_step() -> None:
    assert tree.rolling_steps("observability", []) == [
        {
            "matchExpressions": [
                {"key": "propertea.io/layer", "operator": "In", "values": ["observability"]}
            ]
        }
    ]


def test_httproute_hostnames_move_to_the_base_domain(
    repo: Path, edit_spec: Callable[[Callable[[str], str]], ClusterSpec]
) -> None:
    route = repo / "deploy/infrastructure/extra/route.yaml"
    route.parent.mkdir()
    route.write_text(
        "# keep me\n"
        "apiVersion: gateway.networking.k8s.io/v1\n"
        "kind: HTTPRoute\n"
        "metadata:\n  name: grafana\n"
        "spec:\n  hostnames:\n    - grafana.example.org\n    - grafana.lab.propertea.dev\n"
    )
    _generate(repo, load_spec(repo / SPEC).spec)

    assert docs(route)[0]["spec"]["hostnames"] == [
        "grafana.lab.propertea.dev",
        "grafana.lab.propertea.dev",
    ]
    assert route.read_text().startswith("# keep me\n")


def test_argo_paths_follow_gitops_path_and_stay_put_on_a_second_run(
    repo: Path, edit_spec: Callable[[Callable[[str], str]], ClusterSpec]
) -> None:
    spec = edit_spec(lambda t: t.replace("  path: deploy\n", "  path: platform/deploy\n"))
    _generate(repo, spec)

    root_app = docs(repo / "deploy/bootstrap/root-application.yaml")[0]
    assert root_app["spec"]["source"]["path"] == "platform/deploy/bootstrap/apps"
    appset = docs(repo / "deploy/bootstrap/apps/services.yaml")[0]
    git = appset["spec"]["generators"][0]["matrix"]["generators"][0]["git"]
    assert git["files"] == [{"path": "platform/deploy/services/*/component.yaml"}]
    assert appset["spec"]["template"]["spec"]["source"]["path"] == "{{ .path.path }}"
    assert tree_changes(repo, spec) == []
