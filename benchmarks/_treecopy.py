"""Synthetic large deploy/ trees for the validate benchmark: copies whose content differs.

Copy ``n`` of a component directory is a new component (``<dir>-x<n>``) whose every manifest,
kustomization, values and component file is rewritten: the names it defines (component name and
namespace, ``metadata.name`` / ``metadata.namespace`` of its documents, a kustomization's
``namespace`` / ``namePrefix``) get the suffix ``-x<n>`` wherever they appear as a whole name
(labels, selectors, references, inline patches), and hostnames get it on their first label. So
every copy renders to different objects: the render cache, the schema checks and the policies do
real work, as they would on a tree that large. Secrets files are copied as they are (their sops
MAC covers the content), and names the copy only refers to (another component's Service, the
shared Gateway) keep pointing at the original.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

LAYERS = ("infrastructure", "platform", "observability", "services")
#: Keys whose string values (or list items) are DNS names a copy must not share.
HOST_KEYS = frozenset({"hostnames", "hosts", "host", "hostname", "dnsNames", "commonName"})
#: Never renamed: Kubernetes' own namespaces.
KEEP = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def _secret_file(name: str) -> bool:
    return name.startswith("secrets") and name != "secrets.template.yaml"


def _yaml_files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml") and not _secret_file(path.name):
            yield path


def names_defined(directory: Path) -> tuple[set[str], set[str]]:
    """Names a component defines (what a copy renames), and the Services its routes use that
    another component creates (a chart's): a copy keeps referring to those."""
    found: set[str] = set()
    services: set[str] = set()
    backends: set[str] = set()
    for path in _yaml_files(directory):
        try:
            docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_LOADER))
        except yaml.YAMLError:
            continue
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            if path.name == "component.yaml":
                found.update(v for k in ("name", "namespace") if isinstance(v := doc.get(k), str))
            meta = doc.get("metadata")
            if isinstance(meta, dict):
                found.update(v for k in ("name", "namespace") if isinstance(v := meta.get(k), str))
                if doc.get("kind") == "Service" and isinstance(meta.get("name"), str):
                    services.add(meta["name"])
            backends.update(_backend_names(doc))
            if doc.get("kind") in ("Kustomization", "Component"):
                if isinstance(ns := doc.get("namespace"), str):
                    found.add(ns)
                if isinstance(prefix := doc.get("namePrefix"), str) and prefix.strip("-"):
                    found.add(prefix.strip("-"))
    names = {n for n in found if n and n not in KEEP and "{" not in n}
    return names, backends - services


def _backend_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "backendRefs" and isinstance(value, list):
                yield from (r["name"] for r in value if isinstance(r, dict) and "name" in r)
            else:
                yield from _backend_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _backend_names(value)


def renamer(names: set[str], suffix: str) -> Any:
    """A function renaming every whole occurrence of ``names`` in a string.

    A name is whole when no name character precedes it and none follows (a trailing ``-``, as
    in a ``namePrefix``, is allowed): ``user`` renames ``user`` and ``user-`` but neither
    ``user-client-cert``, ``ghcr.io/x/user`` nor the API group ``cert-manager.io``.
    """
    if not names:
        return lambda s: s
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w./-])({alternatives})(?![\w.]|-\w)")
    return lambda s: pattern.sub(rf"\1{suffix}", s)


def _host(value: str, suffix: str) -> str:
    if not _HOST.match(value):
        return value
    first, rest = value.split(".", 1)
    return f"{first}{suffix}.{rest}"


def rewrite(node: Any, rename: Any, suffix: str, external: set[str], key: str | None = None) -> Any:
    """The YAML value with names renamed in every string value (mapping keys stay)."""
    if isinstance(node, dict):
        if key == "backendRefs" and node.get("name") in external:
            return node
        return {
            k: v if k == "dependencies" else rewrite(v, rename, suffix, external, k)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [rewrite(v, rename, suffix, external, key) for v in node]
    if isinstance(node, str):
        value = rename(node)
        return _host(value, suffix) if key in HOST_KEYS else value
    return node


def copy_component(original: Path, copy: Path, n: int) -> None:
    """Copy a component directory to ``copy`` with distinct content (copy number ``n``)."""
    suffix = f"-x{n}"
    shutil.copytree(original, copy)
    names, external = names_defined(original)
    rename = renamer(names, suffix)
    for path in _yaml_files(copy):
        text = path.read_text(encoding="utf-8")
        try:
            docs = list(yaml.load_all(text, Loader=_LOADER))
        except yaml.YAMLError:
            continue  # left as it is: validate reports it in the copy as in the original
        out = [rewrite(d, rename, suffix, external) for d in docs]
        path.write_text(
            yaml.dump_all(out, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=1000),
            encoding="utf-8",
        )


def build_tree(source: Path, dest: Path, copies: int, *, identical: bool = False) -> None:
    """``dest/deploy``: ``source/deploy`` plus ``copies - 1`` copies of every component.

    ``identical`` copies only rename the directory and ``component.yaml``'s name (content-keyed
    render caches then share one render per original: a cache benchmark, not a scale one).
    """
    shutil.copytree(source / "deploy", dest / "deploy")
    for layer in LAYERS:
        base = dest / "deploy" / layer
        if not base.is_dir():
            continue
        originals = [d for d in sorted(base.iterdir()) if (d / "component.yaml").exists()]
        for n in range(1, copies):
            for original in originals:
                copy = base / f"{original.name}-x{n}"
                if not identical:
                    copy_component(original, copy, n)
                    continue
                shutil.copytree(original, copy)
                component = copy / "component.yaml"
                component.write_text(
                    re.sub(r"(?m)^name: (\S+)", rf"name: \1-x{n}", component.read_text())
                )
