"""Validation engine: one shared view of the repository, check families, one report.

The :class:`Workspace` reads each input once (cluster spec, deploy/ tree with Kustomize renders,
schemas) and lazily, so ``--only cluster`` never renders anything. Families that mostly wait on an
external CLI (yamllint, hadolint, check-jsonschema) run in threads while the in-process families
check documents, so the slow parts overlap.
"""

from __future__ import annotations

import fnmatch
import json as jsonlib
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core.errors import UserError
from tasks.core.runner import Runner
from tasks.validate.model import SKIP_ANNOTATION, Doc, Result
from tasks.validate.settings import Settings

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.config import LoadedSpec, Problem
    from tasks.validate.resultcache import SchemaResults
    from tasks.validate.schemas import SchemaStore
    from tasks.validate.tree import Tree

#: Used when the cluster spec cannot be read (its own family reports why).
FALLBACK_KUBERNETES = "1.36.0"


@dataclass
class Selection:
    """What the paths given on the command line affect; empty means everything."""

    root: Path
    paths: list[str] = field(default_factory=list)

    @property
    def everything(self) -> bool:
        return not self.paths

    def files(self, candidates: Iterable[str]) -> list[str]:
        """The candidates a tool should look at: all of them, or the selected ones."""
        items = list(candidates)
        if self.everything:
            return items
        return [p for p in items if any(p == s or p.startswith(s + "/") for s in self.paths)]

    def scope(self, tree: Tree | None, spec_path: str) -> list[str] | None:
        """Paths whose findings are reported (None: all).

        A file under deploy/ affects its component (or Kustomize build) as a whole; the cluster
        spec affects everything that is cross-checked against it.
        """
        if self.everything or spec_path in self.paths:
            return None
        scope = set(self.paths)
        if tree is not None:
            components = tree.component_dirs()
            for path in self.paths:
                for parent in Path(path).parents:
                    if parent.as_posix() in components:
                        scope.add(parent.as_posix())
                        break
                for k in tree.kustomizations.values():
                    if path in k.closure or any(f.startswith(path + "/") for f in k.closure):
                        scope.add(k.dir)
        return sorted(scope)


class Stats:
    """Wall time per phase of a run (seconds), for benchmarks and profiling; never printed.

    Phases: ``read`` (walk and parse deploy/), ``render`` (kubectl kustomize or its cache),
    ``load`` (parse and trace rendered output) and ``family:<name>`` (a family's own work, plus
    whatever shared input it was the first to need).
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self.seconds[phase] = self.seconds.get(phase, 0.0) + elapsed


class Workspace:
    """Everything the families share, each part computed on first use."""

    def __init__(
        self,
        c: Context | None,
        *,
        root: Path | None = None,
        settings: Settings | None = None,
        runner: Runner | None = None,
        paths: list[str] | None = None,
    ) -> None:
        from tasks.validate import settings as settings_mod

        self.c = c
        self.root = (root or Path.cwd()).resolve()
        self.settings = settings or settings_mod.load(c)
        self.runner = runner or (Runner.from_context(c) if c is not None else Runner())
        self.selection = Selection(self.root, paths or [])
        self.stats = Stats()

    # -- inputs ------------------------------------------------------------------------------

    @cached_property
    def spec_path(self) -> Path:
        from tasks.core.config import spec_path

        path = spec_path(self.c)
        return path if path.is_absolute() else self.root / path

    @property
    def spec_rel(self) -> str:
        return self.rel(self.spec_path)

    @cached_property
    def spec_check(self) -> tuple[LoadedSpec | None, list[Problem]] | UserError:
        """The spec and its problems, or why it could not be read (parsed once per run)."""
        from tasks.core.config import problems_in

        try:
            return problems_in(self.spec_path)
        except UserError as exc:
            return exc

    @property
    def spec(self) -> LoadedSpec | None:
        """The cluster spec when it is valid (the cluster family reports why it is not)."""
        checked = self.spec_check
        if isinstance(checked, UserError):
            return None
        loaded, problems = checked
        return loaded if loaded is not None and not problems else None

    @cached_property
    def kubernetes_version(self) -> str:
        return self.spec.spec.versions.kubernetes if self.spec else FALLBACK_KUBERNETES

    @cached_property
    def tree(self) -> Tree:
        from tasks.validate.tree import read_tree

        return read_tree(
            self.root,
            self.runner,
            spec_path=self.spec_rel,
            cache_dir=self.settings.cache_dir,
            workers=self.settings.workers,
            timed=self.stats.timed,
        )

    @cached_property
    def schemas(self) -> SchemaStore:
        from tasks.validate.schemas import SchemaStore

        crd_dir = self.settings.crd_dir
        if self.settings.schema_dir is not None and not crd_dir.is_dir():
            raise UserError(
                f"validate.schema_dir: {crd_dir} is not a directory. Point it (or "
                "INVOKE_VALIDATE_SCHEMA_DIR) at CRD schemas laid out "
                "{group}/{kind}_{version}.json, or unset it and run "
                "`inv validate --refresh-schemas` to download the pinned ones.",
                code=2,
            )
        return SchemaStore(
            self.kubernetes_version,
            crd_dir if crd_dir.is_dir() else None,
            self.settings.allow_unknown_kinds,
        )

    @cached_property
    def schema_results(self) -> SchemaResults:
        from tasks.validate.resultcache import SchemaResults

        return SchemaResults(self.settings.cache_dir)

    def rel(self, path: Path | str) -> str:
        p = Path(path)
        if not p.is_absolute():
            return p.as_posix()
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return p.as_posix()

    # -- allow-lists -------------------------------------------------------------------------

    def skipped(self, check: str, doc: Doc | None = None, path: str | None = None) -> bool:
        """True when ``check`` is allow-listed for this object (annotation) or path (config)."""
        if doc is not None:
            listed = doc.annotations.get(SKIP_ANNOTATION)
            if isinstance(listed, str) and check in {s.strip() for s in listed.split(",")}:
                return True
        target = path or (doc.path if doc else "")
        ident = ""
        if doc is not None and doc.kind:
            ident = f"{doc.kind}/{doc.namespace or ''}/{doc.name}"
        for rule in self.settings.skip:
            if rule.check != check:
                continue
            if ident and (rule.match == ident or fnmatch.fnmatchcase(ident, rule.match)):
                return True
            if target and fnmatch.fnmatchcase(target, rule.match):
                return True
        return False


# -- running -------------------------------------------------------------------------------


def available() -> list[str]:
    from tasks.validate.registry import families

    return list(families())


@contextmanager
def tools_of_this_environment() -> Iterator[None]:
    """Also look for CLIs next to this Python (kubectl, yamllint, hadolint, check-jsonschema are
    dev dependencies), so ``.venv/bin/inv validate`` works without activating the venv."""
    here = str(Path(sys.executable).parent)
    current = os.environ.get("PATH", "")
    if here in current.split(os.pathsep):
        yield
        return
    os.environ["PATH"] = f"{current}{os.pathsep}{here}" if current else here
    try:
        yield
    finally:
        os.environ["PATH"] = current


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector rarely (as mypy does): a run allocates hundreds of
    thousands of YAML nodes and values that live to its end, and the default thresholds walk
    them again and again (a third of a large tree's reading time)."""
    import gc

    saved = gc.get_threshold()
    gc.set_threshold(200_000, saved[1], saved[2])
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def run(ws: Workspace, names: list[str]) -> Result:
    """Run the named families; external ones in threads while in-process ones run here."""
    with tools_of_this_environment(), fewer_collections():
        return _run(ws, names)


