"""Settings of ``inv validate``: config ``validate.*``, else ``INVOKE_VALIDATE_*``, else defaults.

Every key is declared once in :class:`ValidateConfig`; the root collection registers its defaults,
so Invoke maps ``INVOKE_VALIDATE_<KEY>`` onto each scalar key. Invoke maps no variable onto a
mapping or a list, so for those keys the variable holds JSON and is read here.

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
- ``replay``: print the stored report of a run whose every input is unchanged instead of
  validating again (default true; ``replay.py`` lists what the fingerprint covers)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tasks.core.errors import ConfigError, UserError
from tasks.core.settings import FORBID_EXTRA, defaults_of, parse_section, section

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


@dataclass(frozen=True)
class SkipConfig:
    """One ``validate.skip`` entry."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    check: str = ""
    match: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        if not (self.check.strip() and self.match.strip() and self.reason.strip()):
            raise ValueError(
                "skip: each entry needs check, match and reason (a reason is mandatory): "
                f"{self.check!r}, {self.match!r}, {self.reason!r}"
            )


@dataclass(frozen=True)
class ValidateConfig:
    """Invoke config ``validate.*``, declared once (the keys are described in the module doc)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = FORBID_EXTRA
    shared_schemas: str | None = None
    schema_dir: str | None = None
    allow_unknown_kinds: dict[str, str] = field(default_factory=dict)
    cache_dir: str | None = None
    crd_catalog_url: str = CRD_CATALOG_URL
    crd_catalog_commit: str = CRD_CATALOG_COMMIT
    talos_schema_dir: str | None = None
    talos_schema_url: str = TALOS_SCHEMA_URL
    values_schemas: dict[str, str] = field(default_factory=dict)
    #: Added to the built-in URLs (VALUES_SCHEMA_URLS).
    values_schema_urls: dict[str, str] = field(default_factory=dict)
    skip: list[SkipConfig] = field(default_factory=list)
    chart_crds: dict[str, list[str]] = field(default_factory=dict)
    remote_crds: dict[str, list[str]] = field(default_factory=dict)
    #: 0: the CPU count, at least 2.
    workers: int = 0
    fetch_missing: bool = True
    #: Replay the report of an unchanged repository (``replay.py``).
    replay: bool = True


#: Keys whose default is a mapping or a list: Invoke maps no ``INVOKE_*`` variable onto those, so
#: their variable holds JSON and is read here.
_JSON_KEYS = (
    "allow_unknown_kinds",
    "values_schemas",
    "values_schema_urls",
    "skip",
    "chart_crds",
    "remote_crds",
)


def _config(c: Context | None) -> Context:
    """``c``, or (outside a task) the defaults with the environment applied the way Invoke does."""
    if c is not None:
        return c
    from invoke.config import Config
    from invoke.context import Context

    config = Config(defaults={"validate": defaults_of(ValidateConfig)}, lazy=True)
    config.load_shell_env()
    return Context(config)


def _with_json_env(c: Context) -> dict[str, Any]:
    raw = {str(k): v for k, v in section(c, "validate").items()}
    for key in _JSON_KEYS:
        text = os.environ.get(f"INVOKE_VALIDATE_{key.upper()}")
        if text and not raw.get(key):
            try:
                raw[key] = json.loads(text)
            except json.JSONDecodeError:
                raise UserError(
                    f"INVOKE_VALIDATE_{key.upper()}: not valid JSON: {text!r}", code=2
                ) from None
    return raw


def load(c: Context | None) -> Settings:
    """Settings from config and environment; a malformed value is a usage error (exit 2)."""
    try:
        cfg = parse_section("validate", _with_json_env(_config(c)), ValidateConfig)
    except ConfigError as exc:
        raise UserError(exc.text, code=2) from None

    def path(value: str | None) -> Path | None:
        return Path(value).expanduser() if value else None

    shared = path(cfg.shared_schemas)
    schema_dir, talos_dir = path(cfg.schema_dir), path(cfg.talos_schema_dir)
    if shared is not None:
        if not shared.is_dir():
            raise UserError(f"validate.shared_schemas: {shared} is not a directory", code=2)
        schema_dir = schema_dir or shared / "crds"
        talos_dir = talos_dir or shared / "talos"
    return Settings(
        shared_schemas=shared,
        schema_dir=schema_dir,
        cache_dir=path(cfg.cache_dir) or default_cache_dir(),
        allow_unknown_kinds=dict(cfg.allow_unknown_kinds),
        crd_catalog_url=cfg.crd_catalog_url or CRD_CATALOG_URL,
        crd_catalog_commit=cfg.crd_catalog_commit or CRD_CATALOG_COMMIT,
        talos_schema_dir=talos_dir,
        talos_schema_url=cfg.talos_schema_url or TALOS_SCHEMA_URL,
        values_schemas={k: Path(v).expanduser() for k, v in cfg.values_schemas.items()},
        values_schema_urls={**VALUES_SCHEMA_URLS, **cfg.values_schema_urls},
        skip=tuple(SkipRule(r.check, r.match, r.reason) for r in cfg.skip),
        chart_crds={k: list(v) for k, v in cfg.chart_crds.items()},
        remote_crds={k: list(v) for k, v in cfg.remote_crds.items()},
        workers=max(1, cfg.workers) if cfg.workers else max(2, os.cpu_count() or 2),
        fetch_missing=cfg.fetch_missing,
    )
