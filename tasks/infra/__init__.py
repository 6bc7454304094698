"""``inv infra.*``: the libvirt network and the Talos VMs on the infra VM.

Every task reads the spec and the libvirt facts first, plans only what differs (tasks/infra/plan.py)
and hands the plan to the runner, so ``inv --dry infra.X`` prints every command and changes nothing.
The connection is config ``libvirt.uri`` (``INVOKE_LIBVIRT_URI``), passed to every virsh and
virt-install call.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.tasks import task

from tasks.core import console
from tasks.core.errors import UserError

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.config import ClusterSpec
    from tasks.core.runner import Runner
    from tasks.infra.facts import LibvirtFacts
    from tasks.infra.iso import Iso
    from tasks.infra.settings import InfraSettings

DEFAULT_STOP_TIMEOUT = 120
POLL_SECONDS = 1.0

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


def _image(
    spec: ClusterSpec,
    settings: InfraSettings,
    runner: Runner,
    *,
    iso: str | None,
    sha256: str | None,
    offline: bool,
) -> Iso:
    from pathlib import Path

    from tasks.infra.download import normalize_sha256
    from tasks.infra.factory import confirm_schematic, schematics_url
    from tasks.infra.iso import ensure_iso
    from tasks.infra.schematic import installer_image, schematic_id

    # Bad options fail before anything slow (the Image Factory round trip).
    if sha256:
        normalize_sha256(sha256)
    if iso and not Path(iso).expanduser().is_file():
        raise UserError(f"--iso {iso}: no such file.")
    extensions = list(spec.image_factory.extensions)
    sid = schematic_id(extensions)
    console.step(f"Image Factory schematic {sid}")
    console.info(f"extensions: {', '.join(extensions) or 'none'}")
    console.info(f"installer: {installer_image(spec)}")
    if offline:
        console.info("offline: the schematic ID is not confirmed with the factory")
    elif runner.dry:
        runner.say(f"# POST {schematics_url(spec.image_factory.url)}  (confirm schematic {sid})")
    else:
        confirmation = confirm_schematic(spec.image_factory.url, extensions)
        if confirmation.remote_id:
            console.ok("the Image Factory computes the same schematic ID")
        else:
            console.warn(
                f"{confirmation.problem}; using the locally computed ID "
                "(pass --offline to skip this check)"
            )
    found = ensure_iso(
        spec, settings, runner, local=iso, sha256=sha256, download_missing=not offline
    )
    what = {
        "local": "using the local ISO",
        "cached": "ISO already cached",
        "downloaded": "ISO downloaded",
        "planned": "would download the ISO",
    }[found.source]
    console.ok(f"{what}: {found.path}" + (f" (sha256 {found.sha256})" if found.sha256 else ""))
    return found


@task(
    help={
        "iso": _ISO_HELP,
        "sha256": _SHA_HELP,
        "offline": _OFFLINE_HELP,
    }
)
def image(
    c: Context, iso: str | None = None, sha256: str | None = None, offline: bool = False
) -> None:
    """Compute the Image Factory schematic and fetch the Talos ISO into the cache."""
    spec, settings, runner = _setup(c)
    _image(spec, settings, runner, iso=iso, sha256=sha256, offline=offline)


@task(help={"json": "print the checks as JSON instead of a table"})
def check(c: Context, json: bool = False) -> None:
    """Check this host can run the spec's VMs: tools, KVM, libvirtd, RAM, disk."""
    from tasks.doctor import failing, report
    from tasks.infra.check import gather, verdict

    spec, settings, runner = _setup(c)
    checks = verdict(gather(runner, settings), spec, settings)
    report(
        checks,
        title=f"infra.check ({settings.uri}, virt_type {settings.virt_type})",
        as_json=json,
    )
    bad = failing(checks)
    if bad:
        raise UserError(
            f"{len(bad)} infra prerequisite(s) missing: {', '.join(x.name for x in bad)} "
            "(the fix for each is in the table)."
        )


