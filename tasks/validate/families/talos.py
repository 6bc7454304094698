"""``talos``: Talos machine-config patches (deploy/local-cluster/patches) for the pinned version.

A strategic-merge patch is a partial document, so it is validated against the machine-config schema
of the pinned Talos version with every ``required`` relaxed (``$patch`` directives allowed); typed
documents (HostnameConfig, UserVolumeConfig ...) keep their own top-level required fields. A JSON
6902 patch (a list of operations) must have valid ops and paths that exist in the v1alpha1 schema.
Cross-checks with the spec: the Image Factory schematic lists the spec's extensions, hostnames
are node names, the installer image carries the pinned version, and from Talos 1.12 on the
hostname is set with HostnameConfig, not machine.network.hostname.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.validate.jsonerrors import schema_errors
from tasks.validate.registry import register_family
from tasks.validate.schemas import SchemaFileError, compile_schema, read_json_schema, relax_required

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Doc, Result

OPS_NEEDING_VALUE = {"add", "replace", "test"}
OPS_NEEDING_FROM = {"move", "copy"}
OPS = OPS_NEEDING_VALUE | OPS_NEEDING_FROM | {"remove"}
V1ALPHA1 = "v1alpha1.Config"
SCHEMATIC = "deploy/local-cluster/schematic.yaml"


def _allow_patch_directives(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_allow_patch_directives(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _allow_patch_directives(v) for k, v in schema.items()}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {**out["properties"], "$patch": {"enum": ["delete", "replace"]}}
    return out


class TalosSchema:
    """The machine-config schema of one Talos version, relaxed for patches, compiled per kind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw = read_json_schema(path)
        self.defs: dict[str, Any] = self.raw.get("$defs", {})
        self._validators: dict[str, Any] = {}

    @cached_property
    def relaxed_defs(self) -> dict[str, Any]:
        return dict(_allow_patch_directives(relax_required(self.defs)))

    @cached_property
    def kinds(self) -> dict[str, str]:
        """Document kind -> definition name (HostnameConfig -> network.HostnameConfigV1Alpha1)."""
        out: dict[str, str] = {}
        for name, schema in self.defs.items():
            kind = schema.get("properties", {}).get("kind", {}) if isinstance(schema, dict) else {}
            for value in kind.get("enum", []) if isinstance(kind, dict) else []:
                out[str(value)] = name
        return out

    def validator(self, definition: str) -> Any:
        if definition not in self._validators:
            schema = {
                "$schema": self.raw.get("$schema", "https://json-schema.org/draft/2020-12/schema"),
                "$defs": self.relaxed_defs,
                "$ref": f"#/$defs/{definition}",
            }
            self._validators[definition] = compile_schema(schema)
        return self._validators[definition]

    def resolve(self, schema: Any) -> Any:
        while isinstance(schema, dict) and "$ref" in schema:
            schema = self.defs.get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
        return schema

    def path_problem(self, pointer: str) -> str | None:
        """Why a JSON pointer does not exist in the v1alpha1 config, or None."""
        schema = self.resolve({"$ref": f"#/$defs/{V1ALPHA1}"})
        segments = [s.replace("~1", "/").replace("~0", "~") for s in pointer.split("/")[1:]]
        walked = ""
        for seg in segments:
            schema = self.resolve(schema)
            if not isinstance(schema, dict):
                return None
            props = schema.get("properties")
            if isinstance(props, dict) and seg in props:
                schema = props[seg]
            elif isinstance(schema.get("additionalProperties"), dict):
                schema = schema["additionalProperties"]
            elif "items" in schema and (seg.isdigit() or seg == "-"):
                schema = schema["items"]
            elif isinstance(props, dict):
                return f"{walked or '/'} has no field {seg!r}"
            else:
                return None
            walked += f"/{seg}"
        return None


_SCHEMAS: dict[Path, TalosSchema] = {}


def check_schematic(ws: Workspace, result: Result) -> None:
    """The Image Factory schematic bakes in exactly the spec's extensions."""
    source = ws.tree.files.get(SCHEMATIC)
    if source is None or ws.spec is None or not source.docs or not source.docs[0].is_object:
        return
    doc = source.docs[0]
    path = ["customization", "systemExtensions", "officialExtensions"]
    found = doc.data
    for key in path:
        found = found.get(key) if isinstance(found, dict) else None
    wanted = list(ws.spec.spec.image_factory.extensions)
    if (found or []) != wanted:
        result.add(
            source.path,
            doc.line_of(path),
            "talos/schematic",
            f"officialExtensions {found or []} differ from image_factory.extensions {wanted} in "
            "the cluster spec",
        )


