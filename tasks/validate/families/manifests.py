"""``manifests``: Kubernetes objects (Kustomize renders and plain manifests) and component.yaml.

Checks: every object has apiVersion and kind; it validates strictly against its schema (core kinds
from kubernetes-validate, CRDs from the schema directory); a kind with no schema is an error unless
allow-listed (``validate.allow_unknown_kinds``); no object is defined twice; every Kustomize root
builds; component.yaml matches its schema (CONVENTIONS.md), names are unique and the files it names
exist. Every kustomization (rendered or not: Components and builds with pinned remote resources are
not) has only the fields kustomize knows, well-formed patches, and remote references pinned to the
spec's version where the spec has one (``REMOTE_VERSIONS``).

Two checks look past a single file: a YAML file inside a Kustomize directory that no
kustomization names is reported (``manifests/unreferenced``: Argo CD never applies it), and pod
templates embedded in custom resources whose CRD schema preserves unknown fields (Argo Rollouts'
``spec.template``) are validated strictly as a core ``PodTemplateSpec``
(``manifests/pod-template``), located in the file that holds the mistake: the shared base when
the field is there, else the overlay's kustomization whose patch put it in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.validate.jsonerrors import schema_errors
from tasks.validate.model import Doc
from tasks.validate.registry import register_family
from tasks.validate.resultcache import file_identity
from tasks.validate.schemas import SchemaFileError, compile_schema
from tasks.validate.tree import LAYERS, REMOTE, pin_of
from tasks.validate.yamlio import load_all

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result
    from tasks.validate.tree import Kustomization, Tree

#: Custom resources that embed a core PodTemplateSpec their CRD schema does not describe
#: (x-kubernetes-preserve-unknown-fields): (group, kind) -> path of the template.
EMBEDDED_POD_TEMPLATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("argoproj.io", "Rollout"): ("spec", "template"),
}
#: Remote references whose pin must equal a version of the spec: URL part -> ``versions`` field.
REMOTE_VERSIONS = {"github.com/kubernetes-sigs/gateway-api/": "gateway_api"}
JSON6902_OPS = {"add", "remove", "replace", "move", "copy", "test"}


def check_manifests(ws: Workspace, result: Result) -> None:
    tree = ws.tree
    store = ws.schemas
    verdicts = ws.schema_results
    reported_schemas: set[str] = set()
    for doc in tree.objects:
        if not doc.is_object:
            result.add(
                doc.path,
                doc.line,
                "manifests/not-object",
                f"a {type(doc.data).__name__} where a Kubernetes object (a mapping) was expected",
            )
            continue
        missing = [k for k in ("apiVersion", "kind") if not isinstance(doc.data.get(k), str)]
        if missing:
            result.add(
                doc.path,
                doc.line,
                "manifests/missing-kind",
                f"document has no {' or '.join(missing)}: every manifest must be a Kubernetes "
                "object",
                doc.ref,
            )
            continue
        if not doc.name and not doc.metadata.get("generateName"):
            result.add(
                doc.path, doc.line, "manifests/missing-name", "metadata.name is missing", doc.ref
            )
        embedded = EMBEDDED_POD_TEMPLATES.get((doc.group, doc.kind))
        key = verdicts.key(store.identity(doc.api_version, doc.kind), doc.data)
        errors = verdicts.get(key)
        if errors is not None:
            _schema_findings(doc, embedded, errors, result)
            continue
        try:
            validator = store.validator(doc.api_version, doc.kind)
        except SchemaFileError as exc:
            if str(exc.path) not in reported_schemas:
                reported_schemas.add(str(exc.path))
                result.add(
                    doc.path,
                    doc.line,
                    "schema/unusable",
                    f"schema {exc.path} for {doc.api_version} {doc.kind} is unusable: {exc.reason}",
                    doc.ref,
                )
            continue
        if validator is None:
            if doc.kind in store.allow_unknown:
                continue
            result.add(doc.path, doc.line, "manifests/unknown-kind", _unknown(ws, doc), doc.ref)
            continue
        errors = list(schema_errors(validator, doc.data))
        verdicts.put(key, errors)
        _schema_findings(doc, embedded, errors, result)
    _pod_templates(ws, tree, result)
    _duplicates(tree, result)
    _components(ws, tree, result)
    _unreferenced(ws, tree, result)
    for k in tree.kustomizations.values():
        _kustomization(ws, k, result)


def _schema_findings(
    doc: Doc, embedded: tuple[str, ...] | None, errors: list[tuple[list[Any], str]], result: Result
) -> None:
    for path, message in errors:
        if embedded and tuple(path[: len(embedded)]) == embedded:
            continue  # manifests/pod-template checks it, located where the mistake is
        result.add(doc.path, doc.line_of(path), "manifests/schema", message, doc.ref)


def _source_has(tree: Tree, doc: Doc, path: list[Any]) -> bool:
    """Whether ``path`` is in the source document ``doc`` was traced to (not only in a patch)."""
    source = tree.files.get(doc.path)
    data: Any = next((d.data for d in source.docs if d.line == doc.line), None) if source else None
    for key in path:
        in_map = isinstance(data, dict) and key in data
        in_list = isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data)
        if not (in_map or in_list):
            return False
        data = data[key]
    return True


def _pod_templates(ws: Workspace, tree: Tree, result: Result) -> None:
    if not ws.schemas.core_file("v1", "PodTemplate").exists():
        return
    identity = ws.schemas.identity("v1", "PodTemplate")
    verdicts = ws.schema_results
    seen: set[tuple[str, int, str]] = set()
    for doc in tree.objects:
        where = EMBEDDED_POD_TEMPLATES.get((doc.group, doc.kind)) if doc.is_object else None
        if where is None:
            continue
        template: Any = doc.data
        for key in where:
            template = template.get(key) if isinstance(template, dict) else None
        if not isinstance(template, dict):
            continue
        wrapped: dict[str, Any] = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {}}
        wrapped["template"] = template
        errors = verdicts.check(
            identity, wrapped, lambda: ws.schemas.validator("v1", "PodTemplate"), where[:-1]
        )
        for path, error in errors:
            inner = [*where, *list(path)[1:]]
            message = error
            if doc.origin == "kustomize" and not _source_has(tree, doc, inner) and doc.component:
                file, line = f"{doc.component}/kustomization.yaml", 1
                message += f" (put there by a patch of {doc.component})"
            else:
                file, line = doc.path, doc.line_of(inner)
            if (file, line, message) in seen:
                continue
            seen.add((file, line, message))
            result.add(file, line, "manifests/pod-template", message, doc.ref)


def _unreferenced(ws: Workspace, tree: Tree, result: Result) -> None:
    """YAML files in a Kustomize directory that no kustomization names: never applied."""
    from tasks.validate.tree import referenced_files

    named = referenced_files(tree)
    for source in tree.by_role("kustomize-source"):
        if source.path in named or ws.skipped("manifests/unreferenced", path=source.path):
            continue
        result.add(
            source.path,
            1,
            "manifests/unreferenced",
            "no kustomization names this file, so Argo CD never applies it: add it to the "
            "`resources` (or patches) of its kustomization, or delete it",
        )


KUSTOMIZATION_SCHEMA = Path(__file__).parent.parent / "kustomization.schema.json"
COMPONENT_SCHEMA = Path(__file__).parent.parent / "component.schema.json"


@cache
def _validator(schema: Path) -> Any:
    return compile_schema(json.loads(schema.read_text()))


def _local_schema_errors(ws: Workspace, schema: Path, data: Any) -> list[tuple[list[Any], str]]:
    """Errors against one of this package's schemas, cached by content like the others."""
    identity = f"{file_identity(schema)}|{file_identity(Path(__file__))}"
    return ws.schema_results.check(identity, data, lambda: _validator(schema))


