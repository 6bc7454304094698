"""Capacity: do the resource requests in ``deploy/`` fit the cluster and the strategy's budget?

The strategy sizes two 8 GB workers: about 2.5 GB for observability, 1.5 GB for stateful services,
0.5 GB for identity, 0.8 GB for the applications, 0.3 GB for operators, and 0.4 GB of system
overhead per node. :func:`capacity_report` sums the memory requests of every component, per layer,
per budget category and per node role, and lists every way the tree does not fit.

Requests come from two places, since helm cannot render offline:

- Kustomize components are rendered (the ``render`` callable; :func:`kustomize_renderer` runs the
  real ``kubectl kustomize``) and every workload is counted: Deployment, StatefulSet, ReplicaSet,
  Argo Rollout and CloudNativePG Cluster as replicas x pod requests, DaemonSets once per node they
  can run on. Jobs are transient and not counted. A component with remote resources is skipped
  (it cannot be rendered offline) and listed in ``skipped``.
- Wrapper Helm charts are read from their values files: each ``resources`` block with memory or
  cpu requests is one workload, times a sibling ``replicas``/``replicaCount``/``instances``; once
  per node when a sibling says ``mode: daemonset`` or it sits under a DaemonSet chart's key. Blocks
  under a ``*job*`` key (install hooks) are not counted. Charts that leave resources unset count
  as zero: the report then under-counts, never over-counts.

A pod lands on the workers unless it is a DaemonSet that tolerates the control plane's taint.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tasks.core.config import ClusterSpec
    from tasks.core.runner import Runner

Manifest = dict[str, Any]
Render = Callable[[Path], list[Manifest]]

LAYERS = ("infrastructure", "platform", "observability", "services")
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"
#: Values keys of subcharts that deploy a DaemonSet without saying so next to their resources.
DAEMONSET_VALUE_KEYS = frozenset({"prometheus-node-exporter"})
_REPLICA_KEYS = ("replicas", "replicaCount", "instances")
_SCALED_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "Rollout"})
_MEMORY_UNITS = {
    "": 1 / 2**20,
    "k": 1e3 / 2**20,
    "M": 1e6 / 2**20,
    "G": 1e9 / 2**20,
    "T": 1e12 / 2**20,
    "Ki": 1 / 2**10,
    "Mi": 1.0,
    "Gi": 2**10,
    "Ti": 2**20,
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$")


@dataclass(frozen=True)
class Budget:
    """MiB per budget category, the system overhead per node, and which component is which."""

    categories: Mapping[str, int]
    node_overhead_mib: int
    #: Component name -> category; components not listed take their layer's category.
    component_category: Mapping[str, str]
    layer_category: Mapping[str, str]

    def category(self, layer: str, component: str) -> str | None:
        return self.component_category.get(component, self.layer_category.get(layer))


#: The "Local Kubernetes Strategy (Talos)" budget (GB read as GiB).
STRATEGY_BUDGET = Budget(
    categories={
        "observability": 2560,
        "stateful": 1536,
        "identity": 512,
        "apps": 819,
        "operators": 307,
    },
    node_overhead_mib=410,
    component_category={
        "cnpg-operator": "operators",
        "barman-cloud": "operators",
        "postgres": "stateful",
        "redis": "stateful",
        "rabbitmq": "stateful",
        "zitadel": "identity",
        "openfga": "identity",
    },
    layer_category={
        "infrastructure": "operators",
        "observability": "observability",
        "services": "apps",
    },
)


@dataclass(frozen=True)
class Workload:
    """Pods of one kind that request the same resources."""

    layer: str
    component: str
    category: str
    name: str
    replicas: int
    memory_mib: float
    cpu_millicores: float
    per_node: bool = False
    tolerates_control_plane: bool = False


@dataclass(frozen=True)
class CapacityReport:
    workloads: list[Workload]
    #: MiB requested per layer, per budget category and per node role.
    by_layer: dict[str, float]
    by_category: dict[str, float]
    by_role: dict[str, float]
    #: MiB allocatable per node role (memory minus the per-node overhead, all nodes of the role).
    allocatable: dict[str, float]
    budget: Mapping[str, int]
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """A human summary: categories against budget, roles against allocatable memory."""
        out = ["budget category   requested / budget (MiB)"]
        for name in sorted(set(self.budget) | set(self.by_category)):
            limit = self.budget.get(name)
            shown = f"{limit}" if limit is not None else "-"
            out.append(f"  {name:<15} {self.by_category.get(name, 0):>8.0f} / {shown}")
        out.append("node role         requested / allocatable (MiB)")
        for role in sorted(self.allocatable):
            out.append(
                f"  {role:<15} {self.by_role.get(role, 0):>8.0f} / {self.allocatable[role]:.0f}"
            )
        out += [f"  skipped (remote resources): {s}" for s in self.skipped]
        return out


def parse_memory_mib(quantity: object) -> float:
    """A Kubernetes memory quantity (``128Mi``, ``1G``, ``536870912``) in MiB."""
    match = _QUANTITY.match(str(quantity).strip())
    if not match or match.group(2) == "m":
        raise ValueError(f"{quantity!r} is not a memory quantity (e.g. 128Mi, 1Gi)")
    return float(match.group(1)) * _MEMORY_UNITS[match.group(2) or ""]


def parse_cpu_millicores(quantity: object) -> float:
    """A Kubernetes CPU quantity (``50m``, ``0.5``, ``2``) in millicores."""
    match = _QUANTITY.match(str(quantity).strip())
    if not match or match.group(2) not in (None, "m"):
        raise ValueError(f"{quantity!r} is not a CPU quantity (e.g. 50m, 0.5)")
    value = float(match.group(1))
    return value if match.group(2) == "m" else value * 1000


def capacity_report(
    deploy_dir: Path,
    spec: ClusterSpec,
    render: Render,
    budget: Budget = STRATEGY_BUDGET,
) -> CapacityReport:
    """Sum the requests of every component under ``deploy_dir`` against ``spec`` and ``budget``."""
    workloads: list[Workload] = []
    skipped: list[str] = []
    problems: list[str] = []
    for layer in LAYERS:
        for meta_path in sorted((deploy_dir / layer).glob("*/component.yaml")):
            directory = meta_path.parent
            meta = _load_yaml(meta_path)
            component = str(meta.get("name", directory.name)) if isinstance(meta, dict) else ""
            where = f"{layer}/{directory.name}"
            category = budget.category(layer, component)
            if category is None:
                problems.append(f"{where}: no budget category for component {component!r}")
                continue
            try:
                found = list(
                    _component_workloads(
                        directory, meta, render, _Owner(layer, component, category)
                    )
                )
            except _Remote:
                skipped.append(where)
                continue
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
                continue
            workloads += found
    return _summarise(workloads, spec, budget, skipped, problems)


def kustomize_renderer(runner: Runner) -> Render:
    """A ``render`` that runs ``kubectl kustomize DIR`` through the runner."""
    from tasks.core.runner import cmd

    def render(path: Path) -> list[Manifest]:
        out = runner.capture(cmd("kubectl", "kustomize", path, step=f"render {path}"))
        return [d for d in _yaml_documents(out) if isinstance(d, dict)]

    return render


# -- collection ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Owner:
    layer: str
    component: str
    category: str

    def workload(
        self,
        name: str,
        replicas: int,
        memory: float,
        cpu: float,
        *,
        per_node: bool = False,
        tolerates_control_plane: bool = False,
    ) -> Workload:
        return Workload(
            self.layer,
            self.component,
            self.category,
            name,
            replicas,
            memory,
            cpu,
            per_node=per_node,
            tolerates_control_plane=tolerates_control_plane,
        )


class _Remote(Exception):
    """The component pulls remote resources and cannot be rendered offline."""


def _yaml_documents(text: str) -> list[Any]:
    """Read-only sums need no round trip: libyaml's safe loader when built, else pure Python."""
    from tasks.core import yamldata

    return yamldata.fast_load_all(text)