def check_talos(ws: Workspace, result: Result) -> None:
    check_schematic(ws, result)
    files = list(ws.tree.by_role("talos"))
    if not files:
        return
    version = ws.spec.spec.versions.talos if ws.spec else None
    if version is None:
        result.notes.append("talos: the cluster spec is invalid, so the Talos version is unknown")
        return
    path = ws.settings.talos_dir / f"v{version}.config.schema.json"
    if not path.exists():
        result.add(
            files[0].path,
            None,
            "talos/no-schema",
            f"no Talos {version} machine-config schema at {path}: run `inv validate "
            "--refresh-schemas` or set validate.talos_schema_dir",
        )
        return
    try:
        schema = _SCHEMAS.get(path) or TalosSchema(path)
    except SchemaFileError as exc:
        result.add(files[0].path, None, "schema/unusable", f"{exc.path}: {exc.reason}")
        return
    _SCHEMAS[path] = schema
    for source in files:
        for doc in source.docs:
            if isinstance(doc.data, list):
                _json6902(schema, doc, result)
            elif isinstance(doc.data, dict):
                _strategic(ws, schema, version, doc, result)
            else:
                result.add(
                    doc.path,
                    doc.line,
                    "talos/schema",
                    "a patch is a mapping or a list of operations",
                )


def _json6902(schema: TalosSchema, doc: Doc, result: Result) -> None:
    for i, op in enumerate(doc.data):
        line = doc.line_of([i])
        if not isinstance(op, dict):
            result.add(
                doc.path, line, "talos/json6902", "an operation is a mapping (op, path, ...)"
            )
            continue
        name = op.get("op")
        pointer = op.get("path")
        if name not in OPS:
            result.add(
                doc.path,
                line,
                "talos/json6902",
                f"op {name!r} is not one of {', '.join(sorted(OPS))}",
            )
            continue
        if not isinstance(pointer, str) or not pointer.startswith("/"):
            result.add(
                doc.path, line, "talos/json6902", f"path {pointer!r} is not a JSON pointer (/a/b)"
            )
            continue
        if name in OPS_NEEDING_VALUE and "value" not in op:
            result.add(doc.path, line, "talos/json6902", f"op {name} needs a value")
        if name in OPS_NEEDING_FROM and not isinstance(op.get("from"), str):
            result.add(doc.path, line, "talos/json6902", f"op {name} needs from")
        extra = set(op) - {"op", "path", "value", "from"}
        if extra:
            result.add(doc.path, line, "talos/json6902", f"unknown keys {', '.join(sorted(extra))}")
        why = schema.path_problem(pointer)
        if why:
            result.add(
                doc.path, doc.line_of([i, "path"]), "talos/json6902", f"path {pointer}: {why}"
            )


def _strategic(ws: Workspace, schema: TalosSchema, version: str, doc: Doc, result: Result) -> None:
    data = doc.data
    kind = data.get("kind")
    nodes = {n.name for n in ws.spec.spec.nodes} if ws.spec else set()
    if isinstance(kind, str):
        definition = schema.kinds.get(kind)
        if definition is None:
            result.add(
                doc.path,
                doc.line_of(["kind"]),
                "talos/schema",
                f"unknown Talos document kind {kind!r}",
            )
            return
        required = schema.defs[definition].get("required", [])
        for key in required:
            if key not in data:
                result.add(
                    doc.path, doc.line, "talos/schema", f"{kind}: required field {key!r} is missing"
                )
    else:
        definition = V1ALPHA1
    for path, message in schema_errors(schema.validator(definition), data):
        result.add(doc.path, doc.line_of(path), "talos/schema", message, str(kind or ""))
    hostname = data.get("hostname")
    if kind == "HostnameConfig" and isinstance(hostname, str) and nodes and hostname not in nodes:
        result.add(
            doc.path,
            doc.line_of(["hostname"]),
            "talos/node-name",
            f"hostname {hostname!r} is not a node in the cluster spec ({', '.join(sorted(nodes))})",
        )
    machine = _mapping(data.get("machine"))
    network = _mapping(machine.get("network"))
    if "hostname" in network and _at_least(version, (1, 12)):
        result.add(
            doc.path,
            doc.line_of(["machine", "network", "hostname"]),
            "talos/hostname-config",
            f"Talos {version} sets the hostname with a HostnameConfig document "
            "(auto: off, hostname: ...); machine.network.hostname conflicts with it",
        )
    install = _mapping(machine.get("install"))
    image = install.get("image")
    if isinstance(image, str) and ":" in image.rsplit("/", 1)[-1]:
        tag = image.rsplit(":", 1)[-1]
        if tag.lstrip("v") != version:
            result.add(
                doc.path,
                doc.line_of(["machine", "install", "image"]),
                "talos/installer-version",
                f"installer image tag {tag} differs from the pinned Talos version v{version}",
            )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _at_least(version: str, minimum: tuple[int, int]) -> bool:
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[:2])
    return parts >= minimum


register_family("talos", check_talos, "Talos machine-config patches against the pinned schema")