def _converge_network(
    spec: ClusterSpec, settings: InfraSettings, runner: Runner, facts: LibvirtFacts, *, yes: bool
) -> None:
    from tasks.core.runner import confirm
    from tasks.infra.plan import plan_network

    name = spec.network.name
    console.step(f"network {name} ({spec.network.cidr}, bridge {spec.network.bridge})")
    planned = plan_network(spec, settings, facts)
    if planned.differences:
        console.warn(
            f"network {name} exists with a different definition:\n  "
            + "\n  ".join(planned.differences)
        )
        if not runner.dry:
            confirm(
                f"Replace network {name}? VMs attached to it lose their link until restarted.",
                yes=yes,
            )
        planned = plan_network(spec, settings, facts, replace=True)
    if not planned.steps:
        console.ok(f"network {name} matches the spec: nothing to do")
        return
    runner.execute(planned.steps)
    if not runner.dry:
        console.ok(f"network {name} defined, started and autostarted")


@task(help={"yes": "replace an existing network whose definition differs from the spec"})
def network(c: Context, yes: bool = False) -> None:
    """Define, start and autostart the libvirt NAT network from the spec (idempotent)."""
    spec, settings, runner = _setup(c)
    _converge_network(spec, settings, runner, _facts(runner, spec, settings), yes=yes)


def _converge_vms(
    spec: ClusterSpec,
    settings: InfraSettings,
    runner: Runner,
    facts: LibvirtFacts,
    *,
    iso: Iso | None,
    network_planned: bool,
) -> None:
    from tasks.infra.facts import known_os_variants
    from tasks.infra.iso import cached_iso_path
    from tasks.infra.plan import OS_VARIANT, OS_VARIANT_FALLBACK, plan_vms

    console.step(f"VMs {', '.join(n.name for n in spec.nodes)}")
    iso_path = iso.path if iso else cached_iso_path(spec, settings)
    planned = plan_vms(spec, settings, facts, iso=iso_path)
    if planned.created:
        if iso is None and not iso_path.is_file() and not runner.dry:
            raise UserError(
                f"No Talos ISO at {iso_path}: run `inv infra.image` first, or pass --iso PATH."
            )
        usable = facts.network is not None and facts.network.state.active
        if facts.reachable and not usable and not network_planned:
            what = "is not active" if facts.network else "does not exist"
            raise UserError(
                f"The network {spec.network.name} {what} at {settings.uri}: "
                "run `inv infra.network` (or `inv infra.up`) first."
            )
        variants = known_os_variants(runner)
        if variants and OS_VARIANT not in variants:
            planned = plan_vms(spec, settings, facts, iso=iso_path, os_variant=OS_VARIANT_FALLBACK)
    for line in planned.drift:
        console.warn(f"drift (left as is; destroy and re-create to apply the spec): {line}")
    if not planned.steps:
        console.ok("every VM exists: nothing to do")
        return
    runner.execute(planned.steps)
    if not runner.dry:
        console.ok(f"created {', '.join(planned.created)}")


@task(
    help={
        "iso": _ISO_HELP,
        "sha256": _SHA_HELP,
        "offline": _OFFLINE_HELP,
        "yes": "replace an existing network whose definition differs from the spec",
    }
)
def up(
    c: Context,
    iso: str | None = None,
    sha256: str | None = None,
    offline: bool = False,
    yes: bool = False,
) -> None:
    """ISO, network and VMs: create what is missing, leave what exists, report drift."""
    spec, settings, runner = _setup(c)
    found = _image(spec, settings, runner, iso=iso, sha256=sha256, offline=offline)
    facts = _facts(runner, spec, settings)
    _converge_network(spec, settings, runner, facts, yes=yes)
    _converge_vms(spec, settings, runner, facts, iso=found, network_planned=True)


@task(help={"iso": _ISO_HELP})
def vms(c: Context, iso: str | None = None) -> None:
    """Create the node VMs that are missing (disks, domains) and report drift of the others."""
    from tasks.infra.iso import ensure_iso

    spec, settings, runner = _setup(c)
    found = ensure_iso(spec, settings, runner, local=iso, download_missing=False) if iso else None
    facts = _facts(runner, spec, settings)
    _converge_vms(spec, settings, runner, facts, iso=found, network_planned=False)


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
def start(c: Context) -> None:
    """Start every node VM that is not running."""
    from tasks.infra.plan import plan_start

    spec, settings, runner = _setup(c)
    steps = plan_start(spec, settings, _facts(runner, spec, settings))
    if not steps:
        console.ok("every VM is running: nothing to do")
        return
    runner.execute(steps)


