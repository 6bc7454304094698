"""Resumable HTTP downloads with size and SHA-256 checks (the Talos ISO).

A download goes to ``<dest>.part`` first; an interrupted one resumes with an HTTP Range request and
the finished file is renamed into place only after its size (and checksum, when known) match. The
Image Factory publishes no checksum for its ISOs, so the SHA-256 of the first complete download is
recorded beside the file (``sha256sum`` format) and checked on every later run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from tasks.core.errors import UserError

CHUNK = 1 << 20
TIMEOUT = 60.0
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)")


@dataclass(frozen=True)
class Fetched:
    path: Path
    sha256: str
    size: int
    #: Bytes already on disk from an earlier, interrupted attempt.
    resumed_from: int


def normalize_sha256(value: str) -> str:
    digest = value.strip().lower()
    if not _SHA256.match(digest):
        raise UserError(f"--sha256 {value!r} is not a SHA-256 digest (64 hex characters).", code=2)
    return digest


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def recorded_sha256(path: Path) -> str | None:
    try:
        first = checksum_path(path).read_text().split()
    except FileNotFoundError:
        return None
    return first[0].lower() if first and _SHA256.match(first[0].lower()) else None


def record_sha256(path: Path, digest: str) -> None:
    checksum_path(path).write_text(f"{digest}  {path.name}\n")


def verify(path: Path, expected: str) -> str:
    actual = sha256_file(path)
    if actual != expected:
        raise UserError(
            f"{path}: SHA-256 is {actual}, expected {expected}. The file is corrupt or not the "
            f"one wanted: delete it (and {checksum_path(path).name}) and run again."
        )
    return actual


def _total_from(status: int, headers: dict[str, str]) -> tuple[int, int | None]:
    """(offset the body starts at, total size) from a 200 or 206 response."""
    length = headers.get("content-length")
    if status == 206:
        match = _RANGE.match(headers.get("content-range", ""))
        if not match or match.group(1) is None:
            raise UserError("the server answered a range request without a usable Content-Range")
        start = int(match.group(1))
        total = None if match.group(3) == "*" else int(match.group(3))
        return start, total
    return 0, int(length) if length and length.isdigit() else None


def download(
    url: str,
    dest: Path,
    *,
    expected_sha256: str | None = None,
    timeout: float = TIMEOUT,
    progress: Callable[[int, int | None], None] | None = None,
) -> Fetched:
    """Fetch ``url`` into ``dest``, resuming a partial ``dest.part`` left by an earlier attempt."""
    import http.client
    import urllib.error
    import urllib.request

    if urlparse(url).scheme not in {"http", "https"}:
        raise UserError(f"{url}: only http(s) downloads are supported.")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"Cannot create the download directory {dest.parent} ({exc.strerror}): set "
            "state.dir in invoke.yaml or INVOKE_STATE_DIR to a directory you can write."
        ) from None
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url)  # noqa: S310 (scheme checked above)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            # Nothing left to send: the partial file may already be complete, or be junk.
            match = _RANGE.match(exc.headers.get("Content-Range", "") or "")
            total = int(match.group(3)) if match and match.group(3) != "*" else None
            if total == offset:
                return _finish(part, dest, offset, offset, expected_sha256)
            part.unlink()
            raise UserError(
                f"{url}: the server rejected resuming at byte {offset}; the partial file was "
                "removed, run again to download from the start."
            ) from None
        raise UserError(f"downloading {url} failed: HTTP {exc.code} {exc.reason}.") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(
            f"cannot reach {url} ({reason}). Check the network, or pass --iso PATH to use a "
            "local file."
        ) from None
    with response:
        headers = {k.lower(): v for k, v in response.headers.items()}
        start, total = _total_from(response.status, headers)
        if start not in (0, offset):
            raise UserError(f"{url}: the server resumed at byte {start}, not {offset}.")
        mode = "ab" if start == offset and start else "wb"
        resumed = start if mode == "ab" else 0
        written = resumed
        try:
            with part.open(mode) as f:
                for block in iter(lambda: response.read(CHUNK), b""):
                    f.write(block)
                    written += len(block)
                    if progress:
                        progress(written, total)
        except (OSError, http.client.HTTPException) as exc:
            raise UserError(
                f"the download of {url} was interrupted after {written} bytes ({exc!r}); "
                f"the partial file {part} is kept: run again to resume."
            ) from None
    if total is not None and written != total:
        raise UserError(
            f"the download of {url} stopped at {written} of {total} bytes; the partial file "
            f"{part} is kept: run again to resume."
        )
    return _finish(part, dest, written, resumed, expected_sha256)


def _finish(part: Path, dest: Path, size: int, resumed: int, expected: str | None) -> Fetched:
    actual = sha256_file(part)
    if expected is not None and actual != expected:
        part.unlink()
        raise UserError(
            f"the downloaded {dest.name} has SHA-256 {actual}, expected {expected}; the file was "
            "removed. Check --sha256 and run again."
        )
    part.replace(dest)
    record_sha256(dest, actual)
    return Fetched(dest, actual, size, resumed)
