"""Parsers of helm/kubectl output and the install's inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.core.errors import UserError
from tasks.gitops import facts

HELM_LIST = (
    "NAME  \tNAMESPACE\tREVISION\tUPDATED                            \tSTATUS  "
    "\tCHART        \tAPP VERSION\n"
    "argocd\targocd   \t3       \t2026-11-26 07:00:00.000000 +0000 UTC\tdeployed"
    "\targo-cd-9.4.0\tv3.5.1     \n"
)


def test_helm_list_row() -> None:
    assert facts.parse_helm_list(HELM_LIST, "argocd") == facts.Release("9.4.0", "deployed")
    assert facts.parse_helm_list(HELM_LIST, "other") is None
    assert facts.parse_helm_list("", "argocd") is None


def test_helm_values() -> None:
    assert facts.parse_helm_values("USER-SUPPLIED VALUES:\nnull\n") == {}
    assert facts.parse_helm_values("USER-SUPPLIED VALUES:\na:\n  b: 1\n") == {"a": {"b": 1}}


def app(name: str, sync: str, health: str, wave: str = "0", **status: object) -> dict[str, object]:
    return {
        "metadata": {"name": name, "annotations": {"argocd.argoproj.io/sync-wave": wave}},
        "status": {
            "sync": {"status": sync, "revision": "0123456789abcdef"},
            "health": {"status": health},
            **status,
        },
    }


def test_applications_sorted_by_wave_with_messages() -> None:
    text = json.dumps(
        {
            "items": [
                app("b", "OutOfSync", "Missing", "2", conditions=[{"message": "repo unreachable"}]),
                app("a", "Synced", "Healthy", "-1"),
                {"metadata": {"name": "new"}},
            ]
        }
    )
    rows = facts.parse_applications(text)
    assert [(r.name, r.sync, r.health, r.ready) for r in rows] == [
        ("a", "Synced", "Healthy", True),
        ("new", "Unknown", "Unknown", False),
        ("b", "OutOfSync", "Missing", False),
    ]
    assert rows[2].message == "repo unreachable"
    assert rows[0].revision == "0123456789ab"


def test_not_json_is_a_user_error() -> None:
    with pytest.raises(UserError, match="not JSON"):
        facts.parse_applications("error: the server doesn't have a resource type")


def test_install_inputs_unwrap_the_wrapper_chart_and_merge_overlays(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text(
        "apiVersion: v2\nname: argocd\nversion: 1.0.0\ndependencies:\n"
        "  - name: argo-cd\n    version: 10.3.3\n    repository: https://argoproj.github.io/argo-helm\n"
    )
    (tmp_path / "values.yaml").write_text(
        "argo-cd:\n  configs:\n    clusterCredentials:\n      in-cluster:\n"
        "        server: https://kubernetes.default.svc\n        labels: {env: local}\n"
        "    params: {server.insecure: true}\n"
    )
    (tmp_path / "values-aks.yaml").write_text(
        "argo-cd:\n  configs:\n    clusterCredentials:\n"
        "      in-cluster:\n        labels: {env: aks}\n"
    )
    inputs = facts.install_inputs([tmp_path / "values.yaml", tmp_path / "values-aks.yaml"])
    assert inputs.repo_url == "https://argoproj.github.io/argo-helm"
    assert inputs.wrapper_version == "10.3.3"
    creds = inputs.values["configs"]["clusterCredentials"]["in-cluster"]
    assert creds == {"server": "https://kubernetes.default.svc", "labels": {"env": "aks"}}
    assert inputs.values["configs"]["params"] == {"server.insecure": True}


def test_install_inputs_bad_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such values file"):
        facts.install_inputs([tmp_path / "values.yaml"])
    (tmp_path / "values.yaml").write_text("- a\n")
    with pytest.raises(UserError, match="Helm values must be a mapping"):
        facts.install_inputs([tmp_path / "values.yaml"])
