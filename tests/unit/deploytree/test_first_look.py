"""`tree.plain_docs`: the libyaml first look that spares unchanged files the ruamel round trip.

It must read exactly what the round trip reads, or step aside (None); and `generate` must give
byte-for-byte the same changes with it as without it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.core.config import ClusterSpec
from tasks.core.yamldata import plain
from tasks.deploytree import tree
from tests.unit.deploytree.conftest import REPO


def _round_trip(text: str) -> list[object]:
    return [plain(d) for d in tree.load_docs(text)]


@pytest.mark.parametrize(
    "text",
    [
        "a: yes\n",  # a YAML 1.1 boolean, a string to the round trip (YAML 1.2)
        "a: on\n",
        "a: 010\n",  # 8 to libyaml, 10 to the round trip
        "a: 0x1f\n",
        "a: 1e3\n",  # a string to libyaml, a float to the round trip
        "a: 1:30\n",  # sexagesimal in YAML 1.1 only
        "a: !!str 1\n",
        "a: !!int '1'\n",
        "a: 2024-01-01\n",
        "<<: {a: 1}\n",
        "a: 1\na: 2\n",  # ruamel rejects duplicate keys
        "%YAML 1.1\n---\na: 1\n",
        "a: [1\n",  # unreadable
    ],
)
def test_anything_the_two_parsers_could_read_differently_is_left_to_the_round_trip(
    text: str,
) -> None:
    assert tree.plain_docs(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: -3\nc: 0\nd: 1.5\ne: true\nf: null\ng: ~\nh:\n",
        "a: '010'\nb: \"yes\"\nc: x\n",
        "a: &x {b: [1, two]}\nc: *x\n",
        "a: |\n  line\n  other\nb: >-\n  folded\n  text\n",
        "---\na: 1\n---\n---\nb: 2\n",
        "# only a comment\n",
    ],
)
def test_plain_values_read_the_same_as_the_round_trip(text: str) -> None:
    assert tree.plain_docs(text) == _round_trip(text)


def test_every_yaml_file_in_the_repository_reads_the_same_when_read_fast() -> None:
    files = [p for p in sorted((REPO / "deploy").rglob("*.y*ml")) if p.name != "secrets.yaml"]
    fast = {p: tree.plain_docs(p.read_text()) for p in files}
    assert any(docs is not None for docs in fast.values())
    for path, docs in fast.items():
        if docs is not None:
            assert docs == _round_trip(path.read_text()), path


def _spec_edits() -> list[Callable[[str], str]]:
    return [
        lambda t: t.replace("gateway_ip: 192.168.50.200", "gateway_ip: 192.168.50.210"),
        lambda t: t.replace("lab.propertea.dev", "lab.example.org"),
        lambda t: t.replace("propertea/propertea.git", "someone/fork.git"),
        lambda t: t.replace("  path: deploy\n", "  path: platform/deploy\n"),
        lambda t: t.replace("branch: main", "branch: release"),
    ]


@pytest.mark.parametrize("change", _spec_edits())
def test_generate_gives_the_same_bytes_as_a_round_trip_of_every_file(
    repo: Path,
    edit_spec: Callable[[Callable[[str], str]], ClusterSpec],
    change: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An ambiguous value in a file the spec edit touches: that file takes the round trip path.
    gateway = repo / "deploy/infrastructure/gateway/gateway.yaml"
    gateway.write_text(
        gateway.read_text()
        + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  flag: yes\n"
    )
    component = repo / "deploy/infrastructure/extra/component.yaml"
    component.parent.mkdir()
    component.write_text("name: extra\nnamespace: extra\nwave: 07\n")
    spec = edit_spec(change)

    fast = tree.generate(spec, tree.Workspace(repo))
    monkeypatch.setattr(tree, "plain_docs", lambda text: None)
    slow = tree.generate(spec, tree.Workspace(repo))

    assert fast, "the spec edit changes some derived file"
    assert fast == slow