def _run(ws: Workspace, names: list[str]) -> Result:
    from tasks.validate.registry import families

    registry = families()
    result = Result()
    external = [registry[n] for n in names if registry[n].external]
    internal = [registry[n] for n in names if not registry[n].external]
    futures: list[Future[Result]] = []

    def call(fam: Any) -> Result:
        part = Result()
        with ws.stats.timed(f"family:{fam.name}"):
            fam.fn(ws, part)
        return part

    with ThreadPoolExecutor(max_workers=max(1, len(external))) as pool:
        futures = [pool.submit(call, fam) for fam in external]
        for fam in internal:
            result.merge(call(fam))
        for future in futures:
            result.merge(future.result())
    if "schema_results" in ws.__dict__:
        ws.schema_results.save()
    if "tree" in ws.__dict__:
        tree = ws.tree
        result.files |= set(tree.files)
        result.documents += sum(len(f.docs) for f in tree.files.values())
        result.documents += sum(len(docs) for docs in tree.renders.values())
        result.problems += tree.problems
        result.notes += [n for n in tree.notes if n not in result.notes]
    if "schemas" in ws.__dict__ and "core" in ws.schemas.__dict__ and ws.schemas.core.note:
        result.notes.append(ws.schemas.core.note)
    scope = ws.selection.scope(ws.__dict__.get("tree"), ws.spec_rel)
    unique = {(p.path, p.line, p.check, p.message, p.obj): p for p in result.problems}
    problems = list(unique.values())
    if scope is not None:
        problems = [
            p for p in problems if any(p.path == s or p.path.startswith(s + "/") for s in scope)
        ]
    result.problems = sorted(problems, key=lambda p: (p.path, p.line or 0, p.check, p.message))
    return result


def report(result: Result, *, as_json: bool) -> None:
    sys.stdout.write(format_report(result, as_json=as_json))


def format_report(result: Result, *, as_json: bool) -> str:
    """The report as printed: findings grouped by file, notes, totals (or one JSON document)."""
    if as_json:
        document = {
            "files": len(result.files),
            "documents": result.documents,
            "problems": [p.as_dict() for p in result.problems],
            "notes": result.notes,
        }
        return jsonlib.dumps(document, indent=2) + "\n"
    lines: list[str] = []
    current = None
    for p in result.problems:
        if p.path != current:
            if current is not None:
                lines.append("")
            current = p.path
        lines.append(str(p))
    if result.problems:
        lines.append("")
    lines += [f"note: {note}" for note in result.notes]
    lines.append(
        f"{len(result.files)} files, {result.documents} documents, {len(result.problems)} problems"
    )
    return "\n".join(lines) + "\n"
