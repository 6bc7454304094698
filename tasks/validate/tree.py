"""Discovery of the deploy/ tree: every YAML file read once, Kustomize roots rendered for real.

Each file gets a role from its name and place (CONVENTIONS.md): ``component.yaml``, a wrapper
chart's ``Chart.yaml`` and values, ``secrets.yaml`` / ``secrets.template.yaml``, Talos patches,
the cluster spec, Kustomize sources, or plain manifests. Kustomize roots (directories with a
``component.yaml``, or not referenced by another kustomization) are rendered with
``kubectl kustomize`` through the runner, in parallel, and each rendered object is traced back to
the source document it came from so findings point at lines a person can edit. Renders are cached
by the content of every file they read, so a warm run only re-renders what changed.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.core.runner import Command, Runner
from tasks.validate.model import Doc, Finding
from tasks.validate.toolcache import tool_identity, write_atomic
from tasks.validate.yamlio import line_of, load_all

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
LAYERS = ("infrastructure", "platform", "observability", "services")
YAML_SUFFIXES = (".yaml", ".yml")
TALOS_PATCH_DIR = "deploy/local-cluster/patches"
LOCAL_CLUSTER_DIR = "deploy/local-cluster"
#: The AKS spec and the backend contracts (data the aks tasks and the parity family check).
AKS_DIR = "deploy/aks"
#: A kustomization entry that is fetched, not read from the repository.
REMOTE = re.compile(r"^(https?://|ssh://|git@|git::)|^github\.com/|\?ref=|\.git(//|$)")
#: A version tag (v1.6.1, 0.0.37, v2.0.0-rc.1) or a full commit: what a remote reference may pin.
VERSION_TAG = re.compile(r"^v?\d+(\.\d+)*([-+][0-9A-Za-z.-]+)?$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REF = re.compile(r"[?&]ref=([^&#]*)")
_RELEASE_DOWNLOAD = re.compile(r"/releases/download/([^/?#]+)/")
_HOW_TO_PIN = (
    "pin it: append ?ref=<version tag or 40-hex commit> to a Git URL, or use a release asset "
    "URL .../releases/download/<version>/<file>"
)
#: Bumped when the cached render format changes.
_CACHE_VERSION = "1"

#: Times a phase of the run (``Stats.timed``); the default times nothing.
Timer = Callable[[str], AbstractContextManager[None]]


def _untimed(_phase: str) -> AbstractContextManager[None]:
    return nullcontext()


@dataclass
class SourceFile:
    path: str
    role: str
    text: str
    docs: list[Doc] = field(default_factory=list)


@dataclass
class Kustomization:
    dir: str
    path: str
    data: dict[str, Any]
    doc: Doc
    #: Directories it pulls in (resources, components, bases) that are kustomizations themselves.
    refs: set[str] = field(default_factory=set)
    #: Every file a build reads (for the render cache and for source matching).
    closure: set[str] = field(default_factory=set)
    #: Local paths it names anywhere (resources, patches, generators...) that exist.
    paths: list[str] = field(default_factory=list)

    def remote(self) -> Iterator[tuple[int, str]]:
        """(line, reference) of every resource fetched over the network, and of helmCharts."""
        for key in ("resources", "components", "bases", "crds"):
            entries = self.data.get(key)
            for i, entry in enumerate(entries if isinstance(entries, list) else []):
                if isinstance(entry, str) and REMOTE.search(entry):
                    yield self.doc.line_of([key, i]), entry
        if self.data.get("helmCharts"):
            yield self.doc.line_of(["helmCharts"]), "helmCharts (needs helm and the network)"

    @property
    def is_component_kind(self) -> bool:
        return self.data.get("kind") == "Component"


@dataclass
class Tree:
    root: Path
    files: dict[str, SourceFile] = field(default_factory=dict)
    kustomizations: dict[str, Kustomization] = field(default_factory=dict)
    #: Kubernetes objects: rendered Kustomize output and plain manifests.
    objects: list[Doc] = field(default_factory=list)
    #: Rendered Kustomize roots: dir -> objects of that build.
    renders: dict[str, list[Doc]] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Kustomize roots not rendered (remote resources in their build) -> those references.
    unrendered: dict[str, list[str]] = field(default_factory=dict)
    spec_path: str = ""
    _by_dir: dict[str, list[SourceFile]] = field(default_factory=dict, repr=False)

    def by_role(self, *roles: str) -> Iterator[SourceFile]:
        for f in self.files.values():
            if f.role in roles:
                yield f

    def files_in(self, directory: str) -> list[SourceFile]:
        """The files directly inside ``directory`` (indexed on first use)."""
        if not self._by_dir:
            for f in self.files.values():
                self._by_dir.setdefault(posixpath.dirname(f.path), []).append(f)
        return self._by_dir.get(directory, [])

    def component_dirs(self) -> set[str]:
        return {posixpath.dirname(f.path) for f in self.by_role("component")}


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def iter_yaml_files(base: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(YAML_SUFFIXES) or name == "Kustomization":
                yield Path(dirpath) / name


def _ancestors(path: str) -> Iterator[str]:
    parent = posixpath.dirname(path)
    while parent:
        yield parent
        parent = posixpath.dirname(parent)


def _role(path: str, spec_path: str, kustomize_dirs: set[str], chart_dirs: set[str]) -> str:
    directory, name = posixpath.split(path)
    if path == spec_path:
        return "spec"
    if name == ".sops.yaml":
        return "sops-config"
    if name == "component.yaml":
        return "component"
    if name == "secrets.template.yaml":
        return "template"
    if name.startswith("secrets") and name.endswith(YAML_SUFFIXES):
        return "secrets"
    if path.startswith(TALOS_PATCH_DIR + "/"):
        return "talos"
    if path.startswith(LOCAL_CLUSTER_DIR + "/"):
        return "local-cluster"
    if directory == AKS_DIR:
        return "aks"
    if name in KUSTOMIZATION_NAMES:
        return "kustomization"
    if directory in chart_dirs:
        return "chart" if name == "Chart.yaml" else "values"
    if any(a in kustomize_dirs for a in [directory, *_ancestors(path)]):
        return "kustomize-source"
    return "manifest"


def read_tree(
    root: Path,
    runner: Runner,
    *,
    spec_path: str,
    cache_dir: Path | None,
    workers: int,
    timed: Timer = _untimed,
) -> Tree:
    tree = Tree(root=root, spec_path=spec_path)
    deploy = root / "deploy"
    if not deploy.is_dir():
        return tree
    with timed("read"):
        component_of, unparsed = _read_files(tree, root, spec_path)
        roots = _render_roots(tree, root)
    # kubectl renders in other processes while this one parses the other files (the bulk of
    # the reading): on two cores the two overlap instead of taking turns.
    _render_all(
        tree,
        runner=runner,
        roots=roots,
        cache_dir=cache_dir,
        workers=workers,
        component_of=component_of,
        timed=timed,
        meanwhile=lambda: _parse_all(tree, unparsed, component_of, timed),
    )
    for source in tree.files.values():
        if source.role == "manifest":
            tree.objects.extend(source.docs)
    tree.objects.extend(_local_resources(tree, sorted(tree.unrendered)))
    return tree


def _read_files(
    tree: Tree, root: Path, spec_path: str
) -> tuple[Callable[[str], str | None], list[SourceFile]]:
    """Read every YAML file under deploy/ and parse the kustomizations; the component a path
    belongs to, and the files still to parse (``_parse_all``)."""
    deploy = root / "deploy"
    texts: dict[str, str] = {}
    from tasks.core.paths import irregularity

    for file in iter_yaml_files(deploy):
        rel = _rel(root, file)
        why = irregularity(file)
        if why is not None:
            # A FIFO would block the read; a symlink may point out of the tree Argo CD sees.
            tree.problems.append(
                Finding(rel, None, "io/not-regular", f"{why}: only regular files are validated")
            )
            continue
        try:
            texts[rel] = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            tree.problems.append(Finding(rel, None, "io/unreadable", "not UTF-8 text"))
        except OSError as exc:
            tree.problems.append(
                Finding(rel, None, "io/unreadable", f"cannot read: {exc.strerror or exc}")
            )
    split = [posixpath.split(p) for p in texts]
    kustomize_dirs = {d for d, name in split if name in KUSTOMIZATION_NAMES}
    chart_dirs = {d for d, name in split if name == "Chart.yaml"}
    component_dirs = {d for d, name in split if name == "component.yaml"}

    def component_of(path: str) -> str | None:
        return next((a for a in _ancestors(path) if a in component_dirs), None)

    unparsed: list[SourceFile] = []
    for rel, text in texts.items():
        source = SourceFile(rel, _role(rel, spec_path, kustomize_dirs, chart_dirs), text)
        tree.files[rel] = source
        if source.role == "kustomization":
            _parse(tree, source, component_of)  # what the builds to render are made of
        else:
            unparsed.append(source)
    return component_of, unparsed


def _parse_all(
    tree: Tree, sources: list[SourceFile], component_of: Callable[[str], str | None], timed: Timer
) -> None:
    with timed("read"):
        for source in sources:
            _parse(tree, source, component_of)


def _parse(tree: Tree, source: SourceFile, component_of: Callable[[str], str | None]) -> None:
    rel = source.path
    loaded = load_all(source.text)
    for line, col, message in loaded.errors:
        where = f" (column {col})" if col else ""
        tree.problems.append(Finding(rel, line, "yaml/syntax", message + where))
    for line, key in loaded.duplicates:
        tree.problems.append(Finding(rel, line, "yaml/duplicate-key", f"key {key!r} appears twice"))
    component = component_of(rel)
    source.docs = [
        Doc(rel, line, data, node, component=component) for data, node, line in loaded.docs
    ]


def _render_roots(tree: Tree, root: Path) -> list[str]:
    """Index the kustomizations; the builds to render offline (others are noted)."""
    component_dirs = tree.component_dirs()
    for rel, source in tree.files.items():
        if source.role == "kustomization" and source.docs and source.docs[0].is_object:
            directory = posixpath.dirname(rel)
            k = Kustomization(directory, rel, source.docs[0].data, source.docs[0])
            tree.kustomizations[directory] = k
    for k in tree.kustomizations.values():
        k.paths = list(_referenced_paths(root, k))
        k.refs = {d for d in k.paths if d in tree.kustomizations and d != k.dir}
    # Shared bases and components are named by many builds: each is walked once.
    listed: dict[str, list[str]] = {}
    closures: dict[str, set[str]] = {}

    def files_under(rel: str) -> list[str]:
        if rel not in listed:
            listed[rel] = list(_files_under(root, rel))
        return listed[rel]

    for k in tree.kustomizations.values():
        k.closure = closures[k.dir] = _closure(
            root, tree, k.dir, set(), files_under=files_under, done=closures
        )
    referenced = {d for k in tree.kustomizations.values() for d in k.refs}
    roots = sorted(
        d
        for d, k in tree.kustomizations.items()
        if not k.is_component_kind and (d in component_dirs or d not in referenced)
    )
    offline = []
    for directory in roots:
        remote = _remote_in_closure(tree, directory, set())
        for path, line, entry in remote:
            if entry.startswith("helmCharts"):
                message = (
                    f"{entry}: inflate the chart in a wrapper Chart.yaml instead "
                    "(deploy/CONVENTIONS.md)"
                )
            elif pin_of(entry) is None:
                message = unpinned_message(entry)
            else:
                continue
            finding = Finding(path, line, "manifests/remote-resource", message)
            if finding not in tree.problems:
                tree.problems.append(finding)
        if remote:
            tree.unrendered[directory] = [entry for _, _, entry in remote]
        else:
            offline.append(directory)
    if tree.unrendered:
        tree.notes.append(
            "not rendered offline (pinned remote resources, validated by Argo CD at sync; "
            "their local files and patches are checked here): " + ", ".join(sorted(tree.unrendered))
        )
    return offline


def _local_resources(tree: Tree, roots: list[str]) -> Iterator[Doc]:
    """Documents of the local resource files of builds that cannot be rendered offline, so they
    are still validated (as written: the build's transformers are not applied)."""
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        directory = pending.pop()
        k = tree.kustomizations.get(directory)
        if k is None or directory in seen:
            continue
        seen.add(directory)
        entries = k.data.get("resources")
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, str) or REMOTE.search(entry):
                continue
            rel = posixpath.normpath(posixpath.join(directory, entry))
            if rel in tree.kustomizations:
                pending.append(rel)
            elif rel in tree.files and rel not in seen:
                seen.add(rel)
                yield from tree.files[rel].docs


