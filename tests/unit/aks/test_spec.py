"""The AKS spec: validated with file, line and field; its names agree with deploy/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tasks.aks.ops import check_tree
from tasks.aks.spec import load, tree_mismatches
from tasks.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]
SPEC_FILE = REPO / "deploy/aks/cluster.yaml"


def test_the_shipped_spec_is_valid_and_agrees_with_the_tree() -> None:
    spec = load(SPEC_FILE).spec
    assert spec.cluster.name == "propertea"
    assert tree_mismatches(spec, REPO / "deploy") == []


def test_bad_values_name_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "cluster.yaml"
    text = SPEC_FILE.read_text()
    bad.write_text(
        text.replace("node_count: 3", "node_count: 0")
        .replace("account: properteabackups", "account: Propertea_Backups")
        .replace("gateway_ip: propertea-gateway", "gateway_ip: propertea-gateway\nextra: 1")
    )
    with pytest.raises(ConfigError) as raised:
        load(bad)
    message = raised.value.text
    lines = text.splitlines()
    node_line = next(i for i, line in enumerate(lines, 1) if "node_count" in line)
    assert f"{bad}:{node_line}: cluster.node_count: Input should be greater than or equal to 1" in (
        message
    )
    assert "storage.account: String should match pattern" in message
    assert "extra: unknown key" in message
    assert "(3 problem(s))" in message


def test_a_missing_spec_says_where_to_point(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="INVOKE_AKS_FILE"):
        load(tmp_path / "nope.yaml")


def test_a_name_renamed_on_one_side_only_is_caught(tmp_path: Path) -> None:
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    spec = load(SPEC_FILE).spec.model_copy(update={"gateway_ip": "other-ip"})
    velero = tmp_path / "deploy/infrastructure/velero/values-aks.yaml"
    velero.write_text(velero.read_text().replace("bucket: velero", "bucket: velero2"))
    problems = tree_mismatches(spec, tmp_path / "deploy")
    assert problems == [
        "deploy/infrastructure/gateway/env/aks/kustomization.yaml says 'propertea-gateway' but "
        "gateway_ip is 'other-ip'",
        "deploy/infrastructure/velero/values-aks.yaml: bucket 'velero2' is not one of "
        "storage.containers",
    ]
    with pytest.raises(ConfigError, match="Rename both together"):
        check_tree(spec, tmp_path / "deploy", SPEC_FILE)
