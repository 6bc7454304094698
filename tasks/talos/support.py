"""Which versions work together: the support table and the checks ``talos.preflight`` makes.

Every row names where it comes from. The Talos rows are upstream's own numbers (the same
constants ``talosctl upgrade`` checks node-side), so a pair refused here is one Talos would
refuse or not test. Cilium and Argo CD publish the Kubernetes versions they e2e-test; a version
below that list is unsupported, one above it is untested (a warning, as their docs say newer
versions "depend on the backward compatibility offered by Kubernetes"). A release the table has
no row for is a warning naming the page to check, never a silent pass.

Pure: facts in (spec versions, and what the running cluster reports), findings out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

Minor = tuple[int, int]
Triple = tuple[int, int, int]

TALOS_SOURCE = "siderolabs/talos pkg/machinery/compatibility/talos1NN/talos1NN.go"
CILIUM_SOURCE = (
    "cilium/cilium Documentation/network/kubernetes/compatibility.rst at the release tag"
)
CILIUM_GATEWAY_SOURCE = "cilium/cilium Documentation/network/servicemesh/gateway-api (installation)"
ARGOCD_SOURCE = "argoproj/argo-cd docs/operator-manual/tested-kubernetes-versions.md"


@dataclass(frozen=True)
class TalosRow:
    """One Talos minor: the Kubernetes it supports and the hosts it upgrades from."""

    kubernetes_min: Triple
    #: Exclusive: upstream's MaximumKubernetesVersion is ``1.N.99``, i.e. below 1.(N+1).0.
    kubernetes_below: Triple
    upgrade_from: Triple
    downgrade_below: Triple


#: From the talos1NN packages (MinimumKubernetesVersion, MaximumKubernetesVersion,
#: MinimumHostUpgradeVersion, MaximumHostDowngradeVersion).
TALOS: Mapping[Minor, TalosRow] = {
    (1, 11): TalosRow((1, 29, 0), (1, 35, 0), (1, 9, 0), (1, 13, 0)),
    (1, 12): TalosRow((1, 30, 0), (1, 36, 0), (1, 10, 0), (1, 14, 0)),
    (1, 13): TalosRow((1, 31, 0), (1, 37, 0), (1, 11, 0), (1, 15, 0)),
    (1, 14): TalosRow((1, 32, 0), (1, 38, 0), (1, 12, 0), (1, 16, 0)),
    (1, 15): TalosRow((1, 33, 0), (1, 39, 0), (1, 13, 0), (1, 17, 0)),
}

#: Kubernetes minors each Cilium release e2e-tests (compatibility.rst at v1.18.14 and v1.19.3).
#: Below the list is refused (the current docs: older versions "do not have Cilium support").
CILIUM_KUBERNETES: Mapping[Minor, tuple[Minor, ...]] = {
    (1, 18): ((1, 30), (1, 31), (1, 32), (1, 33)),
    (1, 19): ((1, 32), (1, 33), (1, 34), (1, 35)),
}

#: The Gateway API release each Cilium release is conformance-tested against.
CILIUM_GATEWAY_API: Mapping[Minor, Minor] = {
    (1, 18): (1, 3),
}

#: Kubernetes minors each Argo CD release is tested with.
ARGOCD_KUBERNETES: Mapping[Minor, tuple[Minor, ...]] = {
    (3, 0): ((1, 29), (1, 30), (1, 31), (1, 32)),
    (3, 1): ((1, 31), (1, 32), (1, 33), (1, 34)),
    (3, 2): ((1, 31), (1, 32), (1, 33), (1, 34)),
}


class Level(Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    pair: str
    level: Level
    detail: str
    #: What to do about it: the supported range and the order to upgrade in.
    fix: str = ""


@dataclass(frozen=True)
class Versions:
    """The versions a check compares: what the spec pins and what the cluster runs."""

    talos: str
    kubernetes: str
    cilium: str
    gateway_api: str
    argocd: str | None = None
    talosctl: str | None = None
    #: Node name -> Talos version it runs (empty: the cluster was not asked).
    running_talos: Mapping[str, str] = field(default_factory=dict)
    running_kubernetes: str | None = None


_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse(version: str) -> Triple:
    match = _VERSION.match(version.strip())
    if not match:
        raise ValueError(f"not a version: {version!r}")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def minor_of(version: str) -> Minor:
    major, minor, _ = parse(version)
    return major, minor


def show(v: Triple | Minor) -> str:
    return ".".join(str(p) for p in v)


def talos_for_kubernetes(kubernetes: str) -> list[Minor]:
    """The Talos minors (from the table) that support ``kubernetes``."""
    k = parse(kubernetes)
    return [m for m, row in sorted(TALOS.items()) if row.kubernetes_min <= k < row.kubernetes_below]


def check_talos_kubernetes(talos: str, kubernetes: str, *, pair: str) -> Finding:
    row = TALOS.get(minor_of(talos))
    if row is None:
        return Finding(
            pair,
            Level.WARN,
            f"Talos {talos}: no row in the support table",
            f"check {TALOS_SOURCE} and add it to tasks/talos/support.py",
        )
    k = parse(kubernetes)
    supported = (
        f"Talos {show(minor_of(talos))} supports Kubernetes {show(row.kubernetes_min)} "
        f"up to (not including) {show(row.kubernetes_below)}"
    )
    if k < row.kubernetes_min:
        return Finding(
            pair,
            Level.FAIL,
            f"Kubernetes {kubernetes} is too old for Talos {talos}",
            f"{supported}; upgrade Kubernetes first (`inv talos.upgrade-k8s`), then Talos",
        )
    if k >= row.kubernetes_below:
        talos_minors = ", ".join(show(m) for m in talos_for_kubernetes(kubernetes)) or "none listed"
        return Finding(
            pair,
            Level.FAIL,
            f"Kubernetes {kubernetes} is too new for Talos {talos}",
            f"{supported}; Talos with Kubernetes {show(k[:2])}: {talos_minors}. "
            "Upgrade Talos first (`inv talos.upgrade`), then Kubernetes (`inv talos.upgrade-k8s`)",
        )
    return Finding(pair, Level.OK, f"Talos {talos} supports Kubernetes {kubernetes}")


def check_talos_upgrade(node: str, running: str, target: str) -> Finding:
    pair = f"Talos upgrade path ({node})"
    if parse(running) == parse(target):
        return Finding(pair, Level.OK, f"{node} runs Talos {running}")
    row = TALOS.get(minor_of(target))
    if row is None:
        return Finding(
            pair,
            Level.WARN,
            f"Talos {target}: no row in the support table",
            f"check {TALOS_SOURCE}",
        )
    host = parse(running)
    if host < row.upgrade_from:
        return Finding(
            pair,
            Level.FAIL,
            f"{node} runs Talos {running}: too old to upgrade to {target} in one step",
            f"Talos {show(minor_of(target))} upgrades from {show(row.upgrade_from)} or newer; "
            "upgrade through each minor in turn (latest patch of each), pinning it in the spec",
        )
    if host >= row.downgrade_below:
        return Finding(
            pair,
            Level.FAIL,
            f"{node} runs Talos {running}: too new to downgrade to {target}",
            f"Talos {show(minor_of(target))} accepts hosts below {show(row.downgrade_below)}",
        )
    if abs(host[1] - parse(target)[1]) > 1:
        return Finding(
            pair,
            Level.WARN,
            f"{node}: Talos {running} -> {target} skips a minor",
            "upstream tests migrations between adjacent minors only; prefer one minor at a time",
        )
    return Finding(pair, Level.OK, f"{node}: Talos {running} -> {target}")


def check_talosctl(client: str, servers: Iterable[str], target: str) -> Finding:
    """Toolkit policy: talosctl within one minor of every node and of the target, as talosctl
    and Talos share their API machinery and upstream tests adjacent minors only."""
    pair = "talosctl client vs Talos"
    c = minor_of(client)
    far = sorted(
        {s for s in [*servers, target] if abs(minor_of(s)[1] - c[1]) > 1 or minor_of(s)[0] != c[0]}
    )
    if far:
        return Finding(
            pair,
            Level.FAIL,
            f"talosctl {client} is more than one minor from Talos {', '.join(far)}",
            f"install talosctl {target} (the spec's versions.tools.talosctl), then re-run",
        )
    if c < minor_of(target):
        return Finding(
            pair,
            Level.WARN,
            f"talosctl {client} is older than the target Talos {target}",
            f"install talosctl {target} before upgrading",
        )
    return Finding(pair, Level.OK, f"talosctl {client} manages Talos {target}")


def _tested(  # noqa: PLR0917 (one row of the table, named in order)
    pair: str,
    name: str,
    version: str,
    kubernetes: str,
    table: Mapping[Minor, tuple[Minor, ...]],
    source: str,
) -> Finding:
    tested = table.get(minor_of(version))
    if tested is None:
        return Finding(
            pair,
            Level.WARN,
            f"{name} {version}: no row in the support table",
            f"check {source} and add it to tasks/talos/support.py",
        )
    k = minor_of(kubernetes)
    listed = (
        f"{name} {show(minor_of(version))} is tested with Kubernetes "
        f"{show(tested[0])} to {show(tested[-1])}"
    )
    if k < tested[0]:
        return Finding(
            pair,
            Level.FAIL,
            f"Kubernetes {kubernetes} is older than {name} {version} supports",
            f"{listed}; upgrade Kubernetes first or pin an older {name}",
        )
    if k > tested[-1]:
        return Finding(
            pair,
            Level.WARN,
            f"Kubernetes {kubernetes} is newer than {name} {version} was tested with",
            f"{listed}; upgrade {name} to a release that lists {show(k)}",
        )
    return Finding(pair, Level.OK, f"{name} {version} is tested with Kubernetes {show(k)}")


def check_cilium_kubernetes(
    cilium: str, kubernetes: str, *, pair: str = "Cilium vs Kubernetes"
) -> Finding:
    return _tested(pair, "Cilium", cilium, kubernetes, CILIUM_KUBERNETES, CILIUM_SOURCE)


def check_argocd_kubernetes(
    argocd: str, kubernetes: str, *, pair: str = "Argo CD vs Kubernetes"
) -> Finding:
    return _tested(pair, "Argo CD", argocd, kubernetes, ARGOCD_KUBERNETES, ARGOCD_SOURCE)


def check_cilium_gateway_api(cilium: str, gateway_api: str) -> Finding:
    pair = "Cilium vs Gateway API CRDs"
    wanted = CILIUM_GATEWAY_API.get(minor_of(cilium))
    if wanted is None:
        return Finding(
            pair,
            Level.WARN,
            f"Cilium {cilium}: no Gateway API row in the support table",
            f"check {CILIUM_GATEWAY_SOURCE} for the CRD release it needs",
        )
    have = minor_of(gateway_api)
    if have < wanted:
        return Finding(
            pair,
            Level.FAIL,
            f"Gateway API CRDs {gateway_api} are older than Cilium {cilium} needs",
            f"Cilium {show(minor_of(cilium))} is conformance-tested with Gateway API "
            f"{show(wanted)}: pin versions.gateway_api to {show(wanted)}.x",
        )
    if have > wanted:
        return Finding(
            pair,
            Level.WARN,
            f"Gateway API CRDs {gateway_api} are newer than Cilium {cilium} was tested with",
            f"Cilium {show(minor_of(cilium))} is conformance-tested with "
            f"Gateway API {show(wanted)}",
        )
    return Finding(pair, Level.OK, f"Cilium {cilium} with Gateway API {gateway_api}")


def check_kubernetes_step(running: str, target: str) -> Finding:
    """Kubernetes moves one minor per upgrade (its version-skew policy for the control plane)."""
    pair = "Kubernetes upgrade step"
    r, t = minor_of(running), minor_of(target)
    if t < r:
        return Finding(
            pair,
            Level.FAIL,
            f"the spec pins Kubernetes {target}, older than the running {running}",
            "Kubernetes does not downgrade; pin the running version or newer",
        )
    if t[1] - r[1] > 1:
        steps = ", ".join(f"{t[0]}.{m}" for m in range(r[1] + 1, t[1] + 1))
        return Finding(
            pair,
            Level.FAIL,
            f"Kubernetes {running} -> {target} skips a minor",
            f"upgrade one minor at a time: pin and run `inv talos.upgrade-k8s` for {steps}",
        )
    return Finding(pair, Level.OK, f"Kubernetes {running} -> {target}")


class Purpose(Enum):
    """What the check is for: it decides which ordering problems stop the run."""

    CHECK = "check"
    BOOTSTRAP = "bootstrap"
    UPGRADE = "upgrade"
    UPGRADE_K8S = "upgrade-k8s"


def _soften(finding: Finding, fatal: bool) -> Finding:
    """A failure that only matters to another operation is a warning for this one."""
    if finding.level is Level.FAIL and not fatal:
        return Finding(finding.pair, Level.WARN, finding.detail, finding.fix)
    return finding


def assess(v: Versions, purpose: Purpose = Purpose.CHECK) -> list[Finding]:
    """Every pair the versions allow checking: the spec's own pins, then the spec against what
    the cluster runs. The order rule (Talos before Kubernetes) shows in which pairs stop which
    operation: a Talos upgrade needs the new Talos to run today's Kubernetes; a Kubernetes
    upgrade needs every node's Talos to run the new Kubernetes."""
    found = [
        check_talos_kubernetes(v.talos, v.kubernetes, pair="Talos vs Kubernetes (spec)"),
        check_cilium_kubernetes(v.cilium, v.kubernetes),
        check_cilium_gateway_api(v.cilium, v.gateway_api),
    ]
    if v.argocd:
        found.append(check_argocd_kubernetes(v.argocd, v.kubernetes))
    if v.talosctl:
        found.append(check_talosctl(v.talosctl, v.running_talos.values(), v.talos))
    for node, running in sorted(v.running_talos.items()):
        found.append(
            _soften(check_talos_upgrade(node, running, v.talos), purpose is not Purpose.UPGRADE_K8S)
        )
        if v.running_kubernetes:
            found.append(
                _soften(
                    check_talos_kubernetes(
                        v.talos,
                        v.running_kubernetes,
                        pair=f"target Talos vs running Kubernetes ({node})",
                    ),
                    purpose is Purpose.UPGRADE,
                )
            )
        found.append(
            _soften(
                check_talos_kubernetes(
                    running, v.kubernetes, pair=f"running Talos vs target Kubernetes ({node})"
                ),
                purpose is Purpose.UPGRADE_K8S,
            )
        )
    if v.running_kubernetes:
        found.append(
            _soften(
                check_kubernetes_step(v.running_kubernetes, v.kubernetes),
                purpose is Purpose.UPGRADE_K8S,
            )
        )
    return found


def failures(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.level is Level.FAIL]
