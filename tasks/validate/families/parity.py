"""``parity``: the tree Argo CD deploys on AKS differs from the local one only by declared backends.

Both environments are rendered offline as Argo CD would: the ApplicationSets expanded with the
environment's cluster labels (:mod:`tasks.deploytree.appset`), each Helm source's values files
merged in order (missing ones skipped, as ``ignoreMissingValueFiles`` does; ``secrets://`` files
are the same encrypted file in both), and each Kustomize source built with the Components its
Application lists that exist (``ignoreMissingComponents``; Argo CD adds them to the
kustomization as ``kustomize edit add component`` would). The env switch itself
(``values-<env>.yaml``, ``env/<env>``) is not a difference; every other one must fall under a
contract of ``deploy/aks/contracts.yaml`` (:mod:`parity_contracts`), or it is a
``parity/uncovered`` finding naming the Application, object and field. A rule of a contract
that covers nothing any more is a ``parity/stale`` finding, so the table stays true.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core.errors import UserError
from tasks.validate.families import parity_contracts as pc
from tasks.validate.registry import register_family

if TYPE_CHECKING:
    from tasks.deploytree.appset import App
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result

DEFAULT_GITOPS_PATH = "deploy"
_SHORT = 60


class ParityError(UserError):
    """A tree that cannot be rendered for an environment (the message says where)."""


@dataclass
class EnvTree:
    """One environment's deploy tree as Argo CD would apply it."""

    env: str
    apps: dict[str, App] = field(default_factory=dict)
    #: Application name -> its raw object with the env switch written as ``<env>``.
    normalized: dict[str, Any] = field(default_factory=dict)
    #: (Application, source index) -> (merged Helm values, the files used).
    values: dict[tuple[str, int], tuple[dict[str, Any], list[str]]] = field(default_factory=dict)
    #: (Application, source index) -> object id -> object.
    objects: dict[tuple[str, int], dict[tuple[str, str, str], Any]] = field(default_factory=dict)
    #: Applications with a source that could not be rendered offline (remote resources).
    uncompared: set[str] = field(default_factory=set)


@dataclass
class Report:
    first: str
    second: str
    covered: list[tuple[pc.Difference, pc.Contract]]
    uncovered: list[pc.Difference]
    #: (contract id, what the rule says) for each rule that covered nothing.
    stale: list[tuple[str, str]]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.uncovered and not self.stale

    def as_json(self) -> dict[str, Any]:
        def one(d: pc.Difference) -> dict[str, Any]:
            return {
                "app": d.app,
                "what": d.what,
                "object": d.obj,
                "field": d.field,
                "detail": d.detail,
                "path": d.path,
            }

        return {
            "environments": [self.first, self.second],
            "ok": self.ok,
            "covered": [{**one(d), "contract": c.id} for d, c in self.covered],
            "uncovered": [one(d) for d in self.uncovered],
            "stale": [{"contract": c, "rule": r} for c, r in self.stale],
            "notes": self.notes,
        }


# -- rendering ------------------------------------------------------------------------------