def pin_of(entry: str) -> str | None:
    """The version tag or commit a remote reference is pinned to, or None when it floats.

    Pinned: a Git URL with ``?ref=``/``ref=`` naming a version tag or a full commit, or a release
    asset URL ``.../releases/download/<version>/...``. A branch (main, master, HEAD...), an
    abbreviated commit or no ref at all floats.
    """
    match = _REF.search(entry)
    if match is not None:
        ref = match.group(1)
        return ref if VERSION_TAG.match(ref) or COMMIT.match(ref) else None
    match = _RELEASE_DOWNLOAD.search(entry)
    if match is not None and VERSION_TAG.match(match.group(1)):
        return match.group(1)
    return None


def unpinned_message(entry: str) -> str:
    match = _REF.search(entry)
    if match is not None:
        why = f"ref {match.group(1)!r} is a branch or an abbreviated commit, which moves"
    else:
        why = "it names no version, so every sync may fetch something different"
    return f"{entry} is fetched from the network unpinned ({why}): {_HOW_TO_PIN}"


def _remote_in_closure(tree: Tree, directory: str, seen: set[str]) -> list[tuple[str, int, str]]:
    """Remote references of a kustomization and of the kustomizations it pulls in."""
    if directory in seen:
        return []
    seen.add(directory)
    k = tree.kustomizations[directory]
    found = [(k.path, line, entry) for line, entry in k.remote()]
    for ref in sorted(k.refs):
        found += _remote_in_closure(tree, ref, seen)
    return found


