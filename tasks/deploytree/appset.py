"""Expand ApplicationSets offline from the working tree, the way the Argo CD controller would.

Generators: ``git`` (``directories`` with ``exclude``, and ``files``; the working tree stands in for
``repoURL``/``revision``), ``list``, ``clusters`` (label selector over the cluster Secrets Argo CD
would have, given offline as :class:`Cluster`; see :func:`clusters_from_values`), and ``matrix``.
Templates: ``goTemplate: true`` (:mod:`tasks.deploytree.gotemplate`, honouring
``goTemplateOptions: [missingkey=error]``) or the default ``{{param}}`` substitution.
``templatePatch`` is rendered, parsed and merged (maps merged, lists replaced, as a strategic
merge patch does for fields without a merge key).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from tasks.core.errors import UserError
from tasks.deploytree import gotemplate

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
_INVALID_NAME_CHARS = re.compile(r"[^-a-z0-9.]")


class RenderError(UserError):
    """An ApplicationSet that cannot be expanded; the message names the file."""


@dataclass(frozen=True)
class Source:
    repo_url: str
    path: str | None = None
    chart: str | None = None
    revision: str = ""
    #: ``helm``, ``kustomize``, ``chart`` (from a Helm repository) or ``directory``.
    kind: str = "directory"
    #: Dependencies of a wrapper chart at ``path`` (name, version).
    charts: tuple[tuple[str, str], ...] = ()
    #: ``helm.valueFiles`` as rendered (the environment switch shows here).
    value_files: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.chart:
            return f"chart {self.chart} {self.revision} ({self.repo_url})"
        deps = ", ".join(f"{n} {v}" for n, v in self.charts)
        return f"{self.path} ({self.kind}{': ' + deps if deps else ''})"


@dataclass(frozen=True)
class App:
    name: str
    project: str
    wave: int
    dest_server: str
    dest_namespace: str
    sources: tuple[Source, ...]
    #: ``ApplicationSet <name>`` or ``Application``, and the file it came from.
    generated_by: str
    file: str
    raw: dict[str, Any] = field(compare=False, repr=False)

    @property
    def source_paths(self) -> list[str]:
        return [s.path for s in self.sources if s.path]


@dataclass(frozen=True)
class Cluster:
    """A cluster Secret as the clusters generator sees it."""

    name: str
    server: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "nameNormalized": normalize_name(self.name),
            "server": self.server,
            "metadata": {"labels": dict(self.labels), "annotations": dict(self.annotations)},
        }


def clusters_from_values(values: dict[str, Any]) -> list[Cluster]:
    """The cluster Secrets the argo-cd chart creates from ``configs.clusterCredentials``.

    ``values`` is the argo-cd chart's values (a map, or the older list with ``name`` keys).
    """
    creds = ((values.get("configs") or {}).get("clusterCredentials")) or {}
    items = creds.items() if isinstance(creds, dict) else ((c.get("name"), c) for c in creds)
    return [
        Cluster(
            name=str(name),
            server=str(c.get("server", "")),
            labels={str(k): str(v) for k, v in (c.get("labels") or {}).items()},
            annotations={str(k): str(v) for k, v in (c.get("annotations") or {}).items()},
        )
        for name, c in items
        if isinstance(c, dict)
    ]


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key"), expr.get("operator")
        values = [str(v) for v in expr.get("values") or []]
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise RenderError(
                f"label selector operator {op!r} is not one of In, NotIn, Exists, DoesNotExist"
            )
    return True


def normalize_name(name: str) -> str:
    """Argo CD's SanitizeName: lower case, invalid characters to '-', trimmed."""
    return _INVALID_NAME_CHARS.sub("-", name.lower())[:253].strip("-.")


def glob_regex(pattern: str) -> re.Pattern[str]:
    """``*`` stays inside one path segment, ``**`` crosses them, ``?`` is one character."""
    out = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):
                out = out[:-2] + "(?:.*/)?"
                i += 1
            continue
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = pattern.find("]", i)
            if end == -1:
                out += re.escape(ch)
            else:
                out += "[" + pattern[i + 1 : end].replace("!", "^", 1) + "]"
                i = end
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(f"^{out}$")