def _normalize(node: Any, env: str) -> Any:
    """``node`` with the env switch (``values-<env>.yaml``, ``env/<env>``) written as ``<env>``."""
    if isinstance(node, dict):
        return {k: _normalize(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_normalize(v, env) for v in node]
    if isinstance(node, str):
        name = re.escape(env)
        node = re.sub(rf"(^|/)values-{name}\.yaml$", r"\1values-<env>.yaml", node)
        return re.sub(rf"(^|/)env/{name}$", r"\1env/<env>", node)
    return node


def _sources(app: App) -> list[dict[str, Any]]:
    spec = app.raw.get("spec") or {}
    raw = spec.get("sources") or ([spec["source"]] if spec.get("source") else [])
    return [s for s in raw if isinstance(s, dict)]


def _merged_values(
    root: Path, src_path: str, raw: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    from ruamel.yaml.error import YAMLError

    from tasks.core import yamldata
    from tasks.deploytree.appset import merge_maps

    helm = raw.get("helm") or {}
    merged: dict[str, Any] = {}
    used: list[str] = []
    for listed in helm.get("valueFiles") or []:
        name = str(listed)
        if "://" in name:  # secrets://, a URL: the same reference in both environments
            continue
        path = root / src_path / name
        rel = f"{src_path}/{name}"
        if not path.is_file():
            continue  # ignoreMissingValueFiles (a missing one without it is validate's to report)
        try:
            data = yamldata.load_fast(path.read_text()) or {}
        except YAMLError as exc:
            raise ParityError(f"{rel}: not valid YAML ({exc})") from None
        if isinstance(data, dict):
            merged = merge_maps(merged, data)
            used.append(rel)
    return merged, used


def _components(root: Path, src_path: str, raw: dict[str, Any]) -> list[str]:
    listed = (raw.get("kustomize") or {}).get("components") or []
    return [str(c) for c in listed if (root / src_path / str(c)).is_dir()]


def _object_id(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", ""))


def _with_components(copy_root: Path, src_path: str, components: list[str]) -> None:
    """Add the components to the copy's kustomization, as ``kustomize edit add component``."""
    from tasks.core import yamldata

    directory = copy_root / src_path
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        file = directory / name
        if file.is_file():
            break
    else:
        raise ParityError(f"{src_path}: no kustomization file to add {components} to")
    data = yamldata.load_fast(file.read_text()) or {}
    listed = list(data.get("components") or [])
    data["components"] = listed + [c for c in components if c not in listed]
    file.write_text(yamldata.dump(data))


class _Renderer:
    """Kustomize builds: the base ones from ``inv validate``'s renders, the rest in a copy."""

    def __init__(self, ws: Workspace, gitops_path: str) -> None:
        self.ws = ws
        self.gitops_path = gitops_path
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()
        self.notes: list[str] = []

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def copy_for(self, env: str) -> Path:
        with self._lock:  # the first build that misses the cache makes it, the others wait
            if self._tmp is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="parity-")
            dest = Path(self._tmp.name) / env
            if not dest.exists():
                shutil.copytree(
                    self.ws.root / self.gitops_path,
                    dest / self.gitops_path,
                    ignore=shutil.ignore_patterns(".*"),
                )
            return dest

    def cached(self, src_path: str, components: list[str]) -> Path | None:
        """Where the render of ``src_path`` with ``components`` is cached: keyed by kubectl and
        every file the build and its components read (their closures in ``inv validate``'s
        tree), so after an edit only the builds that read the file are rendered again."""
        import hashlib
        import posixpath

        from tasks.validate.toolcache import tool_identity

        cache_dir = self.ws.settings.cache_dir
        tree = self.ws.tree
        files: set[str] = set()
        for directory in [src_path, *(posixpath.join(src_path, c) for c in components)]:
            k = tree.kustomizations.get(posixpath.normpath(directory))
            if k is None or cache_dir is None:
                return None  # rendered without a cache (kubectl says what is wrong)
            files |= k.closure
        kubectl = tool_identity("kubectl")
        digest = hashlib.sha256(f"{_CACHE_VERSION}\0{kubectl}\0{src_path}\0{components}".encode())
        for rel in sorted(files):
            try:
                data = (self.ws.root / rel).read_bytes()
            except OSError:
                data = b"\0unreadable"
            digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
        return cache_dir / "parity-builds" / f"{digest.hexdigest()}.yaml"

    def base(self, src_path: str) -> list[Any] | None:
        tree = self.ws.tree
        if src_path in tree.unrendered:
            return None
        docs = tree.renders.get(src_path)
        if docs is None:
            return None
        return [d.data for d in docs if isinstance(d.data, dict)]

    def build(self, root: Path, src_path: str) -> str | None:
        """The rendered YAML of ``src_path`` in ``root`` (a copy with its components added);
        None when kubectl did not run (``--dry`` without kubectl)."""
        from tasks.core.runner import Command

        res = self.ws.runner.check(
            Command(
                ("kubectl", "kustomize", src_path),
                step=f"render {src_path} with its environment components",
                cwd=root,
                timeout=120,
                read_only=True,
            )
        )
        if not res.observed:
            return None
        if res.returncode != 0:
            last = (res.stderr.strip().splitlines() or [f"exit code {res.returncode}"])[-1]
            raise ParityError(f"{src_path}: kubectl kustomize failed: {last}")
        return res.stdout


def render_env(ws: Workspace, env: str, gitops_path: str, renderer: _Renderer) -> EnvTree:
    from tasks.deploytree import appset
    from tasks.gitops import ops

    root = ws.root
    clusters = ops.clusters(root, gitops_path, env)
    apps = appset.render_tree(root, root / ops.bootstrap_dir(gitops_path), clusters)
    out = EnvTree(env)
    builds: list[tuple[tuple[str, int], str, list[str]]] = []
    for app in apps:
        out.apps[app.name] = app
        out.normalized[app.name] = _normalize(app.raw, env)
        for index, (raw, src) in enumerate(zip(_sources(app), app.sources, strict=False)):
            if src.path is None:
                continue
            if src.kind == "helm":
                out.values[(app.name, index)] = _merged_values(root, src.path, raw)
            elif src.kind == "kustomize":
                builds.append(((app.name, index), src.path, _components(root, src.path, raw)))

    def build(item: tuple[tuple[str, int], str, list[str]]) -> tuple[tuple[str, int], Any]:
        key, path, components = item
        if not components:
            docs = renderer.base(path)
            if docs is None:
                # Not rendered offline (remote resources): identical in every environment.
                return key, None
            return key, docs
        if path in ws.tree.unrendered:
            renderer.notes.append(
                f"{path}: not compared for {env} (remote resources, not rendered offline)"
            )
            out.uncompared.add(key[0])
            return key, None
        from tasks.core import yamldata
        from tasks.validate.toolcache import write_atomic

        cached = renderer.cached(path, components)
        try:
            text = cached.read_text(encoding="utf-8") if cached is not None else None
        except OSError:
            text = None
        if text is None:
            # One copy per environment, made by the first build that needs it.
            copy = renderer.copy_for(env)
            _with_components(copy, path, components)
            text = renderer.build(copy, path)
            if text is None:
                return key, []
            if cached is not None:
                write_atomic(cached, text)  # an empty render too (a build that removes all)
        return key, [d for d in yamldata.fast_load_all(text) if isinstance(d, dict)]

    with ThreadPoolExecutor(max_workers=max(1, ws.settings.workers)) as pool:
        for key, docs in pool.map(build, builds):
            if docs is not None:
                out.objects[key] = {_object_id(d): d for d in docs}
    return out


# -- comparing ------------------------------------------------------------------------------


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    names = [i.get("name") for i in items if isinstance(i, dict)]
    distinct = len(set(names)) == len(names) == len(items)
    if distinct and all(isinstance(n, str) for n in names):
        return {str(i["name"]): i for i in items}
    return None


def _join(path: str, key: str, *, item: bool) -> str:
    if item:
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def diff_tree(a: Any, b: Any, first: str, second: str, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, what differs) for each place ``b`` differs from ``a``, outermost first."""
    if isinstance(a, dict) and isinstance(b, dict):
        pairs: dict[str, Any] = {str(k): v for k, v in a.items()}
        others: dict[str, Any] = {str(k): v for k, v in b.items()}
        items = False
    elif isinstance(a, list) and isinstance(b, list):
        ka, kb = _keyed(a), _keyed(b)
        if ka is not None and kb is not None:
            pairs, others = ka, kb
        else:
            pairs = {str(i): v for i, v in enumerate(a)}
            others = {str(i): v for i, v in enumerate(b)}
        items = True
    else:
        if a != b:
            yield path, f"{first}: {_short(a)}; {second}: {_short(b)}"
        return
    for key in list(pairs) + [k for k in others if k not in pairs]:
        sub = _join(path, key, item=items)
        if key not in others:
            yield sub, f"only in {first}"
        elif key not in pairs:
            yield sub, f"only in {second}: {_short(others[key])}"
        else:
            yield from diff_tree(pairs[key], others[key], first, second, sub)


def _values_path(x: EnvTree, y: EnvTree, key: tuple[str, int]) -> str:
    used = (y.values.get(key) or x.values.get(key) or ({}, []))[1]
    return used[-1] if used else y.apps[key[0]].file


def compare(x: EnvTree, y: EnvTree) -> list[pc.Difference]:
    """Every difference of ``y`` from ``x`` beyond the env switch."""
    first, second = x.env, y.env
    out: list[pc.Difference] = []

    def add(app: str, what: pc.What, obj: tuple[str, str, str] | None, *where: str) -> None:
        fld, detail, path = where
        kind, ns, name = obj or ("Application", "", app)
        label = f"{kind} {ns + '/' if ns else ''}{name}" if obj else ""
        out.append(pc.Difference(app, what, label, kind, name, fld, detail, path))

    for name in sorted(set(x.apps) | set(y.apps)):
        if name not in y.apps:
            add(name, "application", None, "", f"only in {first}", x.apps[name].file)
            continue
        if name not in x.apps:
            add(name, "application", None, "", f"only in {second}", y.apps[name].file)
            continue
        for fld, detail in diff_tree(x.normalized[name], y.normalized[name], first, second):
            add(name, "application", None, fld, detail, y.apps[name].file)
    for key in sorted(set(x.values) & set(y.values)):
        path = _values_path(x, y, key)
        for fld, detail in diff_tree(x.values[key][0], y.values[key][0], first, second):
            add(key[0], "values", None, fld, detail, path)
    for key in sorted(set(x.objects) & set(y.objects)):
        src = y.apps[key[0]].sources[key[1]].path or ""
        a, b = x.objects[key], y.objects[key]
        for oid in sorted(set(a) | set(b)):
            if oid not in b:
                add(key[0], "object", oid, "", f"only in {first}", src)
            elif oid not in a:
                add(key[0], "object", oid, "", f"only in {second}", src)
            else:
                for fld, detail in diff_tree(a[oid], b[oid], first, second):
                    add(key[0], "object", oid, fld, detail, src)
    return out


def _rules(contract: pc.Contract) -> Iterator[tuple[str, pc.Cover]]:
    """Each rule of a contract on its own (as a one-rule Cover) with how to name it."""
    for cover in contract.covers:
        for pattern in cover.values:
            yield f"app {cover.app} values {pattern}", pc.Cover(app=cover.app, values=(pattern,))
        for rule in cover.objects:
            yield (
                f"app {cover.app} {rule.kind}/{rule.name}"
                + (f" fields {', '.join(rule.fields)}" if rule.fields else ""),
                pc.Cover(app=cover.app, objects=(rule,)),
            )
        for pattern in cover.application:
            yield (
                f"app {cover.app} Application {pattern}",
                pc.Cover(app=cover.app, application=(pattern,)),
            )


def check_differences(
    contracts: pc.Contracts, diffs: list[pc.Difference], uncompared: set[str] | None = None
) -> Report:
    """Sort the differences into covered and not; a rule is stale when it covers none of them
    (unless it is about an Application that could not be compared)."""
    first, second = contracts.environments
    covered: list[tuple[pc.Difference, pc.Contract]] = []
    uncovered: list[pc.Difference] = []
    for d in diffs:
        contract = pc.covering(contracts, d)
        if contract is None:
            uncovered.append(d)
        else:
            covered.append((d, contract))
    stale = [
        (contract.id, label)
        for contract in contracts.contracts
        for label, rule in _rules(contract)
        if not any(pc.allows(rule, d) for d in diffs)
        and not any(pc.name_matches(rule.app, app) for app in uncompared or ())
    ]
    return Report(first, second, covered, uncovered, stale, [])


def gitops_path_of(ws: Workspace) -> str:
    return ws.spec.spec.gitops.path.strip("/") if ws.spec is not None else DEFAULT_GITOPS_PATH


def parity(ws: Workspace) -> Report:
    """Render both environments of ``deploy/aks/contracts.yaml`` and check their differences."""
    gitops_path = gitops_path_of(ws)
    contracts = pc.load(ws.root / gitops_path)
    first, second = contracts.environments
    renderer = _Renderer(ws, gitops_path)
    try:
        x = render_env(ws, first, gitops_path, renderer)
        y = render_env(ws, second, gitops_path, renderer)
    finally:
        renderer.close()
    report = check_differences(contracts, compare(x, y), x.uncompared | y.uncompared)
    report.notes += renderer.notes
    return report


def uncovered_message(d: pc.Difference, report: Report) -> str:
    return (
        f"{d.describe()}. {report.second} differs from {report.first} outside every backend "
        f"contract of deploy/{pc.CONTRACTS_FILE}. Make {report.second} render like "
        f"{report.first}, or declare the backend there (and in deploy/aks/README.md)."
    )


#: Bumped when what parity reports for the same inputs changes.
_CACHE_VERSION = "1"
#: Verdicts kept (other branches and checkouts sharing the cache); the oldest go first.
_KEEP = 32


def _prune(directory: Path, *, keep: int) -> None:
    try:
        entries = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        for old in entries[:-keep]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a cache that cannot be tidied only costs disk


def _inputs_key(ws: Workspace, gitops_path: str) -> str:
    """Everything parity reads: each file under the GitOps tree (path, size, mtime) and the
    kubectl that renders; a change to any gives a new key (the make rule: cheap, never stale)."""
    import hashlib
    import os

    from tasks.validate.toolcache import tool_identity

    digest = hashlib.sha256(f"{_CACHE_VERSION}\0{tool_identity('kubectl')}".encode())
    top = ws.root / gitops_path
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            try:
                stat = path.stat()
            except OSError:
                continue
            rel = path.relative_to(top).as_posix()
            digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _findings(ws: Workspace, gitops_path: str) -> tuple[list[list[Any]], list[str]]:
    """(path, line, check, message, object) of every finding, and the notes."""
    contracts_rel = f"{gitops_path}/{pc.CONTRACTS_FILE}"
    try:
        report = parity(ws)
    except UserError as exc:  # a broken contracts file or tree: one finding, the run goes on
        return [[contracts_rel, None, "parity/render", str(exc), ""]], []
    found: list[list[Any]] = [
        [d.path, None, "parity/uncovered", uncovered_message(d, report), d.obj]
        for d in report.uncovered
    ]
    found += [
        [
            contracts_rel,
            None,
            "parity/stale",
            f"contract {contract_id}: rule `{rule}` covers no difference between "
            f"{report.first} and {report.second} any more: remove it",
            "",
        ]
        for contract_id, rule in report.stale
    ]
    return found, list(report.notes)


def check_parity(ws: Workspace, result: Result) -> None:
    """Both environments rendered and compared; an unchanged tree reuses the last verdict
    (rendering both is most of a warm ``inv validate`` otherwise)."""
    import json

    from tasks.validate.toolcache import write_atomic

    gitops_path = gitops_path_of(ws)
    if not (ws.root / gitops_path / pc.CONTRACTS_FILE).is_file():
        return  # a tree without a second environment has nothing to compare
    cache_dir = ws.settings.cache_dir
    cached = cache_dir / "parity" / f"{_inputs_key(ws, gitops_path)}.json" if cache_dir else None
    verdict: Any = None
    if cached is not None:
        try:
            verdict = json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            verdict = None
    if not (isinstance(verdict, dict) and {"findings", "notes"} <= verdict.keys()):
        findings, notes = _findings(ws, gitops_path)
        verdict = {"findings": findings, "notes": notes}
        if cached is not None:
            write_atomic(cached, json.dumps(verdict))
            _prune(cached.parent, keep=_KEEP)
    for path, line, check, message, obj in verdict["findings"]:
        result.add(path, line, check, message, obj)
    result.notes += [n for n in verdict["notes"] if n not in result.notes]


register_family(
    "parity",
    check_parity,
    "the aks tree differs from local only by the backend contracts of deploy/aks/contracts.yaml",
)