def _kustomization(ws: Workspace, k: Kustomization, result: Result) -> None:
    """What can be checked without a build: the fields, the patches, the remote pins."""
    for path, message in _local_schema_errors(ws, KUSTOMIZATION_SCHEMA, k.data):
        result.add(k.path, k.doc.line_of(path), "manifests/kustomization", message)
    for key in ("patches", "patchesJson6902"):
        entries = k.data.get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict):
                continue
            for field_name, message in _patch_problems(ws.root / k.dir, entry):
                result.add(k.path, k.doc.line_of([key, i, field_name]), "manifests/patch", message)
    versions = ws.spec.spec.versions if ws.spec is not None else None
    if versions is None:
        return
    for line, entry in k.remote():
        pin = pin_of(entry)
        for part, field_name in REMOTE_VERSIONS.items():
            wanted = getattr(versions, field_name)
            if part in entry and pin is not None and pin.removeprefix("v") != wanted:
                result.add(
                    k.path,
                    line,
                    "manifests/remote-version",
                    f"{entry} is pinned to {pin} but versions.{field_name} in the cluster spec "
                    f"is {wanted}: run `inv gitops.generate`",
                )


def _patch_problems(directory: Path, entry: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, message) for a patch kustomize would reject or apply to nothing."""
    text = entry.get("patch")
    field_name = "patch"
    if isinstance(entry.get("path"), str):
        field_name = "path"
        if REMOTE.search(entry["path"]):
            yield field_name, f"{entry['path']}: a patch must be a file in the repository"
            return
        try:
            text = (directory / entry["path"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            yield field_name, f"{entry['path']}: no such patch file"
            return
    if not isinstance(text, str):
        return  # the schema reports a missing or mistyped patch
    loaded = load_all(text)
    if loaded.errors:
        line, _, message = loaded.errors[0]
        yield field_name, f"the patch is not valid YAML (its line {line}): {message}"
        return
    docs = [data for data, _, _ in loaded.docs if data is not None]
    if not docs:
        yield field_name, "the patch is empty"
        return
    targeted = isinstance(entry.get("target"), dict)
    for data in docs:
        if isinstance(data, list):
            if not targeted:
                yield field_name, "a JSON 6902 patch (a list of operations) needs a target"
            yield from ((field_name, m) for m in _json6902_problems(data))
        elif isinstance(data, dict):
            meta = data.get("metadata")
            named = isinstance(meta, dict) and isinstance(meta.get("name"), str)
            if not targeted and (not isinstance(data.get("kind"), str) or not named):
                yield (
                    field_name,
                    "a strategic-merge patch without a target needs kind and metadata.name to "
                    "find the object it patches",
                )
        else:
            yield field_name, f"a patch is a mapping or a list of operations, not {data!r}"


def _json6902_problems(ops: list[Any]) -> Iterator[str]:
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            yield f"operation {i}: not a mapping"
            continue
        name = op.get("op")
        if name not in JSON6902_OPS:
            yield f"operation {i}: op {name!r} is not one of {', '.join(sorted(JSON6902_OPS))}"
            continue
        path = op.get("path")
        if not isinstance(path, str) or (path and not path.startswith("/")):
            yield f"operation {i} ({name}): path {path!r} is not a JSON pointer (/a/b/0)"
        if name in ("add", "replace", "test") and "value" not in op:
            yield f"operation {i} ({name}): no value"
        if name in ("move", "copy") and not isinstance(op.get("from"), str):
            yield f"operation {i} ({name}): no from"


def _unknown(ws: Workspace, doc: Doc) -> str:
    store = ws.schemas
    crd = store.crd_file(doc.api_version, doc.kind)
    where = (
        f"not at {crd}"
        if crd is not None
        else "and no CRD schema directory (run `inv validate --refresh-schemas` or set "
        "validate.schema_dir)"
        if doc.group
        else ""
    )
    return (
        f"no schema for {doc.api_version} {doc.kind}: not a core kind of Kubernetes "
        f"{store.core.version} {where}. Fix the apiVersion/kind, add the schema, or allow-list "
        "the kind in validate.allow_unknown_kinds with a reason"
    ).replace("  ", " ")


def _identity(doc: Doc) -> tuple[str, str, str, str]:
    return (doc.group, doc.kind, doc.namespace or "", doc.name)


def _duplicates(tree: Tree, result: Result) -> None:
    rendered: set[int] = set()
    units: list[tuple[str, list[Doc], bool]] = []
    component_dirs = tree.component_dirs()
    for directory, docs in tree.renders.items():
        rendered.update(id(d) for d in docs)
        units.append((directory, docs, directory in component_dirs))
    loose = [d for d in tree.objects if id(d) not in rendered]
    units.append(("", loose, True))
    seen_global: dict[tuple[str, str, str, str], Doc] = {}
    for _unit, docs, deployed in units:
        seen: dict[tuple[str, str, str, str], Doc] = {}
        for doc in docs:
            if not doc.kind or not doc.name:
                continue
            key = _identity(doc)
            first = seen.get(key) or (seen_global.get(key) if deployed else None)
            if first is not None and first is not doc:
                result.add(
                    doc.path,
                    doc.line,
                    "manifests/duplicate",
                    f"{doc.kind} {doc.namespace + '/' if doc.namespace else ''}{doc.name} is also "
                    f"defined at {first.path}:{first.line}",
                    doc.ref,
                )
            seen.setdefault(key, doc)
        if deployed:
            for key, doc in seen.items():
                seen_global.setdefault(key, doc)


def _components(ws: Workspace, tree: Tree, result: Result) -> None:
    names: dict[str, str] = {}
    for source in tree.by_role("component"):
        directory = Path(source.path).parent
        if not source.docs:
            result.add(source.path, 1, "component/schema", "component.yaml is empty")
            continue
        doc = source.docs[0]
        if len(source.docs) > 1:
            result.add(source.path, source.docs[1].line, "component/schema", "one document only")
        for path, message in _local_schema_errors(ws, COMPONENT_SCHEMA, doc.data):
            result.add(source.path, doc.line_of(path), "component/schema", message)
        if not doc.is_object:
            continue
        name = doc.data.get("name")
        if isinstance(name, str):
            if name in names:
                result.add(
                    source.path,
                    doc.line_of(["name"]),
                    "component/duplicate-name",
                    f"Application name {name!r} is also used by {names[name]}",
                )
            names.setdefault(name, source.path)
        has_chart = (ws.root / directory / "Chart.yaml").exists()
        has_kustomize = any(
            (ws.root / directory / n).exists() for n in ("kustomization.yaml", "kustomization.yml")
        )
        if not has_chart and not has_kustomize:
            result.add(
                source.path,
                1,
                "component/source",
                "the component has neither a wrapper Chart.yaml nor a kustomization.yaml",
            )
        value_files = doc.data.get("valueFiles")
        if isinstance(value_files, list):
            if not has_chart:
                result.add(
                    source.path,
                    doc.line_of(["valueFiles"]),
                    "component/value-file",
                    "valueFiles is for Helm components only (no Chart.yaml here)",
                )
            for i, entry in enumerate(value_files):
                if isinstance(entry, str):
                    for problem in _value_file_problems(ws.root / directory, entry):
                        result.add(
                            source.path,
                            doc.line_of(["valueFiles", i]),
                            "component/value-file",
                            problem,
                        )
    for deployable in _layer_component_dirs(tree):
        if not (ws.root / deployable / "component.yaml").exists():
            result.add(
                deployable,
                None,
                "component/missing",
                "a deployable directory in a layer needs a component.yaml (deploy/CONVENTIONS.md)",
            )


def _value_file_problems(directory: Path, entry: str) -> Iterator[str]:
    if entry.startswith("secrets://"):
        target = entry.removeprefix("secrets://")
        template = (directory / target).with_name(
            Path(target).name.replace(".yaml", ".template.yaml")
        )
        if not (directory / target).exists() and not template.exists():
            yield f"{entry}: neither {target} nor its template {template.name} exists"
        return
    if Path(entry).name.startswith("secrets"):
        yield f"{entry}: a secrets file must be referenced as secrets://{entry}"
    if not (directory / entry).exists():
        yield f"{entry}: no such file"


def _layer_component_dirs(tree: Tree) -> set[str]:
    """Direct children of a layer that Argo CD would deploy (a chart or a Kustomize root)."""
    referenced = {d for k in tree.kustomizations.values() for d in k.refs}
    out: set[str] = set()
    for rel in tree.files:
        parts = Path(rel).parts
        if len(parts) == 4 and parts[0] == "deploy" and parts[1] in LAYERS:
            directory = "/".join(parts[:3])
            if parts[3] == "Chart.yaml" or (
                parts[3].startswith("kustomization") and directory not in referenced
            ):
                k = tree.kustomizations.get(directory)
                if k is None or not k.is_component_kind:
                    out.add(directory)
    return out


register_family(
    "manifests", check_manifests, "Kubernetes objects against their schemas; component.yaml"
)
