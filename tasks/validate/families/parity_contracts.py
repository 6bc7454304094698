"""The backend contracts of deploy/aks/contracts.yaml: every way an environment may differ.

A contract names a backend (CNI, load balancer, storage, ...) that changes between environments
and the differences it covers, per Application (a glob on its name):

- ``values``: key paths of the merged Helm values (``cilium.ipam.**``),
- ``objects``: rendered objects by ``kind``/``name`` (globs), optionally only some ``fields``;
  without ``fields`` the whole object may differ, appear or disappear,
- ``application``: field paths of the Application object itself (``**`` for the whole of it).

Paths are dotted; a list whose items all have a distinct ``name`` is keyed by it
(``containers[api].env[OTEL_SERVICE_NAME].value``), any other list by index (``args[0]``).
In a pattern ``*`` stands for one segment part (no ``.``), ``**`` for anything, and a pattern
ending in ``.**`` also covers the path before it (a subtree added or removed as a whole).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tasks.core.errors import ConfigError

CONTRACTS_FILE = "aks/contracts.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ObjectRule(_Strict):
    kind: str
    name: str = "*"
    fields: tuple[str, ...] = ()


class Cover(_Strict):
    app: str = Field(description="glob on the Application name")
    values: tuple[str, ...] = ()
    objects: tuple[ObjectRule, ...] = ()
    application: tuple[str, ...] = ()


class Contract(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    local: str
    aks: str
    switch: str
    covers: tuple[Cover, ...] = ()


class Contracts(_Strict):
    environments: tuple[str, str] = ("local", "aks")
    contracts: tuple[Contract, ...]


What = Literal["application", "object", "values"]


@dataclass(frozen=True)
class Difference:
    """One way the second environment's tree differs from the first's."""

    app: str
    what: What
    #: ``Kind namespace/name`` of a rendered object, else empty.
    obj: str
    kind: str
    name: str
    #: Dotted field or values key; empty when the whole object or Application differs.
    field: str
    detail: str
    #: The file a person edits to change it (values file, component directory, ApplicationSet).
    path: str

    def describe(self) -> str:
        where = {"application": "Application", "object": self.obj, "values": "Helm values"}
        subject = where[self.what]
        field = f" field {self.field}" if self.field else ""
        return f"{self.app}: {subject}{field}: {self.detail}"


def load(deploy: Path) -> Contracts:
    """Read and validate ``<deploy>/aks/contracts.yaml``; errors name the file and field."""
    from ruamel.yaml.error import YAMLError

    from tasks.core import yamldata

    path = deploy / CONTRACTS_FILE
    try:
        data = yamldata.load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file (the backend contracts the parity check allows)"
        ) from None
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    try:
        contracts = Contracts.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
    ids = [c.id for c in contracts.contracts]
    doubled = sorted({i for i in ids if ids.count(i) > 1})
    if doubled:
        raise ConfigError(f"{path}: contract id(s) used twice: {', '.join(doubled)}")
    return contracts


@lru_cache(maxsize=512)
def _pattern(glob: str) -> re.Pattern[str]:
    subtree = glob.endswith(".**")
    body = glob[:-3] if subtree else glob
    parts = re.split(r"(\*\*|\*)", body)
    out = "".join(".*" if p == "**" else r"[^.\[\]]*" if p == "*" else re.escape(p) for p in parts)
    return re.compile(out + (r"(?:[.\[].*)?" if subtree else "") + r"\Z")


def matches(glob: str, text: str) -> bool:
    return bool(_pattern(glob).match(text))


def name_matches(glob: str, text: str) -> bool:
    """Names and kinds: ``*`` matches anything (names have dots)."""
    return bool(re.fullmatch(re.escape(glob).replace(r"\*", ".*"), text))


def covering(contracts: Contracts, diff: Difference) -> Contract | None:
    """The first contract that allows ``diff``, or None."""
    for contract in contracts.contracts:
        if any(allows(cover, diff) for cover in contract.covers):
            return contract
    return None


def allows(cover: Cover, diff: Difference) -> bool:
    if not name_matches(cover.app, diff.app):
        return False
    if diff.what == "values":
        return any(matches(p, diff.field) for p in cover.values)
    if diff.what == "application":
        return any(matches(p, diff.field or "**") or p == "**" for p in cover.application)
    for rule in cover.objects:
        if not (name_matches(rule.kind, diff.kind) and name_matches(rule.name, diff.name)):
            continue
        if not rule.fields:
            return True
        if diff.field and any(matches(p, diff.field) for p in rule.fields):
            return True
    return False


def readme_table(contracts: Contracts) -> str:
    """The contracts as the Markdown table of deploy/aks/README.md (kept equal by a test)."""
    first, second = contracts.environments
    lines = [
        f"| contract | {first} | {second} | where the switch lives |",
        "|---|---|---|---|",
    ]
    lines += [f"| {c.title} | {c.local} | {c.aks} | {c.switch} |" for c in contracts.contracts]
    return "\n".join(lines) + "\n"
