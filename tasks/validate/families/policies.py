"""``policies``: rules about how the pieces fit together, each with an id and a reason.

An object is exempted from a rule by the annotation ``validate.propertea.io/skip: "<id>[,<id>]"``
together with ``validate.propertea.io/skip-reason``; anything else (a values file, a path) through
config ``validate.skip``. Each rule is declared once, beside its check, in an area module of
:mod:`tasks.validate.policies`. Rules (id: why):
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.validate.policies import addresses, argocd, crds, namespaces, routes, skips, workloads
from tasks.validate.policies.base import Context, Rule
from tasks.validate.registry import register_family

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result

#: Every rule, in the order the docs list them.
ORDER: tuple[Rule, ...] = (
    workloads.RESOURCES,
    workloads.PROBES,
    workloads.NON_ROOT,
    workloads.IMAGE_PINNED,
    workloads.SPREAD,
    namespaces.NAMESPACE,
    routes.ROUTE_PARENT,
    routes.ROUTE_BACKEND,
    addresses.GATEWAY_ADDRESS,
    addresses.LB_POOL,
    argocd.REPO_URL,
    argocd.APP_PATH,
    argocd.APP_UNIQUE,
    crds.CRD_INSTALLED,
    crds.SYNC_WAVE,
    workloads.NODE_NAME,
    skips.SKIP_REASON,
)
RULES: dict[str, str] = {rule.id: rule.reason for rule in ORDER}
__doc__ = (__doc__ or "") + "".join(f"\n- ``{k}``: {v}" for k, v in RULES.items())


def check_policies(ws: Workspace, result: Result) -> None:
    tree = ws.tree
    components: dict[str, dict[str, Any]] = {}
    for source in tree.by_role("component"):
        if source.docs and source.docs[0].is_object:
            components[str(Path(source.path).parent)] = source.docs[0].data
    from tasks.validate.registry import families

    known = {*families(), "secrets", "manifests", "component", "yaml"}
    ctx = Context(
        ws, tree, result, ws.spec.spec if ws.spec else None, components, known, frozenset(RULES)
    )
    objects = [d for d in tree.objects if d.is_object and d.kind]
    for doc in objects:
        skips.skip_reason(ctx, doc)
        workloads.workload(ctx, doc)
        workloads.node_names(ctx, doc)
    namespaces.namespaces(ctx, objects)
    routes.routes(ctx, objects)
    addresses.addresses(ctx, objects)
    argocd.argocd(ctx, objects)
    crds.crds(ctx, objects)


register_family(
    "policies", check_policies, "cross-object rules and cross-checks with the cluster spec"
)
