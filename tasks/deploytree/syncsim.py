"""Offline bring-up simulation: can every Application turn Healthy at its RollingSync step?

Argo CD advances a layer's RollingSync only when every Application of the previous steps is
Synced and Healthy, and the root Application creates a layer's ApplicationSet only when the
previous layers are Healthy. So one object whose health needs something that arrives later, or
never (the outside world, a component nobody deploys), stalls the whole bring-up. Per-file
validation cannot see that; this module orders the components as Argo CD does and applies, per
kind, the condition under which Argo CD's built-in health check reports Healthy.

The health rules follow Argo CD v3.5.1 ``resource_customizations`` (read upstream, not copied):

- ``gateway.networking.k8s.io/HTTPRoute`` (and ``GRPCRoute``): Progressing until a parent reports
  status; Degraded on ``Accepted=False`` / ``ResolvedRefs=False``. So each parent (a Gateway, or
  a Service for a mesh route) and each backend Service must exist by the route's step.
- ``gateway.networking.k8s.io/Gateway``: Degraded when a listener has ``ResolvedRefs=False``,
  which the controller reports while a ``certificateRefs`` Secret is missing.
- ``cert-manager.io/Certificate``, ``ClusterIssuer``, ``Issuer``: Healthy only with ``Ready=True``;
  an ACME issuer is Ready after account registration, an ACME certificate after the challenge:
  both depend on the outside world.
- ``keda.sh/ScaledObject``: Degraded when ``Ready=False``; KEDA's RabbitMQ scaler (v2.20,
  ``pkg/scalers/rabbitmq_scaler.go``) fails on a queue that does not exist, so the queue must be
  declared (RabbitMQ ``definitions.queues`` in a component's Helm values) by that step.
- Any custom resource: its CRD must be installed by that step, or the sync itself fails.

``argocd.argoproj.io/ignore-healthcheck: "true"`` takes an object out of its Application's health.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Doc
    from tasks.validate.tree import Tree

IGNORE_HEALTH = "argocd.argoproj.io/ignore-healthcheck"
TEMPORARY_CERTIFICATE = "cert-manager.io/issue-temporary-certificate"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
_LAYER_GLOB = re.compile(r"(?:^|/)([^/{}*]+)/\*/component\.yaml$")
_ROUTES = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"})
_GATEWAY_GROUP = "gateway.networking.k8s.io"
_RABBITMQ_QUEUE_MODES = frozenset({"QueueLength", "MessageRate"})


@dataclass(frozen=True, order=True)
class Step:
    """Where a component syncs: its layer's place in the root Application, then its wave."""

    layer_order: int
    wave: int
    layer: str

    def __str__(self) -> str:
        return f"{self.layer} wave {self.wave}"


@dataclass
class Blocker:
    """Why one object of an Application cannot turn Healthy at its step."""

    obj: str
    path: str
    line: int | None
    reason: str
    #: "later" (synced at a later step), "outside" (needs the world outside the cluster),
    #: "missing" (nothing in the tree provides it).
    cause: str


@dataclass
class AppResult:
    name: str
    component: str
    step: Step
    blockers: list[Blocker] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.blockers


@dataclass
class Simulation:
    apps: list[AppResult]
    #: Components under deploy/ that no layer's ApplicationSet picks up.
    undeployed: list[str]

    @property
    def stalled_at(self) -> AppResult | None:
        """The first Application (in sync order) that can never turn Healthy."""
        return next((a for a in self.apps if not a.healthy), None)

    def as_json(self) -> dict[str, Any]:
        stall = self.stalled_at
        return {
            "ok": stall is None,
            "stalled_at": None if stall is None else {"app": stall.name, "step": str(stall.step)},
            "apps": [
                {
                    "name": a.name,
                    "component": a.component,
                    "layer": a.step.layer,
                    "wave": a.step.wave,
                    "healthy": a.healthy,
                    "blockers": [
                        {
                            "object": b.obj,
                            "path": b.path,
                            "line": b.line,
                            "cause": b.cause,
                            "reason": b.reason,
                        }
                        for b in a.blockers
                    ],
                }
                for a in self.apps
            ],
            "undeployed": self.undeployed,
        }


# -- ordering ---------------------------------------------------------------------------------


def layer_order(ws: Workspace) -> dict[str, int]:
    """``deploy/<layer>`` -> the sync wave of the root Application's ApplicationSet for it."""
    from tasks.validate.tree import strings

    order: dict[str, int] = {}
    for doc in ws.tree.objects:
        if not doc.is_object or doc.kind != "ApplicationSet":
            continue
        wave = doc.annotations.get(SYNC_WAVE, "0")
        try:
            rank = int(str(wave))
        except ValueError:
            continue
        for text in strings((doc.data.get("spec") or {}).get("generators")):
            match = _LAYER_GLOB.search(text)
            if match:
                order[f"deploy/{match.group(1)}"] = rank
    return order


