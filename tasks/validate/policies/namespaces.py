"""Namespaces: every namespace used is created by something."""

from __future__ import annotations

from tasks.validate.model import Doc
from tasks.validate.policies.base import (
    Context,
    Rule,
    app_specs,
    dig,
    templated,
)

NAMESPACE = Rule(
    "policy/namespace",
    "every namespace used is created by something (a Namespace, a component, CreateNamespace)",
)


BUILTIN_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


def _created_namespaces(ctx: Context, objects: list[Doc]) -> set[str]:
    created = set(BUILTIN_NAMESPACES)
    for data in ctx.components.values():
        if isinstance(data.get("namespace"), str):
            created.add(data["namespace"])
    for doc in objects:
        if doc.kind == "Namespace" and doc.name:
            created.add(doc.name)
        for spec in app_specs(doc):
            options = dig(spec, "syncPolicy", "syncOptions") or []
            ns = dig(spec, "destination", "namespace")
            if "CreateNamespace=true" in options and isinstance(ns, str) and not templated(ns):
                created.add(ns)
    return created


def namespaces(ctx: Context, objects: list[Doc]) -> None:
    created = _created_namespaces(ctx, objects)
    for doc in objects:
        ns = doc.namespace
        if ns and ns not in created and not templated(ns):
            ctx.report(
                doc,
                NAMESPACE,
                f"namespace {ns!r} is not created by anything",
                ["metadata", "namespace"],
            )
        for spec in app_specs(doc):
            dest = dig(spec, "destination", "namespace")
            if isinstance(dest, str) and dest and not templated(dest) and dest not in created:
                ctx.report(
                    doc,
                    NAMESPACE,
                    f"destination namespace {dest!r} is not created by anything (add "
                    "CreateNamespace=true or a Namespace)",
                    ["spec", "destination", "namespace"],
                )