@task(
    help={
        "timeout": f"seconds to wait for the guests to power off (default {DEFAULT_STOP_TIMEOUT})",
        "force": "power off the guests still running when the timeout expires",
    }
)
def stop(c: Context, timeout: str | None = None, force: bool = False) -> None:
    """Shut the node VMs down gracefully (ACPI), waiting up to a timeout; --force powers off."""
    from tasks.infra.facts import domain_state
    from tasks.infra.plan import plan_power_off, plan_shutdown, running_nodes

    try:
        limit = float(timeout) if timeout is not None else float(DEFAULT_STOP_TIMEOUT)
    except ValueError:
        raise UserError(f"--timeout {timeout!r} is not a number of seconds.", code=2) from None
    if not 0 <= limit < float("inf"):  # also rejects nan, which would wait forever
        raise UserError(f"--timeout {timeout!r} must be a finite, non-negative number.", code=2)
    spec, settings, runner = _setup(c)
    names = running_nodes(spec, _facts(runner, spec, settings))
    if not names:
        console.ok("no VM is running: nothing to do")
        return
    runner.execute(plan_shutdown(settings, names))
    if runner.dry:
        runner.say(f"# wait up to {limit:.0f}s for {', '.join(names)} to shut off")
        if force:
            runner.execute(plan_power_off(settings, names))
        return
    deadline = time.monotonic() + limit
    remaining = list(names)
    with console.waiting(f"waiting up to {limit:.0f}s for {', '.join(names)} to shut off"):
        while True:
            remaining = [
                n for n in remaining if domain_state(runner, settings.uri, n) != "shut off"
            ]
            if not remaining or time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS)
    if not remaining:
        console.ok(f"shut off: {', '.join(names)}")
        return
    if not force:
        raise UserError(
            f"Still running after {limit:.0f}s: {', '.join(remaining)}. A guest that ignores "
            "ACPI (e.g. no OS yet) never shuts down by itself: run `inv infra.stop --force` to "
            "power it off, or look at `inv infra.console NODE`."
        )
    console.warn(f"powering off after {limit:.0f}s: {', '.join(remaining)}")
    runner.execute(plan_power_off(settings, remaining))


@task(help={"yes": "do not ask for confirmation (required without a terminal)"})
def destroy(c: Context, yes: bool = False) -> None:
    """Remove the node VMs, their disks and the network (the cached ISO stays)."""
    from tasks.core.runner import confirm
    from tasks.infra.plan import plan_destroy

    spec, settings, runner = _setup(c)
    steps = plan_destroy(spec, settings, _facts(runner, spec, settings))
    if not steps:
        console.ok("no VM, disk or network of the spec exists: nothing to do")
        return
    if not runner.dry:
        names = ", ".join(n.name for n in spec.nodes)
        confirm(
            f"Destroy the VMs {names}, their disks and the network {spec.network.name} "
            f"at {settings.uri}?",
            yes=yes,
        )
    runner.execute(steps)
    if not runner.dry:
        console.ok("destroyed")


@task(name="console", help={"node": "the node (VM) name from the cluster spec"})
def console_(c: Context, node: str) -> None:
    """Attach to a node's serial console (virsh console; leave with Ctrl+])."""
    from tasks.core.taskhelp import asked_for_help
    from tasks.infra.plan import console_command

    if asked_for_help(node, "infra", console_):
        return
    from tasks.infra.facts import reachable, unreachable_error

    spec, settings, runner = _setup(c)
    spec.node(node)
    if not runner.dry:
        # virsh console's own failure says nothing about why; name an absent libvirtd first.
        ok, detail = reachable(runner, settings.uri)
        if not ok:
            raise unreachable_error(settings.uri, detail)
    code = runner.stream(console_command(settings, node))
    if code not in (0, 130):
        raise UserError(
            f"virsh console {node} exited with code {code}: is the VM running? "
            "(`inv infra.status`, `inv infra.start`)",
            code=code,
        )


ns = Collection("infra", check, image, network, up, vms, status, start, stop, destroy, console_)