# -- what each step makes available ----------------------------------------------------------


@dataclass
class World:
    """Everything the tree provides, each with the step it arrives at."""

    objects: dict[tuple[str, str | None, str], Step] = field(default_factory=dict)
    crds: dict[str, list[Step | None]] = field(default_factory=dict)
    queues: dict[str, Step] = field(default_factory=dict)
    acme_issuers: set[tuple[str, str | None, str]] = field(default_factory=set)
    #: (namespace, secretName) of a cert-manager Certificate -> (its step, issued by ACME,
    #: a temporary self-signed certificate is asked for meanwhile).
    issued: dict[tuple[str | None, str], tuple[Step, bool, bool]] = field(default_factory=dict)

    def object_step(self, kind: str, namespace: str | None, name: str) -> Step | None:
        return self.objects.get((kind, namespace, name))


def _values_queues(values: Any) -> Iterator[str]:
    """Queue names a RabbitMQ chart declares at boot (``definitions.queues``), at any depth."""
    if isinstance(values, dict):
        definitions = values.get("definitions")
        if isinstance(definitions, dict) and definitions.get("enabled") is not False:
            for queue in definitions.get("queues") or []:
                if isinstance(queue, dict) and isinstance(queue.get("name"), str):
                    yield queue["name"]
        for value in values.values():
            if isinstance(value, dict):
                yield from _values_queues(value)


# -- the simulation ---------------------------------------------------------------------------


def simulate(ws: Workspace) -> Simulation:
    from tasks.validate.model import Result
    from tasks.validate.policies.base import Context
    from tasks.validate.policies.crds import crd_providers
    from tasks.validate.policies.routes import chart_services

    tree = ws.tree
    components: dict[str, dict[str, Any]] = {}
    for source in tree.by_role("component"):
        if source.docs and isinstance(source.docs[0].data, dict):
            components[str(PurePosixPath(source.path).parent)] = source.docs[0].data
    layers = layer_order(ws)
    steps: dict[str, Step] = {}
    undeployed = []
    for directory, data in sorted(components.items()):
        layer = str(PurePosixPath(directory).parent)
        wave = data.get("wave", 0)
        if layer not in layers or not isinstance(wave, int):
            undeployed.append(directory)
            continue
        steps[directory] = Step(layers[layer], wave, PurePosixPath(layer).name)

    ctx = Context(ws, tree, Result(), ws.spec.spec if ws.spec else None, components, set())

    def namespace_of(doc: Doc) -> str | None:
        return ctx.namespace_of(doc)

    world = World()
    objects = [d for d in tree.objects if d.is_object and d.kind and d.component in steps]
    for doc in objects:
        step = steps[str(doc.component)]
        world.objects[(doc.kind, namespace_of(doc), doc.name)] = step
        if doc.kind == "ClusterIssuer" and isinstance(
            (doc.data.get("spec") or {}).get("acme"), dict
        ):
            world.acme_issuers.add(("ClusterIssuer", None, doc.name))
        if doc.kind == "Issuer" and isinstance((doc.data.get("spec") or {}).get("acme"), dict):
            world.acme_issuers.add(("Issuer", namespace_of(doc), doc.name))
    for doc in objects:
        if doc.kind == "Certificate" and doc.group == "cert-manager.io":
            spec = doc.data.get("spec") or {}
            issuer = spec.get("issuerRef") or {}
            kind = str(issuer.get("kind", "Issuer"))
            issuer_key = (
                kind,
                None if kind == "ClusterIssuer" else namespace_of(doc),
                str(issuer.get("name")),
            )
            temporary = str(doc.annotations.get(TEMPORARY_CERTIFICATE, "")).lower() == "true"
            if isinstance(spec.get("secretName"), str):
                world.issued[(namespace_of(doc), spec["secretName"])] = (
                    steps[str(doc.component)],
                    issuer_key in world.acme_issuers,
                    temporary,
                )
    for (namespace, service), _ports in chart_services(ctx).items():
        for directory, step in steps.items():
            if components[directory].get("namespace") == namespace and _is_chart(ws, directory):
                world.objects.setdefault(("Service", namespace, service), step)
    for crd, dirs in crd_providers(ws, components).items():
        world.crds[crd] = [steps.get(d or "") for d in dirs]
    for directory, step in steps.items():
        for values in _values_docs(tree, components, directory):
            for queue in _values_queues(values.data):
                world.queues.setdefault(queue, step)

    results = []
    for directory, step in sorted(steps.items(), key=lambda kv: (kv[1], kv[0])):
        app = AppResult(str(components[directory].get("name", directory)), directory, step)
        for doc in objects:
            if doc.component == directory:
                app.blockers.extend(_blockers(ws, world, doc, step, namespace_of(doc)))
        app.blockers.extend(_chart_route_blockers(tree, world, components, directory, step))
        results.append(app)
    return Simulation(results, undeployed)


