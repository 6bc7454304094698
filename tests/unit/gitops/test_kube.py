"""Which kubeconfig cluster-bound commands use, and the argocd --core overlay."""

from __future__ import annotations

from pathlib import Path

import pytest
from invoke.config import Config
from invoke.context import Context
from ruamel.yaml import YAML

from tasks.core.errors import UserError
from tasks.core.runner import Runner
from tasks.gitops.kube import Kube, overlay_for, resolve

REPO = Path(__file__).resolve().parents[3]


def context(state: Path, *, dry: bool = False) -> Context:
    return Context(
        Config(
            overrides={
                "state": {"dir": str(state)},
                "cluster": {"file": str(REPO / "deploy/local-cluster/cluster.yaml")},
                "run": {"dry": dry},
            }
        )
    )


def test_the_state_dir_kubeconfig_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_kubeconfig = tmp_path / "propertea-local" / "kubeconfig"
    state_kubeconfig.parent.mkdir()
    state_kubeconfig.write_text("{}")
    other = tmp_path / "other"
    other.write_text("{}")
    monkeypatch.setenv("KUBECONFIG", str(other))
    kube = Runner().converge(resolve(context(tmp_path)))
    assert kube.kubeconfig == state_kubeconfig
    assert kube.kubectl("get", "pods") == (
        "kubectl",
        "--kubeconfig",
        str(state_kubeconfig),
        "get",
        "pods",
    )


def test_then_kubeconfig_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.write_text("{}")
    monkeypatch.setenv("KUBECONFIG", f"{other}:/nonexistent")
    assert Runner().converge(resolve(context(tmp_path))).kubeconfig == other


def test_no_kubeconfig_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(UserError, match=r"No kubeconfig for propertea-local.*inv talos.bootstrap"):
        Runner().converge(resolve(context(tmp_path)))
    # --dry plans for a fresh world: the kubeconfig the talos tasks will write.
    assert (
        Runner(dry=True).converge(resolve(context(tmp_path, dry=True))).kubeconfig
        == tmp_path / "propertea-local" / "kubeconfig"
    )


def test_overlay_points_the_current_context_at_argocd(tmp_path: Path) -> None:
    kube = Kube(tmp_path / "kubeconfig", tmp_path)
    text = (
        "current-context: admin@c\n"
        "contexts:\n  - name: admin@c\n"
        "    context: {cluster: c, user: admin@c, namespace: default}\n"
    )
    step = overlay_for(kube, text)
    assert step.path == tmp_path / "argocd-core.kubeconfig" and step.effective_mode == 0o600
    data = YAML(typ="safe").load(str(step.content))
    assert data["current-context"] == "admin@c-argocd-core"
    assert data["contexts"][0]["context"] == {
        "cluster": "c",
        "user": "admin@c",
        "namespace": "argocd",
    }
    assert "users" not in data and "clusters" not in data  # no credentials copied
    assert kube.argocd_env() == {"KUBECONFIG": f"{step.path}:{kube.kubeconfig}"}


def test_overlay_needs_a_current_context(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no current context"):
        overlay_for(Kube(tmp_path / "k", tmp_path), "contexts: []\n")


def test_overlay_keeps_names_that_yaml_would_misread(tmp_path: Path) -> None:
    # Names were pasted into the YAML text: "c #1" lost its tail and "*admin" was an alias.
    text = (
        "current-context: '@home'\n"
        "contexts:\n  - name: '@home'\n"
        "    context: {cluster: 'c #1', user: '*admin'}\n"
    )
    step = overlay_for(Kube(tmp_path / "kubeconfig", tmp_path), text)
    data = YAML(typ="safe").load(str(step.content))
    assert data["current-context"] == "@home-argocd-core"
    assert data["contexts"] == [
        {
            "name": "@home-argocd-core",
            "context": {"cluster": "c #1", "user": "*admin", "namespace": "argocd"},
        }
    ]