def _walk(root: Path, patterns: list[str]) -> list[Path]:
    """Entries under each pattern's literal prefix (not the whole repository), hidden skipped."""
    found: set[Path] = set()
    for pattern in patterns:
        literal: list[str] = []
        for part in PurePosixPath(pattern).parts[:-1]:
            if any(ch in part for ch in "*?["):
                break
            literal.append(part)
        base = root.joinpath(*literal)
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            if not any(p.startswith(".") for p in path.relative_to(root).parts):
                found.add(path)
    return sorted(found)


def _path_params(relpath: str, *, is_file: bool) -> dict[str, Any]:
    p = PurePosixPath(relpath)
    directory = p.parent if is_file else p
    params: dict[str, Any] = {
        "path": str(directory),
        "basename": directory.name,
        "basenameNormalized": normalize_name(directory.name),
        "segments": list(directory.parts),
    }
    if is_file:
        params["filename"] = p.name
        params["filenameNormalized"] = normalize_name(p.name)
    return params


def _git_params(gen: dict[str, Any], root: Path, where: str) -> list[dict[str, Any]]:
    from ruamel.yaml.error import YAMLError

    from tasks.core import yamldata

    entries = _walk(root, [e["path"] for e in gen.get("directories") or gen.get("files") or []])
    params: list[dict[str, Any]] = []
    if "directories" in gen:
        include = [glob_regex(d["path"]) for d in gen["directories"] if not d.get("exclude")]
        exclude = [glob_regex(d["path"]) for d in gen["directories"] if d.get("exclude")]
        for path in entries:
            rel = path.relative_to(root).as_posix()
            if (
                path.is_dir()
                and any(r.match(rel) for r in include)
                and not any(r.match(rel) for r in exclude)
            ):
                params.append({"path": _path_params(rel, is_file=False)})
    elif "files" in gen:
        patterns = [glob_regex(f["path"]) for f in gen["files"] if not f.get("exclude")]
        excluded = [glob_regex(f["path"]) for f in gen["files"] if f.get("exclude")]
        for path in entries:
            rel = path.relative_to(root).as_posix()
            if not path.is_file() or not any(r.match(rel) for r in patterns):
                continue
            if any(r.match(rel) for r in excluded):
                continue
            try:
                content = yamldata.load_fast(path.read_text())
            except YAMLError as exc:
                raise RenderError(f"{rel}: not valid YAML ({exc}), read by {where}") from None
            items = content if isinstance(content, list) else [content or {}]
            for item in items:
                if not isinstance(item, dict):
                    raise RenderError(f"{rel}: the git files generator needs a mapping ({where})")
                params.append({**item, "path": _path_params(rel, is_file=True)})
    else:
        raise RenderError(f"{where}: a git generator needs directories or files")
    return params


def generator_params(
    gen: dict[str, Any], root: Path, where: str, clusters: list[Cluster]
) -> list[dict[str, Any]]:
    if "git" in gen:
        params = _git_params(gen["git"], root, where)
        values = gen["git"].get("values")
    elif "list" in gen:
        params = [dict(e) for e in gen["list"].get("elements") or []]
        values = gen["list"].get("values")
    elif "clusters" in gen:
        selector = gen["clusters"].get("selector") or {}
        params = [c.params() for c in clusters if selector_matches(selector, c.labels)]
        values = gen["clusters"].get("values")
    elif "matrix" in gen:
        children = gen["matrix"].get("generators") or []
        if len(children) != 2:
            raise RenderError(f"{where}: a matrix generator takes exactly two generators")
        left = generator_params(children[0], root, where, clusters)
        right = generator_params(children[1], root, where, clusters)
        # Keys of the first generator win, as in Argo CD's matrix.
        params = [merge_maps(copy.deepcopy(b), copy.deepcopy(a)) for a in left for b in right]
        values = None
    else:
        kinds = ", ".join(gen) or "(empty)"
        raise RenderError(
            f"{where}: generator {kinds} is not supported offline "
            "(git, list, clusters and matrix are)"
        )
    if values:
        for p in params:
            p["values"] = {k: str(v) for k, v in values.items()}
    return params