def _values_routes(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(key path, parentRefs) of every route a chart's values enable (``enabled`` + ``parentRefs``).

    Charts render these HTTPRoutes themselves (argo-cd ``server.httproute``, zitadel
    ``gateway.httpRoute``), so they are invisible offline except through their values.
    """
    if isinstance(node, dict):
        if node.get("enabled") is True and isinstance(node.get("parentRefs"), list):
            yield path, node["parentRefs"]
        for key, value in node.items():
            yield from _values_routes(value, (*path, key))


def _values_docs(
    tree: Tree, components: dict[str, dict[str, Any]], directory: str
) -> Iterator[Doc]:
    """The documents of the plain values files a Helm component lists."""
    for name in components[directory].get("valueFiles") or []:
        source = tree.files.get(f"{directory}/{name}") if isinstance(name, str) else None
        if source is not None:
            yield from source.docs


def _chart_route_blockers(
    tree: Tree, world: World, components: dict[str, dict[str, Any]], directory: str, step: Step
) -> Iterator[Blocker]:
    namespace = components[directory].get("namespace")
    for doc in _values_docs(tree, components, directory):
        for path, parents in _values_routes(doc.data):
            for parent in parents:
                if not isinstance(parent, dict) or not isinstance(parent.get("name"), str):
                    continue
                kind = str(parent.get("kind", "Gateway"))
                ns = parent.get("namespace", namespace)
                found = world.object_step(kind, ns, parent["name"])
                if found is not None and found <= step:
                    continue
                where = f"{kind} {ns}/{parent['name']}"
                reason = (
                    f"the chart's route ({'.'.join(map(str, path))}) is Progressing until "
                    f"its parent reports status: {where} "
                    + (
                        "is deployed by no component"
                        if found is None
                        else f"is synced later ({found})"
                    )
                )
                yield Blocker(
                    f"HTTPRoute from {'.'.join(map(str, path))}",
                    doc.path,
                    doc.line_of([*path, "parentRefs"]),
                    reason,
                    "missing" if found is None else "later",
                )


def _is_chart(ws: Workspace, directory: str) -> bool:
    return f"{directory}/Chart.yaml" in ws.tree.files


def _blockers(
    ws: Workspace, world: World, doc: Doc, step: Step, namespace: str | None
) -> Iterator[Blocker]:
    if str(doc.annotations.get(IGNORE_HEALTH, "")).lower() == "true":
        return
    ref = doc.ref

    def blocker(reason: str, cause: str) -> Blocker:
        return Blocker(ref, doc.path, doc.line, reason, cause)

    def need(kind: str, ns: str | None, name: str, why: str) -> Iterator[Blocker]:
        found = world.object_step(kind, ns, name)
        where = f"{kind} {ns + '/' if ns else ''}{name}"
        if found is None:
            yield blocker(f"{why}: {where} is deployed by no component", "missing")
        elif found > step:
            yield blocker(f"{why}: {where} is synced later ({found})", "later")

    spec = doc.data.get("spec") if isinstance(doc.data.get("spec"), dict) else {}
    custom = doc.group and doc.kind != "CustomResourceDefinition"
    if custom and not ws.schemas.core_file(doc.api_version, doc.kind).exists():
        providers = world.crds.get(f"{doc.group}/{doc.kind}", []) + world.crds.get(doc.group, [])
        known = [p for p in providers if p is not None]
        if providers and known and all(p > step for p in known):
            yield blocker(f"its CRD ({doc.group}) is installed later ({min(known)})", "later")
    if doc.kind in _ROUTES and doc.group == _GATEWAY_GROUP:
        for parent in spec.get("parentRefs") or []:
            if not isinstance(parent, dict) or not isinstance(parent.get("name"), str):
                continue
            kind = parent.get("kind", "Gateway")
            ns = parent.get("namespace", namespace)
            yield from need(kind, ns, parent["name"], "Progressing until its parent reports status")
        for rule in spec.get("rules") or []:
            for backend in (rule or {}).get("backendRefs") or []:
                if isinstance(backend, dict) and backend.get("kind", "Service") == "Service":
                    name = backend.get("name")
                    if isinstance(name, str):
                        ns = backend.get("namespace", namespace)
                        found = world.object_step("Service", ns, name)
                        if found is not None and found > step:
                            yield blocker(
                                f"ResolvedRefs=False until backend Service {ns}/{name} exists: "
                                f"synced later ({found})",
                                "later",
                            )
    if doc.kind == "Gateway" and doc.group == _GATEWAY_GROUP:
        for listener in spec.get("listeners") or []:
            tls = (listener or {}).get("tls") or {}
            for cert in tls.get("certificateRefs") or []:
                if not isinstance(cert, dict) or cert.get("kind", "Secret") != "Secret":
                    continue
                ns = cert.get("namespace", namespace)
                yield from _secret_blockers(
                    world,
                    blocker,
                    step,
                    namespace=ns,
                    name=str(cert.get("name")),
                    listener=str(listener.get("name")),
                )
    if doc.kind in {"ClusterIssuer", "Issuer"} and isinstance(spec.get("acme"), dict):
        yield blocker(
            "Ready only after ACME registration with "
            f"{spec['acme'].get('server', 'the ACME server')}",
            "outside",
        )
    if doc.kind == "Certificate" and doc.group == "cert-manager.io":
        issuer = spec.get("issuerRef") or {}
        key = (
            str(issuer.get("kind", "Issuer")),
            None if issuer.get("kind") == "ClusterIssuer" else namespace,
            str(issuer.get("name")),
        )
        if key in world.acme_issuers:
            yield blocker(
                f"Ready only after {issuer.get('name')} solves an ACME challenge", "outside"
            )
    if doc.kind == "ScaledObject" and doc.group == "keda.sh":
        for trigger in spec.get("triggers") or []:
            meta = (trigger or {}).get("metadata") or {}
            if trigger.get("type") != "rabbitmq" or meta.get("mode") not in _RABBITMQ_QUEUE_MODES:
                continue
            queue = meta.get("queueName")
            if not isinstance(queue, str):
                continue
            declared = world.queues.get(queue)
            if declared is None:
                yield blocker(
                    f"Ready=False: KEDA's RabbitMQ scaler fails on queue {queue!r}, which no "
                    "component declares (RabbitMQ definitions.queues)",
                    "missing",
                )
            elif declared > step:
                yield blocker(
                    f"Ready=False until queue {queue!r} is declared ({declared})", "later"
                )


def _secret_blockers(
    world: World,
    blocker: Callable[[str, str], Blocker],
    step: Step,
    *,
    namespace: str | None,
    name: str,
    listener: str,
) -> Iterator[Blocker]:
    why = f"listener {listener}: ResolvedRefs=False until Secret {namespace}/{name} exists"
    secret = world.object_step("Secret", namespace, name)
    if secret is not None:
        if secret > step:
            yield blocker(f"{why}: synced later ({secret})", "later")
        return
    issued = world.issued.get((namespace, name))
    if issued is None:
        yield blocker(f"{why}: no Secret or Certificate in the tree provides it", "missing")
        return
    cert_step, acme, temporary = issued
    if cert_step > step:
        yield blocker(f"{why}: its Certificate is synced later ({cert_step})", "later")
    elif acme and not temporary:
        yield blocker(
            f"{why}: issued by ACME (outside the cluster); annotate the Certificate "
            f'{TEMPORARY_CERTIFICATE}: "true" for a stand-in',
            "outside",
        )


# -- reporting --------------------------------------------------------------------------------


def rows(sim: Simulation) -> list[tuple[str, str, str, str]]:
    """(step, application, health, why) in sync order; after a stall, later steps never start."""
    stall = sim.stalled_at
    out = []
    for app in sim.apps:
        if app.blockers:
            for b in app.blockers:
                out.append((str(app.step), app.name, f"stalls ({b.cause})", f"{b.obj}: {b.reason}"))
        elif stall is not None and app.step > stall.step:
            out.append((str(app.step), app.name, "not reached", f"waits for {stall.name}"))
        else:
            out.append((str(app.step), app.name, "Healthy", ""))
    return out


def summary(sim: Simulation) -> str:
    stall = sim.stalled_at
    if stall is None:
        return f"{len(sim.apps)} Applications: every step can turn Healthy"
    b = stall.blockers[0]
    return (
        f"the bring-up stalls at {stall.step}: {stall.name} cannot turn Healthy "
        f"({b.obj}: {b.reason})"
    )