def _referenced_paths(root: Path, k: Kustomization) -> Iterator[str]:
    """Local paths named anywhere in a kustomization (resources, patches, generators...)."""
    top = str(root)
    base = f"{top}/{k.dir}"
    for value in strings(k.data):
        if "://" in value or value.startswith("git@") or "\n" in value or len(value) > 512:
            continue
        local = value.split("?")[0]
        candidate = os.path.normpath(local if local.startswith("/") else f"{base}/{local}")
        if _exists(candidate):
            inside = candidate.startswith(top + os.sep)
            yield candidate[len(top) + 1 :] if inside else Path(candidate).as_posix()


def referenced_files(tree: Tree) -> set[str]:
    """Every file some kustomization names (directly, or as a directory without its own)."""
    out: set[str] = set()
    for k in tree.kustomizations.values():
        for ref in k.paths:
            if ref in tree.kustomizations:
                continue
            out.update(_files_under(tree.root, ref))
    return out


def strings(node: Any) -> Iterator[str]:
    """Every string anywhere in a YAML value."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def _exists(path: str) -> bool:
    # os.path on strings: building Path objects costs more than the stat itself on a large tree.
    return os.path.exists(path)  # noqa: PTH110


def _files_under(root: Path, rel: str) -> Iterator[str]:
    path = rel if rel.startswith("/") else f"{root}/{rel}"
    if os.path.isfile(path):  # noqa: PTH113 -- as in _exists
        yield rel
        return
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        # os.walk joins onto ``path``: the relative directory is ``rel`` plus what follows.
        below = rel + dirpath[len(path) :]
        for name in filenames:
            yield f"{below}/{name}"


def _closure(
    root: Path,
    tree: Tree,
    directory: str,
    seen: set[str],
    *,
    files_under: Callable[[str], list[str]],
    done: dict[str, set[str]],
) -> set[str]:
    """Every file a build of ``directory`` may read (component.yaml only when it is named).

    ``done`` holds closures already computed whole: a superset of what recursing would add.
    """
    if directory in seen:
        return set()
    seen.add(directory)
    files = {f for f in files_under(directory) if posixpath.basename(f) != "component.yaml"}
    k = tree.kustomizations.get(directory)
    if k is not None:
        for ref in k.paths:
            if ref in done:
                files |= done[ref]
            elif ref in tree.kustomizations:
                files |= _closure(root, tree, ref, seen, files_under=files_under, done=done)
            elif not ref.startswith(directory + "/") or root.joinpath(ref).is_file():
                files |= set(files_under(ref))
    return files


def _cache_key(root: Path, k: Kustomization, kubectl: str) -> str:
    """Hash of kubectl and of every file the build reads, by path relative to the build.

    A build's output depends only on those, so two identical component trees share a render.
    """
    digest = hashlib.sha256(f"{_CACHE_VERSION}\0{kubectl}\0".encode())
    for rel in sorted(k.closure):
        try:
            data = (root / rel).read_bytes()
        except OSError:
            data = b"\0unreadable"
        name = os.path.relpath(rel, k.dir)
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _kubectl_identity() -> str:
    """Path, size and mtime of kubectl: a new binary invalidates cached renders."""
    return tool_identity("kubectl") or "missing"


def _render_all(
    tree: Tree,
    *,
    runner: Runner,
    roots: list[str],
    cache_dir: Path | None,
    workers: int,
    component_of: Any,
    timed: Timer = _untimed,
    meanwhile: Callable[[], None] = lambda: None,
) -> None:
    """Render the builds (cache hits first), running ``meanwhile`` while kubectl works, then
    load each build's output in ``roots`` order as soon as its batch is done.

    Phases: ``render`` is the time spent on the cache and waiting for kubectl, ``load`` parsing
    its output; the time kubectl runs beside ``meanwhile`` is in neither.
    """
    identity = _kubectl_identity()
    render_cache = cache_dir / "kustomize" if cache_dir is not None else None
    cached: dict[str, Path] = {}
    outputs: dict[str, Rendered] = {}

    def lookup(directory: str) -> Rendered | None:
        if render_cache is None:
            return None
        path = (
            render_cache / f"{_cache_key(tree.root, tree.kustomizations[directory], identity)}.yaml"
        )
        cached[directory] = path
        try:
            return directory, path.read_text(encoding="utf-8"), None
        except OSError:
            return None

    def render(batch: list[str]) -> list[Rendered]:
        rendered = _render_batch(tree.root, runner, batch)
        for directory, output, error in rendered:
            if output and error is None and directory in cached:
                write_atomic(cached[directory], output)
        return rendered

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: dict[str, Future[list[Rendered]]] = {}
        with timed("render"):
            for hit in pool.map(lookup, roots):
                if hit is not None:
                    outputs[hit[0]] = hit
            missing = [d for d in roots if d not in outputs]
            for batch in _batches(missing, workers):
                future = pool.submit(render, batch)
                pending.update((d, future) for d in batch)
        meanwhile()
        for directory in roots:
            if directory not in outputs:
                with timed("render"):
                    part = pending[directory].result()
                outputs.update((r[0], r) for r in part)
            with timed("load"):
                _load_renders(tree, [outputs[directory]], component_of)


#: (directory, rendered YAML or None, error or None) of one build.
Rendered = tuple[str, str | None, str | None]
#: Builds one ``kubectl kustomize`` renders at most: kubectl starts in ~0.1 s, about as long as
#: a build takes, so builds are rendered together, in as many batches as there are workers.
BATCH = 32
#: kustomize allocates about 10 MB per build that is garbage by the next one: Go's collector at
#: its default (GOGC=100) takes a quarter of the render CPU; at 400 the heap stays near 100 MB per
#: kubectl and the CPU drops by that quarter (the output is the same; a GOGC set by the user wins).
_KUBECTL_ENV = {"GOGC": os.environ.get("GOGC") or "400"}
_MARKER = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: propertea-validate-batch-{}\n"


def _batches(directories: list[str], workers: int) -> list[list[str]]:
    """Contiguous batches, at least one per worker, of at most ``BATCH`` builds."""
    if not directories:
        return []
    count = max(min(len(directories), max(1, workers)), -(-len(directories) // BATCH))
    size = -(-len(directories) // count)
    return [directories[i : i + size] for i in range(0, len(directories), size)]


def _render_one(root: Path, runner: Runner, directory: str) -> Rendered:
    res = runner.check(
        Command(
            ("kubectl", "kustomize", directory),
            step=f"render {directory}",
            env=_KUBECTL_ENV,
            cwd=root,
            timeout=120,
            read_only=True,
        )
    )
    if not res.observed:
        return directory, "", None
    if res.returncode != 0:
        return directory, None, res.stderr.strip() or f"exit code {res.returncode}"
    return directory, res.stdout, None


def _render_batch(root: Path, runner: Runner, batch: list[str]) -> list[Rendered]:
    """Render several builds with one kubectl: a temporary kustomization lists them in order,
    each followed by a marker object, and keeps that order (``sortOptions: fifo``); the output
    is cut at the markers. When the batch fails (a broken build, or two builds defining the
    same object) it is split in two and each half rendered again, down to single builds, so
    errors name the build they belong to and one broken build costs a few renders, not all."""
    if len(batch) == 1:
        return [_render_one(root, runner, batch[0])]
    with tempfile.TemporaryDirectory(prefix="validate-render-") as tmp:
        base = Path(tmp).resolve()
        lines = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization"]
        lines += ["sortOptions:", "  order: fifo", "resources:"]
        for i, directory in enumerate(batch):
            (base / f"marker-{i}.yaml").write_text(_MARKER.format(i), encoding="utf-8")
            lines += [f"  - {os.path.relpath(root / directory, base)}", f"  - marker-{i}.yaml"]
        (base / "kustomization.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        res = runner.check(
            Command(
                ("kubectl", "kustomize", str(base)),
                step=f"render {', '.join(batch)}",
                env=_KUBECTL_ENV,
                cwd=root,
                timeout=120 + 10 * len(batch),
                read_only=True,
            )
        )
    if not res.observed:
        return [(d, "", None) for d in batch]
    parts = _split_batch(res.stdout, len(batch)) if res.returncode == 0 else None
    if parts is None:
        half = len(batch) // 2
        return _render_batch(root, runner, batch[:half]) + _render_batch(root, runner, batch[half:])
    return [(d, part, None) for d, part in zip(batch, parts, strict=True)]


def _split_batch(output: str, count: int) -> list[str] | None:
    """The output of each build of a batch, or None when the markers are not where expected."""
    parts: list[str] = []
    current: list[str] = []
    for doc in output.split("\n---\n"):
        text = doc if doc.endswith("\n") else doc + "\n"
        if text == _MARKER.format(len(parts)):
            parts.append("---\n".join(current))
            current = []
        else:
            current.append(text)
    if len(parts) != count or current:
        return None
    return parts


def _load_renders(
    tree: Tree, outputs: list[tuple[str, str | None, str | None]], component_of: Any
) -> None:
    for directory, output, error in outputs:
        k = tree.kustomizations[directory]
        if error is not None:
            # Drop klog's "E1126 07:06:53.387449   20822 run.go:72] " prefix (time, pid).
            cleaned = re.sub(r"(?m)^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] ", "", error)
            last = "\n".join(cleaned.splitlines()[-6:])
            tree.problems.append(
                Finding(k.path, 1, "manifests/kustomize", f"kubectl kustomize failed: {last}")
            )
            continue
        loaded = load_all(output or "")
        for _, _, message in loaded.errors:
            tree.problems.append(
                Finding(k.path, 1, "manifests/kustomize", f"rendered output unreadable: {message}")
            )
        index = _source_index(tree, k)
        docs: list[Doc] = []
        for data, _, _ in loaded.docs:
            doc = _trace(k, index, data)
            doc.component = component_of(k.path)
            docs.append(doc)
        tree.renders[directory] = docs
        tree.objects.extend(docs)


def _source_index(tree: Tree, k: Kustomization) -> dict[str, list[Doc]]:
    index: dict[str, list[Doc]] = {}
    for rel in k.closure:
        source = tree.files.get(rel)
        if source is None or source.role in ("kustomization", "component"):
            continue
        for doc in source.docs:
            if doc.kind and doc.name:
                index.setdefault(doc.kind, []).append(doc)
    return index


def _trace(k: Kustomization, index: dict[str, list[Doc]], data: Any) -> Doc:
    """The rendered object, located at the source document it most likely came from."""
    rendered = Doc(k.path, 1, data, None, origin="kustomize")
    name = rendered.name
    candidates = index.get(rendered.kind, [])
    best: Doc | None = None
    for doc in candidates:
        if doc.name == name:
            best = doc
            break
        # namePrefix / nameSuffix: the source name is inside the rendered one.
        if doc.name in name and (best is None or len(doc.name) > len(best.name)):
            best = doc
    if best is not None and (best.name == name or best.name in name):
        return Doc(best.path, best.line, data, best.node, origin="kustomize")
    generator = {"Secret": "secretGenerator", "ConfigMap": "configMapGenerator"}.get(rendered.kind)
    line = line_of(k.doc.node, [generator]) if generator else None
    return Doc(k.path, line or 1, data, None, origin="kustomize")


def documents_count(tree: Tree) -> int:
    return sum(len(f.docs) for f in tree.files.values())


def all_docs(tree: Tree, roles: Iterable[str] | None = None) -> Iterator[Doc]:
    wanted = set(roles) if roles is not None else None
    for f in tree.files.values():
        if wanted is None or f.role in wanted:
            yield from f.docs
