"""The fast yes of tasks/validate/fastcheck.py never passes what jsonschema rejects.

Checked against jsonschema itself: every Kubernetes object of this repository's deploy/ tree
(core kinds and CRDs, with the validators ``inv validate`` uses) and thousands of seeded
mutations of them (wrong types, removed and unknown keys, strings for numbers, long strings,
extra list items), plus one case per keyword where the two could part ways.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tasks.validate import fastcheck
from tasks.validate.schemas import SchemaFileError, SchemaStore, compile_schema

REPO = Path(__file__).resolve().parents[3]


def objects_of_this_repository() -> list[dict[str, Any]]:
    out = []
    for path in sorted((REPO / "deploy").rglob("*.yaml")):
        if path.name.startswith(("secrets", "kustomization", "component")):
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and {"apiVersion", "kind", "metadata"} <= doc.keys():
                out.append(doc)
    return out


def mutate(rng: random.Random, doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    places: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            places.append((node, key))
            if isinstance(value, dict | list):
                walk(value)

    walk(doc)
    parent, key = rng.choice(places)
    value = parent[key]
    choice = rng.randrange(6)
    if choice == 0:
        parent[key] = rng.choice([1, 1.5, "x", True, None, [], {}, -1, "a" * 300, 301])
    elif choice == 1 and isinstance(parent, dict):
        del parent[key]
    elif choice == 2 and isinstance(parent, dict):
        parent[f"{key}x"] = value
    elif choice == 3:
        parent[key] = str(value)
    elif choice == 4 and isinstance(value, dict):
        value["unknownField"] = 1
    elif choice == 5 and isinstance(value, list):
        value.append({"zz": 1} if rng.random() < 0.5 else copy.deepcopy(value[0]) if value else 1)
    return doc


def test_no_document_passes_that_jsonschema_rejects(shared_schemas: Path) -> None:
    store = SchemaStore("1.36.0", shared_schemas / "crds", {})
    docs = objects_of_this_repository()
    validators: dict[tuple[str, str], Any] = {}
    for doc in docs:
        key = (str(doc["apiVersion"]), str(doc["kind"]))
        if key not in validators:
            try:
                validators[key] = store.validator(*key)
            except SchemaFileError:
                validators[key] = None
    checked = [d for d in docs if validators[(str(d["apiVersion"]), str(d["kind"]))]]
    assert len({d["kind"] for d in checked}) >= 10
    rng = random.Random(19)
    passed = rejected = 0
    for doc in checked + [mutate(rng, rng.choice(checked)) for _ in range(3000)]:
        validator = validators.get((str(doc.get("apiVersion")), str(doc.get("kind"))))
        if validator is None:
            continue
        errors = [e.message for e in validator.iter_errors(doc)]
        if fastcheck.is_valid(validator, doc):
            passed += 1
            assert errors == [], doc
        else:
            rejected += 1
    # It decides most documents (the point), and mutations do get to jsonschema.
    assert passed > len(checked) and rejected > 500
    assert all(fastcheck.is_valid(validators[(d["apiVersion"], d["kind"])], d) for d in checked)


OBJECT = {"type": "object", "properties": {"a": {"type": "integer"}}}
CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("float for an integer", OBJECT, {"a": 1.0}),
    ("float for an integer", OBJECT, {"a": 1.5}),
    ("bool is not an integer", OBJECT, {"a": True}),
    ("enum of numbers", {"enum": [301, 302]}, 301.0),
    ("enum of numbers", {"enum": [1, 2]}, True),
    ("enum of strings", {"enum": ["a"]}, ["a"]),
    ("enum of other values", {"enum": [None, {"a": 1}]}, None),
    ("pattern searches", {"pattern": "b"}, "abc"),
    ("pattern searches", {"pattern": "^b"}, "abc"),
    ("pattern on a non-string", {"pattern": "^b"}, 3),
    ("closed object", {"additionalProperties": False, "properties": {"a": True}}, {"b": 1}),
    ("pattern properties", {"patternProperties": {"^x-": {"type": "string"}}}, {"x-a": 1}),
    (
        "pattern properties and closed",
        {"patternProperties": {"^x-": True}, "additionalProperties": False},
        {"x-a": 1, "y": 2},
    ),
    ("required", {"required": ["a"]}, {"b": 1}),
    ("required on a non-object", {"required": ["a"]}, [1]),
    ("oneOf both", {"oneOf": [{"type": "string"}, {"minLength": 1}]}, "abc"),
    ("oneOf one", {"oneOf": [{"type": "string"}, {"type": "integer"}]}, "abc"),
    ("oneOf undecided", {"oneOf": [{"type": "string"}, {"const": 1}]}, "abc"),
    ("anyOf", {"anyOf": [{"type": "integer"}, {"type": "string"}]}, "x"),
    ("not", {"not": {"type": "string"}}, "x"),
    ("not", {"not": {"type": "string"}}, 1),
    ("bounds", {"minimum": 1, "exclusiveMaximum": 3}, 3),
    ("bounds on a bool", {"minimum": 5}, True),
    ("lengths", {"maxLength": 2, "minItems": 1}, "abc"),
    ("sizes", {"maxItems": 1, "maxProperties": 1}, {"a": 1, "b": 2}),
    ("unknown keyword", {"const": "a"}, "b"),
    ("$ref", {"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s"}, 1),
    ("format is not checked", {"format": "ipv4"}, "nope"),
    ("ignored OpenAPI keyword", {"nullable": True, "type": "string"}, None),
    ("tuple items", {"items": [{"type": "string"}]}, [1]),
]


@pytest.mark.parametrize(("case", "schema", "instance"), CASES, ids=[c[0] for c in CASES])
def test_each_keyword_agrees_with_jsonschema(case: str, schema: Any, instance: Any) -> None:
    validator = compile_schema(schema)
    fast = fastcheck.is_valid(validator, instance)
    assert not fast or validator.is_valid(instance), case


def test_recursive_schemas_and_format_checkers() -> None:
    node: dict[str, Any] = {"type": "object", "additionalProperties": False}
    node["properties"] = {"name": {"type": "string"}, "child": node}
    validator = compile_schema(node)
    assert fastcheck.is_valid(validator, {"name": "a", "child": {"child": {"name": "b"}}})
    assert not fastcheck.is_valid(validator, {"child": {"child": {"nme": "b"}}})
    # With a format checker formats count: jsonschema alone decides.
    checking = jsonschema.Draft202012Validator(
        {"format": "ipv4"}, format_checker=jsonschema.FormatChecker()
    )
    assert not fastcheck.is_valid(checking, "1.2.3.4")
