"""Which Talos ISO the nodes boot: a local file, the cached download, or a fresh download."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core import operation as op
from tasks.core.errors import UserError
from tasks.infra.download import (
    Fetched,
    download,
    normalize_sha256,
    record_sha256,
    recorded_sha256,
    sha256_file,
    verify,
)
from tasks.infra.schematic import iso_url, schematic_id

if TYPE_CHECKING:
    from tasks.core.config import ClusterSpec
    from tasks.core.operation import Op
    from tasks.infra.settings import InfraSettings


@dataclass(frozen=True)
class Iso:
    path: Path
    url: str
    #: What happened: "local", "cached", "downloaded", "planned" (dry run).
    source: str
    sha256: str | None = None


def iso_volume(spec: ClusterSpec) -> str:
    """The ISO's name in the cache and as a volume of the pool (version and schematic in it)."""
    sid = schematic_id(spec.image_factory.extensions)
    return f"talos-v{spec.versions.talos}-{sid}-metal-amd64.iso"


def cached_iso_path(spec: ClusterSpec, settings: InfraSettings) -> Path:
    return settings.iso_cache / iso_volume(spec)


def ensure_iso(
    spec: ClusterSpec,
    settings: InfraSettings,
    *,
    local: str | None = None,
    sha256: str | None = None,
    download_missing: bool = True,
) -> Op[Iso]:
    """The ISO for the pinned Talos version and schematic, downloaded only when missing."""
    url = iso_url(spec)
    want = normalize_sha256(sha256) if sha256 else None
    if local:
        path = Path(local).expanduser().resolve()
        if not path.is_file():
            raise UserError(f"--iso {local}: no such file.")
        if want:
            verify(path, want)
        return Iso(path, url, "local", want)
    dest = cached_iso_path(spec, settings)
    if dest.is_file():
        expected = want or recorded_sha256(dest)
        if expected:
            return Iso(dest, url, "cached", verify(dest, expected))
        digest = sha256_file(dest)
        yield op.Proof(lambda: record_sha256(dest, digest))
        return Iso(dest, url, "cached", digest)
    if not download_missing:
        raise UserError(
            f"No Talos ISO at {dest}: run `inv infra.image` (or pass --iso PATH for a local file)."
        )

    def fetch() -> Fetched:
        _say(f"downloading {url}\n  -> {dest}")
        return download(url, dest, expected_sha256=want, progress=_progress(_say))

    fetched = yield from op.act(f"write {dest}  (download {url})", fetch)
    if fetched is None:
        return Iso(dest, url, "planned", want)
    return Iso(fetched.path, url, "downloaded", fetched.sha256)


def _say(line: str) -> None:
    # The URL and the path are no secrets: printed as they are, as the runner would.
    print(line, flush=True)


def _progress(say: Callable[[str], None]) -> Callable[[int, int | None], None]:
    """A progress callback that prints every 10 percent (or every 64 MiB when size is unknown)."""
    last = [-1]

    def report(done: int, total: int | None) -> None:
        step = done * 10 // total if total else done >> 26
        if step != last[0]:
            last[0] = step
            shown = f"{done >> 20} MiB" + (f" of {total >> 20} MiB" if total else "")
            say(f"  {shown}")

    return report
