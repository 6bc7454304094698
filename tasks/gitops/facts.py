"""Pure parsers of what helm and kubectl print about Argo CD, the install's inputs, and the
one read-only probe of the cluster the operations read mid-way (:func:`read_statuses`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core.errors import UserError
from tasks.deploytree.appset import SYNC_WAVE, merge_maps
from tasks.gitops import plan

if TYPE_CHECKING:
    from tasks.core.runner import Runner
    from tasks.gitops.kube import Kube

#: The argocd component, relative to gitops.path.
ARGOCD_COMPONENT = Path("infrastructure/argocd")


@dataclass(frozen=True)
class Release:
    chart_version: str
    status: str


def parse_helm_list(text: str, release: str) -> Release | None:
    """The release's row of ``helm list`` (tab-separated table), None when absent."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    header = [h.strip() for h in lines[0].split("\t")]
    for line in lines[1:]:
        row = dict(zip(header, (c.strip() for c in line.split("\t")), strict=False))
        if row.get("NAME") == release:
            chart = row.get("CHART", "")
            version = chart.rsplit("-", 1)[-1] if "-" in chart else ""
            return Release(chart_version=version, status=row.get("STATUS", ""))
    return None


def parse_helm_values(text: str) -> dict[str, Any]:
    """``helm get values`` prints ``USER-SUPPLIED VALUES:`` then YAML (``null`` when none)."""
    from tasks.core import yamldata

    body = text.split("\n", 1)[1] if text.startswith("USER-SUPPLIED VALUES:") else text
    data = yamldata.load(body) if body.strip() else None
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class AppStatus:
    name: str
    wave: str
    sync: str
    health: str
    operation: str
    revision: str
    message: str

    @property
    def ready(self) -> bool:
        return self.sync == "Synced" and self.health == "Healthy"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def parse_applications(text: str) -> list[AppStatus]:
    """``kubectl get applications -o json`` (an Application list) to one row per application."""
    try:
        data = json.loads(text) if text.strip() else {"items": []}
    except json.JSONDecodeError:
        raise UserError(f"kubectl printed something that is not JSON:\n{text[:300]}") from None
    rows: list[AppStatus] = []
    for item in data.get("items") or []:
        meta = item.get("metadata") or {}
        status = item.get("status") or {}
        operation = status.get("operationState") or {}
        conditions = [c.get("message", "") for c in status.get("conditions") or []]
        health = status.get("health") or {}
        rows.append(
            AppStatus(
                name=str(meta.get("name", "")),
                wave=str((meta.get("annotations") or {}).get(SYNC_WAVE, "0")),
                sync=str((status.get("sync") or {}).get("status") or "Unknown"),
                health=str(health.get("status") or "Unknown"),
                operation=str(operation.get("phase") or ""),
                revision=str((status.get("sync") or {}).get("revision") or "")[:12],
                message="; ".join(
                    m for m in [*conditions, health.get("message"), operation.get("message")] if m
                ),
            )
        )
    return sorted(rows, key=lambda r: (_wave(r.wave), r.name))


def _wave(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


@dataclass(frozen=True)
class InstallInputs:
    """What ``gitops.install`` feeds helm: chart values (argo-cd's own), repo and pinned version."""

    values: dict[str, Any]
    repo_url: str
    wrapper_version: str | None


def install_inputs(values_files: list[Path]) -> InstallInputs:
    """Merge the values files (helm's rules: maps merge, the rest is replaced).

    When the files belong to a wrapper chart (a ``Chart.yaml`` beside them depending on argo-cd),
    the argo-cd chart's values are the subtree under the dependency's name (or alias).
    """
    from ruamel.yaml.error import YAMLError

    from tasks.core import yamldata

    merged: dict[str, Any] = {}
    for path in values_files:
        try:
            data = yamldata.load(path.read_text()) or {}
        except FileNotFoundError:
            raise UserError(f"{path}: no such values file") from None
        except YAMLError as exc:
            raise UserError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(data, dict):
            raise UserError(f"{path}: Helm values must be a mapping")
        merged = merge_maps(merged, data)
    chart_file = values_files[0].parent / "Chart.yaml"
    repo_url, version = "", None
    if chart_file.is_file():
        meta = yamldata.load(chart_file.read_text()) or {}
        for dep in meta.get("dependencies") or []:
            if dep.get("name") == "argo-cd":
                key = dep.get("alias") or dep["name"]
                merged = merged.get(key) or {}
                repo_url = str(dep.get("repository") or "")
                version = str(dep.get("version")) if dep.get("version") else None
                break
    return InstallInputs(values=merged, repo_url=repo_url, wrapper_version=version)


def read_statuses(runner: Runner, kube: Kube, timeout: float = 30.0) -> list[AppStatus]:
    """The applications as the cluster lists them (a read-only probe of the runner)."""
    return parse_applications(runner.capture(plan.list_applications(kube, timeout)))
