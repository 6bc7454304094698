"""What every policy area shares: the rule declaration, the context a check reports through,
and small accessors for loosely typed YAML."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasks.validate.model import Doc

if TYPE_CHECKING:
    from tasks.core.config import ClusterSpec
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result
    from tasks.validate.tree import Tree


@dataclass(frozen=True)
class Rule:
    """One rule, declared once beside the check that reports it: its id and why it exists."""

    id: str
    reason: str


WORKLOAD_TEMPLATE = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Rollout": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}


RUN_TO_COMPLETION = {"Job", "CronJob"}


HOSTNAME_KEY = "kubernetes.io/hostname"


def dig(data: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def templated(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "$" in value)


@dataclass
class Context:
    ws: Workspace
    tree: Tree
    result: Result
    spec: ClusterSpec | None
    components: dict[str, dict[str, Any]]
    #: Families and id prefixes a skip annotation may name besides the policy rules.
    families: set[str]
    #: Every policy rule id (what a skip annotation may name).
    rule_ids: frozenset[str] = frozenset()

    def report(self, doc: Doc, rule: Rule, message: str, path: list[Any] | None = None) -> None:
        if self.ws.skipped(rule.id, doc):
            return
        line = doc.line_of(path) if path else doc.line
        self.result.add(doc.path, line, rule.id, message, doc.ref)

    def namespace_of(self, doc: Doc) -> str | None:
        if doc.namespace:
            return doc.namespace
        component = self.components.get(doc.component or "")
        ns = component.get("namespace") if component else None
        return ns if isinstance(ns, str) else None

    def wave_of(self, doc: Doc) -> int | None:
        component = self.components.get(doc.component or "")
        wave = component.get("wave") if component else None
        return wave if isinstance(wave, int) else None


def pod_spec(doc: Doc) -> tuple[list[str], dict[str, Any]] | None:
    path = WORKLOAD_TEMPLATE.get(doc.kind)
    if path is None:
        return None
    spec = dig(doc.data, *path)
    return (list(path), spec) if isinstance(spec, dict) else None


def app_specs(doc: Doc) -> Iterator[dict[str, Any]]:
    if doc.group != "argoproj.io":
        return
    if doc.kind == "Application" and isinstance(doc.data.get("spec"), dict):
        yield doc.data["spec"]
    elif doc.kind == "ApplicationSet":
        spec = dig(doc.data, "spec", "template", "spec")
        if isinstance(spec, dict):
            yield spec
