"""Remote Kustomize references: what counts as pinned, and what the messages tell a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.validate.families.manifests import _patch_problems
from tasks.validate.families.secrets import _names_a_key, secret_values
from tasks.validate.model import Doc
from tasks.validate.tree import pin_of, unpinned_message

GATEWAY = (
    "https://github.com/kubernetes-sigs/gateway-api/releases/download/{}/standard-install.yaml"
)


@pytest.mark.parametrize(
    ("entry", "pin"),
    [
        ("https://github.com/rancher/local-path-provisioner/deploy?ref=v0.0.37", "v0.0.37"),
        ("github.com/example/app//deploy?ref=1.2.3", "1.2.3"),
        ("https://github.com/example/app//deploy?timeout=90s&ref=v2.0.0-rc.1", "v2.0.0-rc.1"),
        ("git@github.com:example/app.git//deploy?ref=" + "a1" * 20, "a1" * 20),
        (GATEWAY.format("v1.6.1"), "v1.6.1"),
        ("https://github.com/example/app//deploy?ref=main", None),
        ("https://github.com/example/app//deploy?ref=master", None),
        ("https://github.com/example/app//deploy?ref=HEAD", None),
        ("https://github.com/example/app//deploy?ref=abc1234", None),
        ("https://github.com/example/app//deploy", None),
        ("https://example.com/manifests/install.yaml", None),
        (GATEWAY.format("latest"), None),
    ],
)
def test_pinned_means_a_version_tag_or_a_full_commit(entry: str, pin: str | None) -> None:
    assert pin_of(entry) == pin


def test_unpinned_messages_say_why_and_how_to_pin() -> None:
    branch = unpinned_message("https://github.com/example/app//deploy?ref=main")
    assert "ref 'main' is a branch" in branch
    assert "?ref=<version tag or 40-hex commit>" in branch
    bare = unpinned_message("https://github.com/example/app//deploy")
    assert "names no version" in bare
    assert "/releases/download/<version>/" in bare


def test_patches_kustomize_would_reject(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n")
    target = {"kind": "Deployment"}
    good = [
        {"path": "ok.yaml"},
        {"target": target, "patch": "- op: remove\n  path: /spec/replicas\n"},
        {"target": target, "patch": "$patch: delete\nkind: Deployment\n"},
    ]
    for entry in good:
        assert list(_patch_problems(tmp_path, entry)) == [], entry
    bad = {
        "missing.yaml: no such patch file": {"path": "missing.yaml"},
        "not valid YAML": {"target": target, "patch": "a: [\n"},
        "the patch is empty": {"target": target, "patch": "# nothing\n"},
        "needs a target": {"patch": "- op: remove\n  path: /x\n"},
        "op 'rplace' is not one of": {"target": target, "patch": "- op: rplace\n  path: /x\n"},
        "is not a JSON pointer": {"target": target, "patch": "- op: remove\n  path: spec\n"},
        "(add): no value": {"target": target, "patch": "- op: add\n  path: /x\n"},
        "(move): no from": {"target": target, "patch": "- op: move\n  path: /x\n"},
        "needs kind and metadata.name": {"patch": "spec:\n  replicas: 2\n"},
    }
    for expected, entry in bad.items():
        messages = [m for _, m in _patch_problems(tmp_path, entry)]
        assert any(expected in m for m in messages), (expected, messages)


def _external_secret(kind: str = "ExternalSecret") -> Doc:
    data = {
        "apiVersion": "external-secrets.io/v1",
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": {
            "data": [{"secretKey": "clientSecret", "remoteRef": {"key": "kv-client-secret"}}],
            "target": {"template": {"data": {"password": "hunter2hunter2"}}},
        },
    }
    return Doc("x.yaml", 1, data)


def test_external_secret_key_names_are_not_values_but_template_literals_are() -> None:
    doc = _external_secret()
    found = [p for p, _ in secret_values(doc.data) if not _names_a_key(doc, p)]
    assert found == [("spec", "target", "template", "data", "password")]
    # The same field in another kind holds a value.
    other = _external_secret("SomethingElse")
    assert ("spec", "data", 0, "secretKey") in [
        p for p, _ in secret_values(other.data) if not _names_a_key(other, p)
    ]
