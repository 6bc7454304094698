"""JSON schemas: core Kubernetes kinds, CRDs, chart values, Talos machine config.

Every schema is read and compiled once per run (validators are cached). Core kinds come from the
``-strict`` schemas shipped by kubernetes-validate for the spec's Kubernetes minor (or the nearest
older one it ships, with a note); CRDs from a directory in the CRDs-catalog layout
``{group}/{kind}_{version}.json``. A custom resource's ``metadata`` is checked against the core
``ObjectMeta`` (the catalog leaves it open), so a misspelt annotation key is caught too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tasks.core.errors import UserError

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


class SchemaFileError(Exception):
    """A schema file exists but cannot be used (not JSON, not a schema)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def read_json_schema(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SchemaFileError(path, f"not JSON (line {exc.lineno}: {exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaFileError(path, f"cannot read ({exc})") from None
    if not isinstance(data, dict):
        raise SchemaFileError(path, "not a JSON schema (expected an object)")
    return data


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


@dataclass(frozen=True)
class CoreSchemas:
    directory: Path
    version: str
    note: str


def core_schemas(kubernetes: str) -> CoreSchemas:
    """The kubernetes-validate strict schema directory for ``kubernetes`` (major.minor match)."""
    from importlib.util import find_spec

    # Only its data directory is wanted: importing the package itself costs a tenth of a second.
    package = find_spec("kubernetes_validate")
    if package is None or not package.submodule_search_locations:
        raise UserError("kubernetes-validate is not installed (a dev dependency)", code=2)
    base = Path(next(iter(package.submodule_search_locations))) / "kubernetes-json-schema"
    available = sorted(
        (
            _version_key(p.name)
            for p in base.glob("v*-local-strict")
            if (p / "_definitions.json").exists()
        ),
    )
    if not available:
        raise UserError(f"kubernetes-validate ships no strict schemas in {base}", code=2)
    wanted = _version_key(kubernetes)[:2]
    same = [v for v in available if v[:2] == wanted]
    older = [v for v in available if v[:2] < wanted]
    note = ""
    if same:
        chosen = same[-1]
    elif older:
        chosen = older[-1]
        note = (
            f"kubernetes-validate has no schemas for Kubernetes {wanted[0]}.{wanted[1]}; "
            f"using {chosen[0]}.{chosen[1]} (the nearest older minor)"
        )
    else:
        chosen = available[0]
        note = (
            f"kubernetes-validate has no schemas for Kubernetes {wanted[0]}.{wanted[1]} or older; "
            f"using {chosen[0]}.{chosen[1]}"
        )
    version = ".".join(map(str, chosen))
    return CoreSchemas(base / f"v{version}-local-strict", version, note)


def strictify(schema: Any) -> Any:
    """A copy where every object schema listing ``properties`` rejects other keys.

    Chart values schemas (Cilium's) leave objects open, so a misspelt value would pass; the
    validator wants unknown keys reported even then.
    """
    if isinstance(schema, list):
        return [strictify(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strictify(v) for k, v in schema.items()}
    if (
        isinstance(out.get("properties"), dict)
        and "additionalProperties" not in out
        and "patternProperties" not in out
        and "unevaluatedProperties" not in out
    ):
        out["additionalProperties"] = False
    return out


_ANNOTATIONS = {"description", "title", "default", "example", "examples"}


def inline_refs(schema: Any, defs: dict[str, Any], memo: dict[str, dict[str, Any]]) -> Any:
    """``{"$ref": ".../$defs/X"}`` replaced by the (shared) definition itself.

    Validation walks the instance, so a recursive definition becomes a cycle in the dict graph,
    which is harmless, while every reference lookup disappears (about 3x faster). Only references
    whose siblings are annotations are replaced; anything else is left to the registry.
    """
    if isinstance(schema, list):
        return [inline_refs(s, defs, memo) for s in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and "#/$defs/" in ref:
        name = ref.rsplit("#/$defs/", 1)[1]
        siblings = {k for k in schema if k != "$ref"}
        annotations_only = all(k in _ANNOTATIONS or k.startswith("x-") for k in siblings)
        if name in defs and annotations_only:
            if name not in memo:
                memo[name] = {}
                memo[name].update(inline_refs(defs[name], defs, memo))
            return memo[name]
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "$defs") and isinstance(value, dict):
            # Keys here are names, not keywords (JSONSchemaProps has a property called "$ref").
            out[key] = {name: inline_refs(sub, defs, memo) for name, sub in value.items()}
        else:
            out[key] = inline_refs(value, defs, memo)
    return out


def relax_required(schema: Any) -> Any:
    """A copy without ``required`` anywhere (a strategic-merge patch is a partial document)."""
    if isinstance(schema, list):
        return [relax_required(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    return {k: relax_required(v) for k, v in schema.items() if k != "required"}


def compile_schema(schema: dict[str, Any], registry: Any = None) -> Any:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    if registry is not None:
        return cls(schema, registry=registry)
    return cls(schema)


class SchemaStore:
    """Finds and compiles the schema of a Kubernetes object by apiVersion and kind."""

    def __init__(
        self, kubernetes: str, crd_dir: Path | None, allow_unknown: dict[str, str]
    ) -> None:
        self.kubernetes = kubernetes
        self.crd_dir = crd_dir
        self.allow_unknown = allow_unknown
        self._validators: dict[tuple[str, str], Any] = {}
        self._inlined: dict[str, dict[str, Any]] = {}
        self._errors: dict[tuple[str, str], SchemaFileError] = {}
        self._identities: dict[tuple[str, str], str] = {}

    @cached_property
    def core(self) -> CoreSchemas:
        return core_schemas(self.kubernetes)

    @cached_property
    def _core_defs(self) -> dict[str, Any]:
        return read_json_schema(self.core.directory / "_definitions.json")

    @cached_property
    def _core_registry(self) -> Any:
        from referencing import Registry, Resource

        defs = self._core_defs
        return Registry().with_resource(defs["$id"], Resource.from_contents(defs))

    @cached_property
    def _core_defs_id(self) -> str:
        return str(self._core_defs["$id"])

    def core_file(self, api_version: str, kind: str) -> Path:
        group, _, version = api_version.rpartition("/")
        prefix = f"{group.split('.')[0]}-" if group else ""
        return self.core.directory / f"{kind.lower()}-{prefix}{version}.json"

    def crd_file(self, api_version: str, kind: str) -> Path | None:
        group, _, version = api_version.rpartition("/")
        if self.crd_dir is None or not group:
            return None
        return self.crd_dir / group / f"{kind.lower()}_{version}.json"

    def identity(self, api_version: str, kind: str) -> str:
        """What the validator of a kind is made of (files by path, size and mtime, and this
        code), without compiling it: the key of cached verdicts (``resultcache``)."""
        known = self._identities.get((api_version, kind))
        if known is not None:
            return known
        from tasks.validate import jsonerrors
        from tasks.validate.resultcache import file_identity

        core = self.core_file(api_version, kind)
        parts = [
            self.kubernetes,
            file_identity(Path(__file__)),
            file_identity(Path(jsonerrors.__file__)),
            file_identity(core),
            file_identity(self.core.directory / "_definitions.json"),
            file_identity(self.crd_file(api_version, kind)),
        ]
        self._identities[(api_version, kind)] = "|".join(parts)
        return self._identities[(api_version, kind)]

    def validator(self, api_version: str, kind: str) -> Any:
        """The compiled validator, or None when no schema is known.

        Raises :class:`SchemaFileError` when a schema exists but is unusable.
        """
        key = (api_version, kind)
        if key in self._validators:
            return self._validators[key]
        if key in self._errors:
            raise self._errors[key]
        try:
            validator = self._load(api_version, kind)
        except SchemaFileError as exc:
            self._errors[key] = exc
            raise
        self._validators[key] = validator
        return validator

    def _load(self, api_version: str, kind: str) -> Any:
        from referencing import Resource

        group = api_version.rpartition("/")[0]
        core = self.core_file(api_version, kind)
        if core.exists():
            schema = read_json_schema(core)
            gvks = schema.get("x-kubernetes-group-version-kind") or []
            if any(g.get("group", "") == group for g in gvks if isinstance(g, dict)):
                registry = self._core_registry.with_resource(
                    schema.get("$id", str(core)), Resource.from_contents(schema)
                )
                inlined = inline_refs(schema, self._core_defs["$defs"], self._inlined)
                return compile_schema(inlined, registry)
        crd = self.crd_file(api_version, kind)
        if crd is not None and crd.exists():
            schema = read_json_schema(crd)
            props = schema.get("properties")
            if isinstance(props, dict) and "metadata" in props:
                # Check metadata as strictly as a core object's (shallow copies: the rest is
                # shared, never mutated).
                meta = {"$ref": f"{self._core_defs_id}#/$defs/{_OBJECT_META}"}
                meta = inline_refs(meta, self._core_defs["$defs"], self._inlined)
                schema = {**schema, "properties": {**props, "metadata": meta}}
                schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
            return compile_schema(schema, self._core_registry)
        return None