def _load_yaml(path: Path) -> Any:
    documents = _yaml_documents(path.read_text())
    return documents[0] if documents else None


def _component_workloads(
    directory: Path, meta: Any, render: Render, owner: _Owner
) -> Iterator[Workload]:
    kustomization = directory / "kustomization.yaml"
    if kustomization.exists():
        if _has_remote_resources(directory):
            raise _Remote
        for doc in render(directory):
            yield from _manifest_workloads(doc, owner)
        return
    value_files = meta.get("valueFiles", []) if isinstance(meta, dict) else []
    for ref in value_files:
        name = str(ref).removeprefix("secrets://")
        if str(ref).startswith("secrets://"):
            # Resources are never secret; the encrypted file may not exist yet.
            continue
        values = _load_yaml(directory / name)
        if isinstance(values, dict):
            yield from _values_workloads(values, [], owner, name)


def _has_remote_resources(directory: Path) -> bool:
    for path in directory.rglob("kustomization.yaml"):
        data = _load_yaml(path)
        entries = data.get("resources", []) if isinstance(data, dict) else []
        if any("://" in str(e) for e in entries):
            return True
    return False


def _manifest_workloads(doc: Manifest, owner: _Owner) -> Iterator[Workload]:
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    name = f"{kind}/{(doc.get('metadata') or {}).get('name', '?')}"
    if kind in _SCALED_KINDS or kind == "DaemonSet":
        pod = (spec.get("template") or {}).get("spec") or {}
        memory, cpu = _pod_requests(pod, name)
        yield owner.workload(
            name,
            int(spec.get("replicas", 1)),
            memory,
            cpu,
            per_node=kind == "DaemonSet",
            tolerates_control_plane=_tolerates_control_plane(pod.get("tolerations") or []),
        )
    elif kind == "Cluster" and str(doc.get("apiVersion", "")).startswith("postgresql.cnpg.io/"):
        requests = (spec.get("resources") or {}).get("requests") or {}
        memory, cpu = _requests(requests, name)
        yield owner.workload(name, int(spec.get("instances", 1)), memory, cpu)


