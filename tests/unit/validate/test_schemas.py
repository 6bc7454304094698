"""Schema lookup and compilation: core kinds per Kubernetes version, CRDs, strict/relaxed copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.validate.jsonerrors import schema_errors
from tasks.validate.schemas import (
    SchemaFileError,
    SchemaStore,
    core_schemas,
    relax_required,
    strictify,
)


def test_core_schemas_match_the_minor_or_fall_back_with_a_note() -> None:
    exact = core_schemas("1.36.0")
    assert exact.version == "1.36.0"
    assert exact.directory.name == "v1.36.0-local-strict"
    assert exact.note == ""
    newer = core_schemas("1.99.3")
    assert newer.note.startswith("kubernetes-validate has no schemas for Kubernetes 1.99")
    assert "nearest older minor" in newer.note
    older = core_schemas("1.2.0")
    assert "or older" in older.note


def test_core_kind_is_strict_and_errors_point_at_the_unknown_key() -> None:
    store = SchemaStore("1.36.0", None, {})
    validator = store.validator("v1", "ConfigMap")
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "dta": {}}
    assert list(schema_errors(validator, doc)) == [(["dta"], "dta: unknown field")]
    assert store.validator("v1", "ConfigMap") is validator  # compiled once


def test_unknown_group_kind_has_no_schema() -> None:
    store = SchemaStore("1.36.0", None, {})
    assert store.validator("apps/v1beta9", "Deployment") is None
    # A CRD group that shares a first label with a core group is not mistaken for it.
    assert store.validator("autoscaling.k8s.io/v1", "VerticalPodAutoscaler") is None


def _crd_dir(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "example.com" / "widget_v1.json"
    path.parent.mkdir(parents=True)
    path.write_text(body)
    return tmp_path


def test_crd_schema_with_strict_metadata(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
        },
    }
    store = SchemaStore("1.36.0", _crd_dir(tmp_path, json.dumps(schema)), {})
    validator = store.validator("example.com/v1", "Widget")
    doc = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "labls": {}},
        "spec": {"size": "big"},
    }
    messages = sorted(m for _, m in schema_errors(validator, doc))
    assert messages == [
        "metadata.labls: unknown field",
        "spec.size: 'big' is not of type 'integer'",
    ]


def test_schema_that_is_not_json_is_reported_once_per_lookup(tmp_path: Path) -> None:
    store = SchemaStore("1.36.0", _crd_dir(tmp_path, "{not json"), {})
    with pytest.raises(SchemaFileError) as err:
        store.validator("example.com/v1", "Widget")
    assert "not JSON (line 1" in err.value.reason
    with pytest.raises(SchemaFileError):
        store.validator("example.com/v1", "Widget")


def test_strictify_closes_objects_that_list_properties() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "object", "properties": {"b": {"type": "string"}}},
            "free": {"type": "object"},
            "open": {"type": "object", "properties": {}, "additionalProperties": True},
        },
    }
    strict = strictify(schema)
    assert strict["additionalProperties"] is False
    assert strict["properties"]["a"]["additionalProperties"] is False
    assert "additionalProperties" not in strict["properties"]["free"]
    assert strict["properties"]["open"]["additionalProperties"] is True
    assert "additionalProperties" not in schema  # the original is untouched


def test_relax_required_removes_every_required() -> None:
    schema = {"required": ["a"], "properties": {"a": {"required": ["b"], "type": "object"}}}
    assert relax_required(schema) == {"properties": {"a": {"type": "object"}}}


def test_recursive_core_definitions_validate_after_inlining() -> None:
    """JSONSchemaProps (a CRD schema) refers to itself: inlining makes a cycle, not a loop."""
    store = SchemaStore("1.36.0", None, {})
    validator = store.validator("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    nested = {"type": "object", "properties": {"a": {"type": "object", "properties": {}}}}
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": nested},
                }
            ],
        },
    }
    assert list(schema_errors(validator, crd)) == []
    nested["properties"]["a"]["properties"] = {"b": {"tpye": "string"}}
    path = ["spec", "versions", 0, "schema", "openAPIV3Schema", "properties", "a"]
    where = "spec.versions[0].schema.openAPIV3Schema.properties.a"
    assert list(schema_errors(validator, crd)) == [
        (
            [*path, "properties", "b", "tpye"],
            f"{where}.properties.b.tpye: unknown field",
        )
    ]
