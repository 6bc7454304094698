"""Settings of ``inv validate``: config ``validate.*``, else ``INVOKE_VALIDATE_*``, else defaults.

Invoke maps ``INVOKE_*`` variables only onto keys that already have a default, so keys that the root
collection does not declare are also read from the environment here.

Keys (all optional):

- ``shared_schemas``: one directory holding ``crds/``, ``talos/`` and ``<chart>/`` schemas (the
  ``../shared/schemas`` layout of tests and CI); the defaults of the three keys below
- ``schema_dir``: CRD schemas laid out ``{group}/{kind}_{version}.json``; default: the cache
- ``allow_unknown_kinds``: ``{Kind: reason}`` kinds accepted without a schema
- ``cache_dir``: cache root (downloaded schemas, Kustomize renders, linter verdicts); default
  ``$XDG_CACHE_HOME/propertea`` or ``~/.cache/propertea``
- ``crd_catalog_url`` / ``crd_catalog_commit``: where ``--refresh-schemas`` fetches CRD schemas
- ``talos_schema_dir``: ``v<talos>.config.schema.json`` files; ``talos_schema_url``: its URL
- ``values_schemas``: ``{chart: path}`` values.schema.json per wrapped chart (e.g. ``cilium``);
  ``values_schema_urls``: ``{chart: url}`` for ``--refresh-schemas``
- ``skip``: ``[{check: id, match: "Kind/namespace/name" or a path glob, reason: "..."}]``
- ``chart_crds``: ``{chart: [group or group/Kind, ...]}`` CRDs a wrapped chart installs (added to
  the built-in table)
- ``remote_crds``: ``{URL pattern (fnmatch): [group or group/Kind, ...]}`` CRDs a pinned remote
  Kustomize resource installs (added to the built-in table)
- ``workers``: threads for external tools and Kustomize renders (default: CPU count, at least 2)
- ``fetch_missing``: fetch a pinned schema the cache lacks before validating (default true; the
  cache is then enough offline); ``false``/``0`` never touches the network
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core.errors import UserError

if TYPE_CHECKING:
    from invoke.context import Context

CRD_CATALOG_COMMIT = "7b1e26ef9deea49293714d204c1a2270aab1178f"
CRD_CATALOG_URL = (
    "https://raw.githubusercontent.com/datreeio/CRDs-catalog/{commit}/{group}/{kind}_{version}.json"
)
TALOS_SCHEMA_URL = (
    "https://raw.githubusercontent.com/siderolabs/talos/v{version}/"
    "pkg/machinery/config/schemas/config.schema.json"
)
VALUES_SCHEMA_URLS = {
    "cilium": "https://raw.githubusercontent.com/cilium/cilium/v{version}/"
    "install/kubernetes/cilium/values.schema.json",
}


def _version_key(text: str) -> tuple[int, ...]:
    import re

    return tuple(int(n) for n in re.findall(r"\d+", text)[:3])


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "propertea"


@dataclass(frozen=True)
class SkipRule:
    check: str
    match: str
    reason: str


@dataclass(frozen=True)
class Settings:
    schema_dir: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    allow_unknown_kinds: dict[str, str] = field(default_factory=dict)
    crd_catalog_url: str = CRD_CATALOG_URL
    crd_catalog_commit: str = CRD_CATALOG_COMMIT
    talos_schema_dir: Path | None = None
    talos_schema_url: str = TALOS_SCHEMA_URL
    values_schemas: dict[str, Path] = field(default_factory=dict)
    values_schema_urls: dict[str, str] = field(default_factory=lambda: dict(VALUES_SCHEMA_URLS))
    skip: tuple[SkipRule, ...] = ()
    chart_crds: dict[str, list[str]] = field(default_factory=dict)
    remote_crds: dict[str, list[str]] = field(default_factory=dict)
    workers: int = max(2, os.cpu_count() or 2)
    shared_schemas: Path | None = None
    fetch_missing: bool = True

    @property
    def crd_dir(self) -> Path:
        """Where CRD schemas are read from: ``schema_dir``, else the cache for the pinned commit."""
        if self.schema_dir is not None:
            return self.schema_dir
        return self.cache_dir / "schemas" / self.crd_catalog_commit

    @property
    def talos_dir(self) -> Path:
        return self.talos_schema_dir or self.cache_dir / "schemas" / "talos"

    def values_schema(self, chart: str, version: str | None) -> Path | None:
        """The values schema for ``chart``: configured, else shared (exact version preferred,
        else the newest there), else the cache path for the pinned version."""
        if chart in self.values_schemas:
            return self.values_schemas[chart]
        shared = self.shared_schemas / chart if self.shared_schemas else None
        if shared is not None and shared.is_dir():
            exact = shared / f"values.schema.{version}.json"
            if exact.exists():
                return exact
            found = sorted(shared.glob("values.schema.*.json"), key=lambda p: _version_key(p.name))
            if found:
                return found[-1]
        if chart in self.values_schema_urls and version:
            return self.cache_dir / "schemas" / chart / f"values.schema.{version}.json"
        return None


def _raw(c: Context | None, key: str) -> Any:
    section: Any = c.config.get("validate", {}) if c is not None else {}
    value = section.get(key) if hasattr(section, "get") else None
    # Invoke never maps a variable onto a key whose default is a mapping, so an empty default
    # still lets the environment speak.
    if value is None or (hasattr(value, "keys") and not value):
        env = os.environ.get(f"INVOKE_VALIDATE_{key.upper()}")
        if env:
            value = _parse_env(key, env)
    return value


def _parse_env(key: str, text: str) -> Any:
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise UserError(
                f"INVOKE_VALIDATE_{key.upper()}: not valid JSON: {text!r}", code=2
            ) from None
    return text


def _path(value: Any) -> Path | None:
    return Path(str(value)).expanduser() if value else None


def _mapping(key: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not hasattr(value, "items"):
        raise UserError(f"validate.{key} must be a mapping, got {value!r}", code=2)
    return {str(k): v for k, v in value.items()}


def _strings(key: str, name: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise UserError(
            f"validate.{key}[{name!r}] must be a list of strings, got {value!r}", code=2
        )
    return [str(x) for x in value]


def load(c: Context | None) -> Settings:
    """Settings from config and environment; a malformed value is a usage error (exit 2)."""
    skip_raw = _raw(c, "skip") or []
    if not isinstance(skip_raw, list):
        raise UserError("validate.skip must be a list of {check, match, reason}", code=2)
    rules = []
    for i, rule in enumerate(skip_raw):
        if not hasattr(rule, "get") or not all(rule.get(k) for k in ("check", "match", "reason")):
            raise UserError(
                f"validate.skip[{i}] needs check, match and reason (a reason is mandatory): "
                f"{rule!r}",
                code=2,
            )
        rules.append(SkipRule(str(rule["check"]), str(rule["match"]), str(rule["reason"])))
    kwargs: dict[str, Any] = {}
    cache = _path(_raw(c, "cache_dir"))
    if cache is not None:
        kwargs["cache_dir"] = cache
    for key in ("crd_catalog_url", "crd_catalog_commit", "talos_schema_url"):
        value = _raw(c, key)
        if value:
            kwargs[key] = str(value)
    urls = dict(VALUES_SCHEMA_URLS)
    urls.update(
        {
            k: str(v)
            for k, v in _mapping("values_schema_urls", _raw(c, "values_schema_urls")).items()
        }
    )
    workers = _raw(c, "workers")
    if workers:
        try:
            kwargs["workers"] = max(1, int(workers))
        except ValueError:
            raise UserError(f"validate.workers must be a number, got {workers!r}", code=2) from None
    chart_crds = _mapping("chart_crds", _raw(c, "chart_crds"))
    remote_crds = _mapping("remote_crds", _raw(c, "remote_crds"))
    shared = _path(_raw(c, "shared_schemas"))
    schema_dir = _path(_raw(c, "schema_dir"))
    talos_dir = _path(_raw(c, "talos_schema_dir"))
    if shared is not None:
        if not shared.is_dir():
            raise UserError(f"validate.shared_schemas: {shared} is not a directory", code=2)
        schema_dir = schema_dir or shared / "crds"
        talos_dir = talos_dir or shared / "talos"
    fetch = _raw(c, "fetch_missing")
    if fetch is not None and str(fetch).strip():
        kwargs["fetch_missing"] = str(fetch).strip().lower() not in {"0", "false", "no", "off"}
    return Settings(
        shared_schemas=shared,
        schema_dir=schema_dir,
        allow_unknown_kinds={
            k: str(v)
            for k, v in _mapping("allow_unknown_kinds", _raw(c, "allow_unknown_kinds")).items()
        },
        talos_schema_dir=talos_dir,
        values_schemas={
            k: Path(str(v)).expanduser()
            for k, v in _mapping("values_schemas", _raw(c, "values_schemas")).items()
        },
        values_schema_urls=urls,
        skip=tuple(rules),
        chart_crds={k: [str(x) for x in v] for k, v in chart_crds.items()},
        remote_crds={k: _strings("remote_crds", k, v) for k, v in remote_crds.items()},
        **kwargs,
    )