def _pod_requests(pod: Mapping[str, Any], name: str) -> tuple[float, float]:
    containers = list(pod.get("containers") or [])
    # Native sidecars (init containers that keep running) hold their requests for the pod's life.
    containers += [c for c in pod.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    memory = cpu = 0.0
    for container in containers:
        requests = (container.get("resources") or {}).get("requests") or {}
        m, c = _requests(requests, f"{name} container {container.get('name')}")
        memory, cpu = memory + m, cpu + c
    return memory, cpu


def _requests(requests: Mapping[str, Any], where: str) -> tuple[float, float]:
    try:
        memory = parse_memory_mib(requests["memory"]) if "memory" in requests else 0.0
        cpu = parse_cpu_millicores(requests["cpu"]) if "cpu" in requests else 0.0
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return memory, cpu


def _tolerates_control_plane(tolerations: list[Any]) -> bool:
    for t in tolerations:
        if not isinstance(t, dict):
            continue
        if t.get("operator") == "Exists" and not t.get("key"):
            return True
        if t.get("key") == CONTROL_PLANE_TAINT:
            return True
    return False


def _values_workloads(
    node: Mapping[str, Any], path: list[str], owner: _Owner, file: str
) -> Iterator[Workload]:
    if any("job" in part.lower() for part in path):
        return
    resources = node.get("resources")
    if isinstance(resources, dict) and isinstance(resources.get("requests"), dict):
        requests = resources["requests"]
        if "memory" in requests or "cpu" in requests:
            where = f"{file}: {'.'.join([*path, 'resources'])}"
            memory, cpu = _requests(requests, where)
            replicas = next(
                (int(node[k]) for k in _REPLICA_KEYS if isinstance(node.get(k), int)), 1
            )
            per_node = str(node.get("mode", "")).lower() == "daemonset" or any(
                part in DAEMONSET_VALUE_KEYS for part in path
            )
            yield owner.workload(
                where,
                replicas,
                memory,
                cpu,
                per_node=per_node,
                tolerates_control_plane=per_node
                and _tolerates_control_plane(node.get("tolerations") or []),
            )
    for key, child in node.items():
        if key != "resources" and isinstance(child, dict):
            yield from _values_workloads(child, [*path, str(key)], owner, file)


# -- summary -------------------------------------------------------------------------------------


def _summarise(
    workloads: list[Workload],
    spec: ClusterSpec,
    budget: Budget,
    skipped: list[str],
    problems: list[str],
) -> CapacityReport:
    workers, control_planes = spec.workers, spec.control_planes
    by_layer: dict[str, float] = {}
    by_category: dict[str, float] = {}
    by_role: dict[str, float] = {"worker": 0.0, "controlplane": 0.0}
    for w in workloads:
        on_workers = len(workers) * w.memory_mib if w.per_node else w.replicas * w.memory_mib
        on_cp = (
            len(control_planes) * w.memory_mib if w.per_node and w.tolerates_control_plane else 0
        )
        by_role["worker"] += on_workers
        by_role["controlplane"] += on_cp
        by_layer[w.layer] = by_layer.get(w.layer, 0.0) + on_workers + on_cp
        by_category[w.category] = by_category.get(w.category, 0.0) + on_workers + on_cp
    allocatable = {
        "worker": float(sum(n.memory_mib - budget.node_overhead_mib for n in workers)),
        "controlplane": float(sum(n.memory_mib - budget.node_overhead_mib for n in control_planes)),
    }
    for name, used in sorted(by_category.items()):
        limit = budget.categories.get(name)
        if limit is None:
            problems.append(f"category {name!r} has no budget")
        elif used > limit:
            problems.append(
                f"{name}: requests {used:.0f} MiB exceed the budget of {limit} MiB "
                f"(largest: {_largest(workloads, name)})"
            )
    for role, used in by_role.items():
        if used > allocatable[role]:
            problems.append(
                f"{role} nodes: requests {used:.0f} MiB exceed the {allocatable[role]:.0f} MiB "
                f"allocatable ({budget.node_overhead_mib} MiB overhead per node)"
            )
    largest_worker = max((n.memory_mib - budget.node_overhead_mib for n in workers), default=0)
    for w in workloads:
        if w.memory_mib > largest_worker:
            problems.append(
                f"{w.layer}/{w.component} {w.name}: one pod requests {w.memory_mib:.0f} MiB, "
                f"more than a worker's {largest_worker} MiB allocatable"
            )
    return CapacityReport(
        workloads=workloads,
        by_layer=by_layer,
        by_category=by_category,
        by_role=by_role,
        allocatable=allocatable,
        budget=budget.categories,
        skipped=skipped,
        problems=problems,
    )


def _largest(workloads: list[Workload], category: str) -> str:
    mine = [w for w in workloads if w.category == category]
    top = max(mine, key=lambda w: w.memory_mib * w.replicas)
    return f"{top.layer}/{top.component} {top.name} {top.memory_mib * top.replicas:.0f} MiB"
