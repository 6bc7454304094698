"""``--refresh-schemas``: download the pinned schema files into the user cache.

Only what the tree needs is fetched: the CRD schema of every custom resource kind it uses (from the
CRDs-catalog at the pinned commit), the Talos machine-config schema of the pinned Talos version and
the values schema of each wrapped chart that publishes one. Each file is checked to be JSON before
it replaces the cached copy, so a failed or partial download never leaves a broken schema behind.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tasks.core.errors import UserError

TIMEOUT = 30.0


@dataclass(frozen=True)
class Download:
    url: str
    dest: Path


def fetch(download: Download, *, timeout: float = TIMEOUT) -> None:
    """Fetch one JSON file atomically; raises UserError naming the URL on any failure."""
    if not download.url.startswith(("https://", "http://")):
        raise UserError(f"refusing to download {download.url!r}: only http(s) URLs", code=2)
    try:
        with urllib.request.urlopen(download.url, timeout=timeout) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise UserError(
            f"downloading {download.url} failed: HTTP {exc.code} {exc.reason}. Check the pinned "
            "URL pattern and commit (validate.crd_catalog_url / crd_catalog_commit), or point "
            "validate.schema_dir at a local copy."
        ) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(
            f"downloading {download.url} failed: {reason}. Without network access, point "
            "validate.schema_dir (INVOKE_VALIDATE_SCHEMA_DIR) at a local schema directory."
        ) from None
    try:
        json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"downloading {download.url}: the response is not JSON") from None
    download.dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = download.dest.with_name(f".{download.dest.name}.{os.getpid()}.tmp")
    tmp.write_bytes(body)
    tmp.replace(download.dest)


def fetch_all(downloads: Iterable[Download], *, workers: int = 4) -> list[Path]:
    from concurrent.futures import ThreadPoolExecutor

    items = list({d.dest: d for d in downloads}.values())
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(fetch, items))
    return [d.dest for d in items]


def crd_download(
    url_pattern: str, commit: str, dest_dir: Path, api_version: str, kind: str
) -> Download:
    group, _, version = api_version.rpartition("/")
    name = f"{kind.lower()}_{version}.json"
    url = url_pattern.format(commit=commit, group=group, kind=kind.lower(), version=version)
    return Download(url, dest_dir / group / name)
