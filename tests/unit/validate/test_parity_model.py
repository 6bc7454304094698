"""The pure parts of the parity check: path patterns, the tree diff, contracts and staleness."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.core.errors import ConfigError
from tasks.validate.families import parity_contracts as pc
from tasks.validate.families.parity import check_differences, diff_tree


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("cilium.ipam.**", "cilium.ipam", True),
        ("cilium.ipam.**", "cilium.ipam.mode", True),
        ("cilium.ipam.**", "cilium.ipamx", False),
        ("cilium.k8sServiceHost", "cilium.k8sServiceHostRef", False),
        ("a.*.labels.**", "a.in-cluster.labels.propertea.io/env", True),
        ("a.*.labels.**", "a.x.y.labels.z", False),
        ("c[*].env[X].value", "c[app].env[X].value", True),
        ("c[*].env[X].value", "c[app].env[Y].value", False),
        ("spec.addresses.**", "spec.addresses[0].value", True),
    ],
)
def test_patterns(pattern: str, path: str, expected: bool) -> None:
    assert pc.matches(pattern, path) is expected


def test_diff_keys_named_list_items_and_reports_subtrees_once() -> None:
    a = {"c": [{"name": "app", "env": [{"name": "E", "value": "local"}]}], "gone": {"x": 1}}
    b = {"c": [{"name": "app", "env": [{"name": "E", "value": "aks"}]}], "new": [1]}
    assert list(diff_tree(a, b, "local", "aks")) == [
        ("c[app].env[E].value", "local: local; aks: aks"),
        ("gone", "only in local"),
        ("new", "only in aks: [1]"),
    ]


def test_unnamed_lists_are_compared_by_index() -> None:
    assert list(diff_tree({"a": [1, 2]}, {"a": [1, 3, 4]}, "x", "y")) == [
        ("a[1]", "x: 2; y: 3"),
        ("a[2]", "only in y: 4"),
    ]


def _contracts(covers: list[dict[str, object]]) -> pc.Contracts:
    return pc.Contracts.model_validate(
        {
            "contracts": [
                {"id": "c", "title": "t", "local": "l", "aks": "a", "switch": "s", "covers": covers}
            ]
        }
    )


def _diff(what: pc.What, field: str, kind: str = "", name: str = "") -> pc.Difference:
    return pc.Difference("app", what, f"{kind} {name}", kind, name, field, "d", "p")


def test_object_rules_with_and_without_fields() -> None:
    contracts = _contracts(
        [
            {
                "app": "app",
                "objects": [
                    {"kind": "Gateway", "fields": ["spec.addresses.**"]},
                    {"kind": "ConfigMap", "name": "cfg"},
                ],
            }
        ]
    )
    whole = _diff("object", "", "ConfigMap", "cfg")
    field = _diff("object", "spec.addresses", "Gateway", "shared")
    other = _diff("object", "spec.listeners", "Gateway", "shared")
    whole_gateway = _diff("object", "", "Gateway", "shared")
    report = check_differences(contracts, [whole, field, other, whole_gateway])
    assert report.uncovered == [other, whole_gateway]
    assert report.stale == []


def test_a_rule_matching_nothing_is_stale_unless_its_app_was_not_compared() -> None:
    contracts = _contracts([{"app": "app", "values": ["x.**", "y"]}])
    report = check_differences(contracts, [_diff("values", "x.z")])
    assert report.stale == [("c", "app app values y")]
    assert check_differences(contracts, [_diff("values", "x.z")], {"app"}).stale == []


def test_contracts_file_errors_name_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "aks").mkdir()
    file = tmp_path / "aks/contracts.yaml"
    with pytest.raises(ConfigError, match="no such file"):
        pc.load(tmp_path)
    file.write_text(
        "contracts:\n  - id: Bad Id\n    title: t\n    local: l\n    aks: a\n    switch: s\n"
    )
    with pytest.raises(
        ConfigError, match=r"contracts\.yaml: contracts\.0\.id: String should match"
    ):
        pc.load(tmp_path)
    entry = "  - {id: a, title: t, local: l, aks: a, switch: s}\n"
    file.write_text("contracts:\n" + entry + entry)
    with pytest.raises(ConfigError, match="contract id\\(s\\) used twice: a"):
        pc.load(tmp_path)
