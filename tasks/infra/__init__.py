"""``inv infra.*``: the libvirt network and the Talos VMs on the infra VM.

Thin tasks: they read options, config and the libvirt facts; :mod:`tasks.infra.ops` plans only
what differs (:mod:`tasks.infra.plan`) and hands the plan to the runner, so ``inv --dry infra.X``
prints every command and changes nothing.
The connection is config ``libvirt.uri`` (``INVOKE_LIBVIRT_URI``), passed to every virsh and
virt-install call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.tasks import task

from tasks.core import console, taskhelp
from tasks.core.errors import UserError
from tasks.core.lock import cluster_locked

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.config import ClusterSpec
    from tasks.core.runner import Runner
    from tasks.infra.facts import LibvirtFacts
    from tasks.infra.settings import InfraSettings

DEFAULT_STOP_TIMEOUT = 120

_ISO_HELP = "use this local Talos ISO instead of downloading one (offline alternative)"
_SHA_HELP = "expected SHA-256 of the ISO (default: the one recorded at its first download)"
_OFFLINE_HELP = "do not contact the Image Factory (needs --iso or an ISO already cached)"


def _setup(c: Context) -> tuple[ClusterSpec, InfraSettings, Runner]:
    from tasks.core import config
    from tasks.core.runner import Runner
    from tasks.infra.settings import load_settings

    spec = config.load(c)
    return spec, load_settings(c, spec), Runner.from_context(c)


def _facts(
    runner: Runner, spec: ClusterSpec, settings: InfraSettings, *, leases: bool = False
) -> LibvirtFacts:
    from tasks.infra import facts

    return facts.gather(runner, spec, settings, leases=leases)


@task(
    help={
        "iso": _ISO_HELP,
        "sha256": _SHA_HELP,
        "offline": _OFFLINE_HELP,
    }
)
@cluster_locked
def image(
    c: Context, iso: str | None = None, sha256: str | None = None, offline: bool = False
) -> None:
    """Compute the Image Factory schematic and fetch the Talos ISO into the cache."""
    from tasks.infra import ops

    spec, settings, runner = _setup(c)
    runner.converge(ops.image(spec, settings, iso=iso, sha256=sha256, offline=offline))


@task(help={"json": "print the checks as JSON instead of a table"})
def check(c: Context, json: bool = False) -> None:
    """Check the hypervisor (KVM, nested virt, RAM, pool space) and that the nodes are reachable."""
    from tasks.core.checks import failing, report
    from tasks.infra.check import TALOS_API_PORT, gather, route_fixes, verdict

    spec, settings, runner = _setup(c)
    facts = gather(runner, settings, spec)
    checks = verdict(facts, spec, settings)
    report(
        checks,
        title=f"infra.check ({settings.uri}, virt_type {settings.virt_type})",
        as_json=json,
    )
    if not json and not all(facts.reachable_nodes.values()):
        console.warn(
            f"Talos API port {TALOS_API_PORT} of the nodes does not answer from this machine. "
            "Once the VMs run, reach the node subnet in one of two ways:\n  "
            + "\n  ".join(route_fixes(spec, settings))
        )
    bad = failing(checks)
    if bad:
        raise UserError(
            f"{len(bad)} infra prerequisite(s) missing: {', '.join(x.name for x in bad)} "
            "(the fix for each is in the table)."
        )


@task(help={"yes": "replace an existing network whose definition differs from the spec"})
@cluster_locked
def network(c: Context, yes: bool = False) -> None:
    """Define, start and autostart the libvirt NAT network from the spec (idempotent)."""
    from tasks.infra import ops

    spec, settings, runner = _setup(c)
    runner.converge(ops.converge_network(spec, settings, _facts(runner, spec, settings), yes=yes))


@task(
    help={
        "iso": _ISO_HELP,
        "sha256": _SHA_HELP,
        "offline": _OFFLINE_HELP,
        "yes": "replace an existing network whose definition differs from the spec",
    }
)
@cluster_locked
def up(
    c: Context,
    iso: str | None = None,
    sha256: str | None = None,
    offline: bool = False,
    yes: bool = False,
) -> None:
    """ISO, pool, network and VMs: create what is missing, leave what exists, report drift."""
    from tasks.infra import ops

    spec, settings, runner = _setup(c)
    runner.converge(
        ops.up(
            spec,
            settings,
            iso=iso,
            sha256=sha256,
            offline=offline,
            yes=yes,
        )
    )


@task(help={"iso": _ISO_HELP})
@cluster_locked
def vms(c: Context, iso: str | None = None) -> None:
    """Create the node VMs that are missing (disks, domains) and report drift of the others."""
    from tasks.infra import ops
    from tasks.infra.iso import ensure_iso

    spec, settings, runner = _setup(c)
    found = (
        runner.converge(ensure_iso(spec, settings, local=iso, download_missing=False))
        if iso
        else None
    )
    facts = _facts(runner, spec, settings)
    runner.converge(ops.converge_vms(spec, settings, facts, iso=found, network_planned=False))


@task(help={"json": "print the VMs as JSON instead of a table"})
def status(c: Context, json: bool = False) -> None:
    """Show each node VM: state, vCPUs, RAM, MAC and DHCP lease."""
    spec, settings, runner = _setup(c)
    facts = _facts(runner, spec, settings, leases=True)
    rows = []
    for node in spec.nodes:
        domain = facts.domains.get(node.name)
        mac = domain.macs[0] if domain and domain.macs else node.mac
        rows.append(
            {
                "vm": node.name,
                "state": domain.info.state if domain else "absent",
                "vcpus": domain.info.vcpus if domain else None,
                "memory_mib": domain.info.memory_mib if domain else None,
                "mac": mac,
                "ip": facts.leases.get(mac),
            }
        )
    net = facts.network
    network_state = {
        "name": spec.network.name,
        "state": "absent" if net is None else ("active" if net.state.active else "inactive"),
        "autostart": bool(net and net.state.autostart),
    }
    if json:
        console.print_json({"uri": settings.uri, "network": network_state, "vms": rows})
        return
    console.table(
        ["VM", "state", "vCPU", "RAM (MiB)", "MAC", "IP lease"],
        [
            (
                r["vm"],
                r["state"],
                r["vcpus"] or "-",
                r["memory_mib"] or "-",
                r["mac"],
                r["ip"] or "-",
            )
            for r in rows
        ],
        title=f"{settings.uri}: network {spec.network.name} {network_state['state']}",
    )


@task
@cluster_locked
def start(c: Context) -> None:
    """Start every node VM that is not running."""
    from tasks.infra import ops

    spec, settings, runner = _setup(c)
    runner.converge(ops.start(spec, settings, _facts(runner, spec, settings)))


@task(
    help={
        "timeout": f"seconds to wait for the guests to power off (default {DEFAULT_STOP_TIMEOUT})",
        "force": "power off the guests still running when the timeout expires",
    }
)
@cluster_locked
def stop(c: Context, timeout: str | None = None, force: bool = False) -> None:
    """Shut the node VMs down gracefully (ACPI), waiting up to a timeout; --force powers off."""
    from tasks.infra import ops

    limit = taskhelp.seconds("timeout", timeout, DEFAULT_STOP_TIMEOUT, allow_zero=True)
    spec, settings, runner = _setup(c)
    runner.converge(
        ops.stop(spec, settings, _facts(runner, spec, settings), limit=limit, force=force)
    )


@task(help={"yes": "do not ask for confirmation (required without a terminal)"})
@cluster_locked
def destroy(c: Context, yes: bool = False) -> None:
    """Remove the node VMs, the disk volumes the toolkit made, the network (ISO cache stays)."""
    from tasks.infra import ops

    spec, settings, runner = _setup(c)
    runner.converge(ops.destroy(spec, settings, _facts(runner, spec, settings), yes=yes))


@task(help={"stop": "stop the tunnel this task started"})
def tunnel(c: Context, stop: bool = False) -> None:
    """Route the node subnet through the infra VM's SSH (sshuttle), from the dev VM."""
    from tasks.infra import ops

    spec, settings, runner = _setup(c)
    if stop:
        runner.converge(ops.stop_tunnel(settings))
    else:
        runner.converge(ops.start_tunnel(spec, settings))


@task(name="console", help={"node": "the node (VM) name from the cluster spec"})
def console_(c: Context, node: str) -> None:
    """Attach to a node's serial console (virsh console; leave with Ctrl+])."""
    from tasks.core.taskhelp import asked_for_help

    if asked_for_help(node, "infra", console_):
        return
    from tasks.infra import ops

    spec, settings, runner = _setup(c)
    spec.node(node)
    runner.converge(ops.attach_console(settings, node))


ns = Collection(
    "infra", check, image, network, up, vms, status, start, stop, destroy, console_, tunnel
)