def merge_maps(base: Any, patch: Any) -> Any:
    """``patch`` over ``base``: mappings merge key by key, anything else is replaced.

    Helm merges values files this way, Argo CD a matrix's params and a templatePatch. Neither
    argument is changed; the result may share unmerged subtrees with them.
    """
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge_maps(base[key], value) if key in base else value
        return out
    return patch


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
            if key == "path" and "path" in value:
                flat[name] = str(value["path"])
        elif isinstance(value, list):
            flat.update({f"{name}[{i}]": str(v) for i, v in enumerate(value)})
        else:
            flat[name] = str(value)
    return flat


def _render_strings(node: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(node, dict):
        return {fn(k) if isinstance(k, str) else k: _render_strings(v, fn) for k, v in node.items()}
    if isinstance(node, list):
        return [_render_strings(v, fn) for v in node]
    if isinstance(node, str):
        return fn(node)
    return node


def _filler(
    params: dict[str, Any], *, go: bool, missing_error: bool, where: str
) -> Callable[[str], str]:
    """How one string of the template is filled with one parameter set."""
    if go:

        def fill_go(text: str) -> str:
            try:
                return gotemplate.render(text, params, missing_error=missing_error)
            except gotemplate.TemplateError as exc:
                raise RenderError(f"{where}: {exc}") from None

        return fill_go
    flat = _flatten(params)

    def fill_flat(text: str) -> str:
        return re.sub(r"\{\{\s*([^{}\s]+)\s*\}\}", lambda m: flat.get(m.group(1), m.group(0)), text)

    return fill_flat


def expand(
    appset: dict[str, Any], root: Path, file: str, clusters: list[Cluster]
) -> list[dict[str, Any]]:
    """The Application objects one ApplicationSet generates."""
    from ruamel.yaml.error import YAMLError

    from tasks.core import yamldata

    name = (appset.get("metadata") or {}).get("name", "?")
    where = f"{file}: ApplicationSet {name}"
    spec = appset.get("spec") or {}
    go = bool(spec.get("goTemplate"))
    missing_error = "missingkey=error" in (spec.get("goTemplateOptions") or [])
    template = spec.get("template")
    if not isinstance(template, dict):
        raise RenderError(f"{where}: spec.template is missing")
    apps: list[dict[str, Any]] = []
    for gen in spec.get("generators") or []:
        for params in generator_params(gen, root, where, clusters):
            fill = _filler(params, go=go, missing_error=missing_error, where=where)
            app = _render_strings(copy.deepcopy(template), fill)
            patch = spec.get("templatePatch")
            if patch:
                try:
                    patched = yamldata.load_fast(fill(patch))
                except YAMLError as exc:
                    raise RenderError(
                        f"{where}: templatePatch is not YAML once rendered ({exc})"
                    ) from None
                if patched:
                    app = merge_maps(app, patched)
            app.setdefault("apiVersion", "argoproj.io/v1alpha1")
            app.setdefault("kind", "Application")
            app.setdefault("metadata", {}).setdefault(
                "namespace", (appset.get("metadata") or {}).get("namespace", "argocd")
            )
            apps.append(app)
    return apps


def _source(raw: dict[str, Any], root: Path) -> Source:
    from tasks.core import yamldata

    path = raw.get("path")
    chart = raw.get("chart")
    kind = "chart" if chart else "directory"
    charts: tuple[tuple[str, str], ...] = ()
    if path and not chart:
        directory = root / path
        if (directory / "Chart.yaml").is_file():
            kind = "helm"
            meta = yamldata.load_fast((directory / "Chart.yaml").read_text()) or {}
            charts = tuple(
                (str(d.get("name")), str(d.get("version"))) for d in meta.get("dependencies") or []
            )
        elif any((directory / k).is_file() for k in ("kustomization.yaml", "kustomization.yml")):
            kind = "kustomize"
    return Source(
        repo_url=str(raw.get("repoURL", "")),
        path=str(path) if path else None,
        chart=str(chart) if chart else None,
        revision=str(raw.get("targetRevision", "")),
        kind=kind,
        charts=charts,
        value_files=tuple(str(v) for v in (raw.get("helm") or {}).get("valueFiles") or []),
    )


def summarize(app: dict[str, Any], root: Path, generated_by: str, file: str) -> App:
    meta = app.get("metadata") or {}
    spec = app.get("spec") or {}
    wave_text = str((meta.get("annotations") or {}).get(SYNC_WAVE, "0")).strip()
    try:
        wave = int(wave_text)
    except ValueError:
        raise RenderError(
            f"{file}: Application {meta.get('name')}: sync wave {wave_text!r} is not an integer"
        ) from None
    raw_sources = spec.get("sources") or ([spec["source"]] if spec.get("source") else [])
    dest = spec.get("destination") or {}
    return App(
        name=str(meta.get("name", "")),
        project=str(spec.get("project", "")),
        wave=wave,
        dest_server=str(dest.get("server") or dest.get("name") or ""),
        dest_namespace=str(dest.get("namespace", "")),
        sources=tuple(_source(s, root) for s in raw_sources),
        generated_by=generated_by,
        file=file,
        raw=app,
    )


def documents(directory: Path, root: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file relative to root, document) for every YAML document under ``directory``."""
    from ruamel.yaml.error import YAMLError

    from tasks.core import yamldata

    for path in sorted(directory.rglob("*.y*ml")):
        rel = path.relative_to(root).as_posix()
        try:
            docs = yamldata.load_all_fast(path.read_text())
        except YAMLError as exc:
            raise RenderError(f"{rel}: not valid YAML ({exc})") from None
        for doc in docs:
            if isinstance(doc, dict):
                yield rel, doc


def render_tree(root: Path, bootstrap: Path, clusters: list[Cluster]) -> list[App]:
    """Every Application: those written in ``bootstrap`` and those its ApplicationSets generate."""
    bootstrap = bootstrap if bootstrap.is_absolute() else root / bootstrap
    if not bootstrap.is_dir():
        raise RenderError(f"{bootstrap}: no such directory (the Argo CD bootstrap tree)")
    apps: list[App] = []
    for file, doc in documents(bootstrap, root):
        kind = doc.get("kind")
        if kind == "Application":
            apps.append(summarize(doc, root, "Application", file))
        elif kind == "ApplicationSet":
            name = (doc.get("metadata") or {}).get("name", "?")
            apps += [
                summarize(app, root, f"ApplicationSet {name}", file)
                for app in expand(doc, root, file, clusters)
            ]
    seen: dict[str, App] = {}
    for app in apps:
        if app.name in seen:
            raise RenderError(
                f"Application name {app.name!r} is generated twice ({seen[app.name].file} and "
                f"{app.file}): names must be unique across deploy/"
            )
        seen[app.name] = app
    return sorted(apps, key=lambda a: (a.wave, a.name))


def as_json(app: App) -> dict[str, Any]:
    return {
        "name": app.name,
        "project": app.project,
        "wave": app.wave,
        "destination": {"server": app.dest_server, "namespace": app.dest_namespace},
        "sources": [
            {
                "repoURL": s.repo_url,
                "kind": s.kind,
                **({"chart": s.chart} if s.chart else {"path": s.path}),
                "targetRevision": s.revision,
                **(
                    {"charts": [{"name": n, "version": v} for n, v in s.charts]} if s.charts else {}
                ),
                **({"valueFiles": list(s.value_files)} if s.value_files else {}),
            }
            for s in app.sources
        ],
        "generatedBy": app.generated_by,
        "file": app.file,
    }
