"""``values``: wrapper charts (Chart.yaml) and their Helm values.

Checks: dependencies pinned to an exact version with a repository; no ``templates/`` (nothing may
depend on rendering templates offline); every top-level values key names a dependency (or its alias)
or ``global``, since a wrapper chart has nothing else to configure; each dependency's values
validate against the chart's ``values.schema.json`` when one is known (``validate.values_schemas``
or the download cache), made strict so that unknown keys are reported even where the chart schema
leaves objects open.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.validate import schemas
from tasks.validate.registry import register_family
from tasks.validate.resultcache import file_identity
from tasks.validate.schemas import SchemaFileError, compile_schema, read_json_schema, strictify

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Doc, Result
    from tasks.validate.tree import SourceFile

#: Wrapped charts whose version the cluster spec pins (versions.<field>).
SPEC_PINNED = {"cilium": "cilium", "argo-cd": "argocd_chart"}
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.\-+]+)?$")


class _Validators:
    def __init__(self) -> None:
        self.cache: dict[Path, Any] = {}

    def get(self, path: Path) -> Any:
        if path not in self.cache:
            self.cache[path] = compile_schema(strictify(read_json_schema(path)))
        return self.cache[path]


_VALIDATORS = _Validators()
#: strictify() and the schema reading live there: an edit invalidates cached verdicts.
SCHEMAS_CODE = Path(schemas.__file__)


def check_values(ws: Workspace, result: Result) -> None:
    tree = ws.tree
    for chart in tree.by_role("chart"):
        deps = _check_chart(ws, chart, result)
        values = [
            f
            for f in tree.files_in(str(Path(chart.path).parent))
            if f.role in ("values", "template", "secrets")
        ]
        for source in values:
            _check_values_file(ws, source, deps, result)


def _check_chart(ws: Workspace, chart: SourceFile, result: Result) -> dict[str, dict[str, Any]]:
    """Dependencies by the key their values live under (alias or name)."""
    if not chart.docs or not chart.docs[0].is_object:
        result.add(chart.path, 1, "values/chart", "Chart.yaml must be a mapping")
        return {}
    doc = chart.docs[0]
    if (ws.root / Path(chart.path).parent / "templates").exists():
        result.add(
            chart.path,
            1,
            "values/chart-templates",
            "a wrapper chart has no templates/ (they cannot be rendered offline); put plain "
            "manifests in their own Kustomize component",
        )
    deps = doc.data.get("dependencies")
    if not isinstance(deps, list) or not deps:
        result.add(
            chart.path,
            doc.line_of(["dependencies"]),
            "values/chart",
            "a wrapper chart lists the chart it wraps under dependencies",
        )
        return {}
    out: dict[str, dict[str, Any]] = {}
    for i, dep in enumerate(deps):
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            result.add(
                chart.path,
                doc.line_of(["dependencies", i]),
                "values/chart",
                "dependency needs a name",
            )
            continue
        version = dep.get("version")
        if not isinstance(version, str) or not EXACT_VERSION.match(version):
            result.add(
                chart.path,
                doc.line_of(["dependencies", i, "version"]),
                "values/chart-unpinned",
                f"{dep['name']}: version {version!r} is not an exact version (pin X.Y.Z)",
            )
        pinned = SPEC_PINNED.get(dep["name"])
        if pinned and ws.spec is not None and isinstance(version, str):
            wanted = getattr(ws.spec.spec.versions, pinned)
            if version.lstrip("v") != wanted:
                result.add(
                    chart.path,
                    doc.line_of(["dependencies", i, "version"]),
                    "values/chart-version",
                    f"{dep['name']} {version} differs from versions.{pinned} {wanted} in the "
                    "cluster spec",
                )
        if not dep.get("repository"):
            result.add(
                chart.path,
                doc.line_of(["dependencies", i]),
                "values/chart-repository",
                f"{dep['name']}: no repository",
            )
        out[str(dep.get("alias") or dep["name"])] = dep
    return out


def _check_values_file(
    ws: Workspace, source: SourceFile, deps: dict[str, dict[str, Any]], result: Result
) -> None:
    if not deps or not source.docs:
        return
    doc = source.docs[0]
    if not doc.is_object:
        result.add(source.path, doc.line, "values/unknown-key", "values must be a mapping")
        return
    for key in doc.data:
        if key in deps or key in ("global", "sops"):
            continue
        result.add(
            source.path,
            doc.line_of([key]),
            "values/unknown-key",
            f"top-level key {key!r} configures nothing: a wrapper chart's values go under a "
            f"dependency ({', '.join(sorted(deps))}) or global",
        )
    if source.role != "values":
        return  # templates hold placeholders, encrypted files ciphertext: keys only
    for key, dep in deps.items():
        if key in doc.data:
            _check_dependency_values(ws, source, doc, key=key, dep=dep, result=result)


def _check_dependency_values(
    ws: Workspace, source: SourceFile, doc: Doc, *, key: str, dep: dict[str, Any], result: Result
) -> None:
    chart = str(dep["name"])
    version = str(dep.get("version") or "").lstrip("v") or None
    schema_path = ws.settings.values_schema(chart, version)
    if schema_path is None:
        return
    if not schema_path.exists():
        result.add(
            source.path,
            doc.line_of([key]),
            "values/no-schema",
            f"no values schema for chart {chart} {version or ''} at {schema_path}: run "
            f"`inv validate --refresh-schemas` or set validate.values_schemas.{chart}",
        )
        return
    values = doc.data.get(key)
    # Verdicts are cached by content (resultcache): the schema is compiled only on a miss.
    identity = "|".join(file_identity(p) for p in (schema_path, Path(__file__), SCHEMAS_CODE))
    try:
        if values is None:
            _VALIDATORS.get(schema_path)  # still report an unusable schema
            return
        errors = ws.schema_results.check(
            identity, values, lambda: _VALIDATORS.get(schema_path), (key,)
        )
    except SchemaFileError as exc:
        result.add(source.path, doc.line_of([key]), "schema/unusable", f"{exc.path}: {exc.reason}")
        return
    for path, message in errors:
        result.add(source.path, doc.line_of([key, *path]), "values/schema", message)


register_family("values", check_values, "wrapper charts and their Helm values")
