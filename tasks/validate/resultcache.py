"""Schema verdicts cached by document content, so a warm run validates only what changed.

A document's schema errors depend only on its data and on the schema files used (the core
schema and its definitions from kubernetes-validate, or the CRD schema): the key hashes both, the
files by path, size and mtime. Loading and compiling schemas is most of a warm run's time, so a
kind whose documents are all unchanged is never even compiled. Entries live in one JSON file
under ``<cache_dir>/schema-results``; an unreadable or unwritable cache only costs speed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tasks.validate.toolcache import write_atomic

#: Bumped when the format of an entry or the way errors are computed changes.
_VERSION = "1"
#: Entries kept from earlier runs besides this run's (other branches, clones sharing the cache).
KEEP = 50_000

Errors = list[tuple[list[Any], str]]


def file_identity(path: Path | None) -> str:
    if path is None:
        return "-"
    try:
        stat = path.stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


class SchemaResults:
    """``(schema identity, document) -> errors``; a no-op without a cache directory."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = cache_dir / "schema-results" / f"v{_VERSION}.json" if cache_dir else None
        self._old: dict[str, Errors] = {}
        self._used: dict[str, Errors] = {}
        self._loaded = False
        self.hits = 0
        self.misses = 0

    def _load(self) -> None:
        self._loaded = True
        if self.path is None:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict):
            self._old = data

    @staticmethod
    def key(identity: str, data: Any, prefix: tuple[Any, ...] = ()) -> str:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.sha256(f"{identity}\0{prefix!r}\0".encode())
        digest.update(text.encode())
        return digest.hexdigest()

    def get(self, key: str) -> Errors | None:
        if not self._loaded:
            self._load()
        found = self._used.get(key)
        if found is None:
            found = self._old.get(key)
            if found is not None:
                self._used[key] = found
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        return [(list(path), message) for path, message in found]

    def put(self, key: str, errors: Errors) -> None:
        self._used[key] = errors

    def check(
        self, identity: str, data: Any, validator: Callable[[], Any], prefix: tuple[Any, ...] = ()
    ) -> Errors:
        """The schema errors of ``data`` (``jsonerrors.schema_errors``), from the cache when it
        has them; ``validator`` is called (and the schema compiled) only on a miss."""
        key = self.key(identity, data, prefix)
        errors = self.get(key)
        if errors is None:
            from tasks.validate.jsonerrors import schema_errors

            errors = list(schema_errors(validator(), data, prefix))
            self.put(key, errors)
        return errors

    def save(self) -> None:
        if self.path is None or not self.misses:
            return
        kept = {k: v for k, v in self._old.items() if k not in self._used}
        if len(kept) > KEEP:
            kept = dict(list(kept.items())[-KEEP:])
        write_atomic(self.path, json.dumps({**kept, **self._used}, separators=(",", ":")))
