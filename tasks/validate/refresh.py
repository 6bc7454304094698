"""The pinned schema files the tree needs, into the cache: all of them again with
``inv validate --refresh-schemas``, and on every run just the ones missing from where validation
will read them (fetched once; later runs are offline)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core.errors import UserError
from tasks.validate.download import Download, crd_download, fetch, fetch_all

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace


def planned_downloads(ws: Workspace) -> list[Download]:
    """Every schema the tree uses: CRDs of its custom resources, Talos, wrapped charts' values."""
    from tasks.validate.schemas import SchemaStore

    settings = ws.settings
    cache = settings.cache_dir / "schemas"
    store = SchemaStore(ws.kubernetes_version, None, {})
    out: list[Download] = []
    seen: set[tuple[str, str]] = set()
    for doc in ws.tree.objects:
        if not doc.is_object or not doc.group or not doc.kind:
            continue
        key = (doc.api_version, doc.kind)
        if key in seen or store.core_file(doc.api_version, doc.kind).exists():
            continue
        seen.add(key)
        out.append(
            crd_download(
                settings.crd_catalog_url,
                settings.crd_catalog_commit,
                cache / settings.crd_catalog_commit,
                doc.api_version,
                doc.kind,
            )
        )
    if ws.spec is not None and any(True for _ in ws.tree.by_role("talos")):
        version = ws.spec.spec.versions.talos
        out.append(
            Download(
                settings.talos_schema_url.format(version=version),
                cache / "talos" / f"v{version}.config.schema.json",
            )
        )
    for chart in ws.tree.by_role("chart"):
        deps = (
            chart.docs[0].data.get("dependencies")
            if chart.docs and chart.docs[0].is_object
            else None
        )
        for dep in deps if isinstance(deps, list) else []:
            if not isinstance(dep, dict):
                continue
            name, version = str(dep.get("name")), str(dep.get("version") or "").lstrip("v")
            if name in settings.values_schema_urls and version:
                out.append(
                    Download(
                        settings.values_schema_urls[name].format(version=version),
                        cache / name / f"values.schema.{version}.json",
                    )
                )
    return out


def refresh(ws: Workspace) -> list[str]:
    """Download and say what was stored where; raises UserError naming a failed URL."""
    downloads = planned_downloads(ws)
    listing = "\n# ".join(f"download {d.url} -> {d.dest}" for d in downloads)
    paths = ws.runner.act(listing, lambda: fetch_all(downloads, workers=ws.settings.workers))
    if paths is None:  # planned only: the downloads were listed above
        return []
    where = ws.settings.cache_dir / "schemas"
    lines = [f"downloaded {len(paths)} schema file(s) into {where}"]
    if ws.settings.schema_dir is not None and not _inside(ws.settings.schema_dir, where):
        lines.append(
            f"note: validate.schema_dir ({ws.settings.schema_dir}) still takes precedence over "
            "the cache for CRD schemas"
        )
    return lines


def _inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def missing(ws: Workspace) -> list[Download]:
    """The planned downloads validation would read from the cache and the cache lacks
    (configured or shared schema directories are never filled from the network)."""
    settings = ws.settings

    def read_from_cache(dest: Path) -> bool:
        if dest.is_relative_to(settings.crd_dir) or dest.parent == settings.talos_dir:
            return True
        version = dest.name.removeprefix("values.schema.").removesuffix(".json")
        return settings.values_schema(dest.parent.name, version) == dest

    cache = settings.cache_dir / "schemas"
    return [
        d
        for d in planned_downloads(ws)
        if d.dest.is_relative_to(cache) and not d.dest.exists() and read_from_cache(d.dest)
    ]


def fetch_missing(ws: Workspace) -> list[str]:
    """Fetch what :func:`missing` lists; a file that cannot be fetched (offline, not in the
    catalog) is reported, and the check that needs it says so in its own finding."""
    from concurrent.futures import ThreadPoolExecutor

    wanted = missing(ws)
    if not wanted:
        return []
    failed: list[str] = []

    def one(download: Download) -> None:
        try:
            fetch(download)
        except UserError as exc:
            failed.append(exc.text)

    with ThreadPoolExecutor(max_workers=max(1, ws.settings.workers)) as pool:
        list(pool.map(one, wanted))
    where = ws.settings.cache_dir / "schemas"
    lines = [f"fetched {len(wanted) - len(failed)} pinned schema file(s) into {where} (once)"]
    if failed:
        lines.append(f"could not fetch {len(failed)}: {sorted(failed)[0]}")
    return lines
