"""What the ``infra`` tasks do, as operations: facts in, steps out, progress reported.

The tasks in ``__init__`` parse options and config, gather the libvirt facts and converge these
operations (:mod:`tasks.core.operation`); each one plans through the pure functions of
:mod:`tasks.infra.plan`, reads what it needs mid-way, and says what happened.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core import console
from tasks.core import operation as op
from tasks.core.errors import UserError
from tasks.core.runner import cmd
from tasks.infra.download import normalize_sha256, sha256_file
from tasks.infra.factory import confirm_schematic, schematics_url
from tasks.infra.facts import (
    PROBE_TIMEOUT,
    domain_state,
    gather,
    gather_pool,
    known_os_variants,
    reachable,
    unreachable_error,
    virsh,
    watched_volumes,
)
from tasks.infra.iso import Iso, cached_iso_path, ensure_iso, iso_volume
from tasks.infra.plan import (
    OS_VARIANT,
    OS_VARIANT_FALLBACK,
    UPLOAD_TIMEOUT,
    console_command,
    plan_destroy,
    plan_iso_volume,
    plan_network,
    plan_pool,
    plan_power_off,
    plan_shutdown,
    plan_start,
    plan_vms,
    running_nodes,
)
from tasks.infra.schematic import installer_image, schematic_id

if TYPE_CHECKING:
    from tasks.core.config import ClusterSpec
    from tasks.core.operation import Op
    from tasks.core.runner import Runner
    from tasks.infra.facts import LibvirtFacts
    from tasks.infra.settings import InfraSettings

#: How often infra.stop asks libvirt whether the guests have shut off.
POLL_SECONDS = 1.0


def image(
    spec: ClusterSpec,
    settings: InfraSettings,
    *,
    iso: str | None,
    sha256: str | None,
    offline: bool,
) -> Op[Iso]:
    """The Image Factory schematic (confirmed online unless ``offline``) and the Talos ISO."""
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
    else:
        confirmation = yield from op.act(
            f"POST {schematics_url(spec.image_factory.url)}  (confirm schematic {sid})",
            lambda: confirm_schematic(spec.image_factory.url, extensions),
        )
        if confirmation is not None and confirmation.remote_id:
            console.ok("the Image Factory computes the same schematic ID")
        elif confirmation is not None:
            console.warn(
                f"{confirmation.problem}; using the locally computed ID "
                "(pass --offline to skip this check)"
            )
    found = yield from ensure_iso(
        spec, settings, local=iso, sha256=sha256, download_missing=not offline
    )
    what = {
        "local": "using the local ISO",
        "cached": "ISO already cached",
        "downloaded": "ISO downloaded",
        "planned": "would download the ISO",
    }[found.source]
    console.ok(f"{what}: {found.path}" + (f" (sha256 {found.sha256})" if found.sha256 else ""))
    return found


def up(
    spec: ClusterSpec,
    settings: InfraSettings,
    *,
    iso: str | None,
    sha256: str | None,
    offline: bool,
    yes: bool,
) -> Op[None]:
    """ISO, pool, network and VMs: create what is missing, leave what exists, report drift."""
    found = yield from image(spec, settings, iso=iso, sha256=sha256, offline=offline)
    # Read after the image: bad options and the ISO fail first, without asking libvirt.
    facts = yield from op.fact(lambda r: gather(r, spec, settings))
    facts = yield from converge_pool(spec, settings, facts)
    yield from converge_iso_volume(spec, settings, facts, found)
    yield from converge_network(spec, settings, facts, yes=yes)
    yield from converge_vms(
        spec, settings, facts, iso=found, network_planned=True, storage_ready=True
    )


def converge_network(
    spec: ClusterSpec, settings: InfraSettings, facts: LibvirtFacts, *, yes: bool
) -> Op[None]:
    """The network as the spec says; a differing one is replaced only after confirmation."""
    name = spec.network.name
    console.step(f"network {name} ({spec.network.cidr}, bridge {spec.network.bridge})")
    planned = plan_network(spec, settings, facts)
    if planned.differences:
        console.warn(
            f"network {name} exists with a different definition:\n  "
            + "\n  ".join(planned.differences)
        )
        yield op.Confirm(
            f"Replace network {name}? VMs attached to it lose their link until restarted.", yes
        )
        planned = plan_network(spec, settings, facts, replace=True)
    if not planned.steps:
        console.ok(f"network {name} matches the spec: nothing to do")
        return
    yield from op.execute(planned.steps)
    yield op.Proof(lambda: console.ok(f"network {name} defined, started and autostarted"))


def converge_pool(
    spec: ClusterSpec, settings: InfraSettings, facts: LibvirtFacts
) -> Op[LibvirtFacts]:
    """The storage pool defined, started and autostarted; the facts with its volumes."""
    name = settings.pool
    console.step(f"storage pool {name} ({settings.image_dir} at {settings.uri})")
    if facts.pool is not None and facts.pool.target != str(settings.image_dir):
        console.info(f"pool {name} exists with directory {facts.pool.target}: using it")
    steps = plan_pool(settings, facts)
    if not steps:
        console.ok(f"pool {name} is running and autostarted: nothing to do")
        return facts
    yield from op.execute(steps)
    yield op.Proof(lambda: console.ok(f"pool {name} defined, started and autostarted"))
    # A directory adopted as the pool brings its disk files along as volumes.
    read = yield from op.read_back(
        lambda r: (gather_pool(r, settings, watched_volumes(spec, settings)),)
    )
    return facts if read is None else replace(facts, pool=read[0])


def _volume_sha256(runner: Runner, settings: InfraSettings, volume: str) -> str:
    """A fact: download a volume of the pool to a temporary file and hash it (then removed)."""
    with tempfile.TemporaryDirectory(prefix="propertea-iso-") as tmp:
        dest = Path(tmp) / volume
        runner.capture(
            virsh(
                settings.uri,
                "vol-download",
                volume,
                str(dest),
                "--pool",
                settings.pool,
                read_only=True,
                timeout=max(PROBE_TIMEOUT, UPLOAD_TIMEOUT),
                step=f"read {settings.pool}/{volume} to compare checksums",
            )
        )
        return sha256_file(dest) if dest.is_file() else ""


def converge_iso_volume(
    spec: ClusterSpec, settings: InfraSettings, facts: LibvirtFacts, iso: Iso | None
) -> Op[str]:
    """The ISO as a volume of the pool, uploaded only when missing or its checksum differs.

    Answers the volume's name. Without ``iso`` an existing volume is used as is, else the cached
    download is uploaded.
    """
    volume = iso_volume(spec)
    label = f"{settings.pool}/{volume}"
    if iso is None and facts.volume(volume) is not None:
        return volume
    local = iso.path if iso else cached_iso_path(spec, settings)
    there = yield from op.assume(
        lambda: _require_iso(local, f"nor a volume {label} at {settings.uri}"),
        fresh=False,
        unobservable=NoIso,
    )
    if not there:
        # Only while planning, before infra.image downloaded it (shown by the same plan).
        yield op.Say(f"# upload {local} to the volume {label}")
        return volume
    size = local.stat().st_size
    same = False
    capacity = facts.pool.capacities.get(volume) if facts.pool else None
    if capacity == size and facts.volume(volume) is not None:
        want = (iso.sha256 if iso else None) or sha256_file(local)
        same = (yield from op.fact(lambda r: _volume_sha256(r, settings, volume))) == want
    steps = plan_iso_volume(settings, facts, volume=volume, local=local, size=size, same=same)
    if not steps:
        console.ok(f"ISO volume {label} matches {local.name} (sha256): nothing to do")
        return volume
    yield from op.execute(steps)
    yield op.Proof(lambda: console.ok(f"ISO uploaded to {label}"))
    return volume


class NoIso(UserError):
    """The Talos ISO is not on this machine (yet)."""


def _require_iso(local: Path, elsewhere: str = "") -> bool:
    if not local.is_file():
        raise NoIso(
            f"No Talos ISO at {local}{' ' + elsewhere if elsewhere else ''}: "
            "run `inv infra.image` first, or pass --iso PATH."
        )
    return True


def converge_vms(
    spec: ClusterSpec,
    settings: InfraSettings,
    facts: LibvirtFacts,
    *,
    iso: Iso | None,
    network_planned: bool,
    storage_ready: bool = False,
) -> Op[None]:
    """Create the missing VMs; existing ones are left alone and their drift reported.

    ``network_planned``: the same run defines the network first, so its absence is no error.
    ``storage_ready``: the pool and the ISO volume were converged already (``infra.up``).
    """
    console.step(f"VMs {', '.join(n.name for n in spec.nodes)}")
    volume = iso_volume(spec)
    planned = plan_vms(spec, settings, facts, iso=volume)
    if planned.created:
        usable = facts.network is not None and facts.network.state.active
        if facts.reachable and not usable and not network_planned:
            what = "is not active" if facts.network else "does not exist"
            raise UserError(
                f"The network {spec.network.name} {what} at {settings.uri}: "
                "run `inv infra.network` (or `inv infra.up`) first."
            )
        if not storage_ready:
            cached = cached_iso_path(spec, settings)
            if iso is None and facts.volume(volume) is None:
                yield from op.assume(lambda: _require_iso(cached), fresh=False, unobservable=NoIso)
            facts = yield from converge_pool(spec, settings, facts)
            yield from converge_iso_volume(spec, settings, facts, iso)
        planned = plan_vms(spec, settings, facts, iso=volume)
        variants = yield from op.fact(known_os_variants)
        if variants and OS_VARIANT not in variants:
            planned = plan_vms(spec, settings, facts, iso=volume, os_variant=OS_VARIANT_FALLBACK)
    for line in planned.drift:
        console.warn(f"drift (left as is; destroy and re-create to apply the spec): {line}")
    if not planned.steps:
        console.ok("every VM exists: nothing to do")
        return
    yield from op.execute(planned.steps)
    yield op.Proof(lambda: console.ok(f"created {', '.join(planned.created)}"))


def start(spec: ClusterSpec, settings: InfraSettings, facts: LibvirtFacts) -> Op[None]:
    """Start every node VM that is not running."""
    steps = plan_start(spec, settings, facts)
    if not steps:
        console.ok("every VM is running: nothing to do")
        return
    yield from op.execute(steps)


def stop(
    spec: ClusterSpec,
    settings: InfraSettings,
    facts: LibvirtFacts,
    *,
    limit: float,
    force: bool,
) -> Op[None]:
    """ACPI shutdown of the running VMs, polled up to ``limit`` seconds; ``force`` powers off."""
    names = running_nodes(spec, facts)
    if not names:
        console.ok("no VM is running: nothing to do")
        return
    yield from op.execute(plan_shutdown(settings, names))
    remaining = list(names)

    def shut_off(runner: Runner) -> tuple[bool, str]:
        remaining[:] = [n for n in remaining if domain_state(runner, settings.uri, n) != "shut off"]
        return not remaining, ""

    # A guest still running at the deadline is reported (or powered off) below.
    done = yield from op.wait(
        shut_off,
        timeout=limit,
        interval=POLL_SECONDS,
        what=f"{', '.join(names)} to shut off",
        look_at="`inv infra.status`",
        strict=False,
    )
    if done:
        yield op.Proof(lambda: console.ok(f"shut off: {', '.join(names)}"))
        return
    if not force:
        raise UserError(
            f"Still running after {limit:.0f}s: {', '.join(remaining)}. A guest that ignores "
            "ACPI (e.g. no OS yet) never shuts down by itself: run `inv infra.stop --force` to "
            "power it off, or look at `inv infra.console NODE`."
        )
    console.warn(f"powering off after {limit:.0f}s: {', '.join(remaining)}")
    yield from op.execute(plan_power_off(settings, remaining))


def destroy(
    spec: ClusterSpec, settings: InfraSettings, facts: LibvirtFacts, *, yes: bool
) -> Op[None]:
    """The VMs, the disk volumes the toolkit made and the network removed, after confirmation."""
    planned = plan_destroy(spec, settings, facts, iso=iso_volume(spec))
    if not planned.steps:
        console.ok("no VM, disk volume, network or pool of the spec exists: nothing to do")
        return
    for disk in planned.kept:
        console.warn(f"kept (not created by the toolkit, detached only): {disk}")
    names = ", ".join(n.name for n in spec.nodes)
    volumes = ", ".join(planned.volumes) or "none"
    yield op.Confirm(
        f"Destroy the VMs {names}, the disk volumes {volumes}, the network "
        f"{spec.network.name} and the pool {settings.pool} if left empty, at {settings.uri}?",
        yes,
    )
    yield from op.execute(planned.steps)
    yield op.Proof(lambda: console.ok("destroyed"))


def attach_console(settings: InfraSettings, node: str) -> Op[None]:
    """The node's serial console (virsh console), after naming an absent libvirtd."""
    # virsh console's own failure says nothing about why; name an absent libvirtd first.
    answer = yield from op.read_back(lambda r: reachable(r, settings.uri))
    ok, detail = answer or (True, "")
    if not ok:
        raise unreachable_error(settings.uri, detail)
    code = yield from op.stream(console_command(settings, node), terminal=True)
    if code not in (0, 130):
        raise UserError(
            f"virsh console {node} exited with code {code}: is the VM running? "
            "(`inv infra.status`, `inv infra.start`)",
            code=code,
        )


def _tunnel_pid(settings: InfraSettings) -> int | None:
    """The pid of the sshuttle this toolkit started, when it still runs."""
    try:
        pid = int(settings.tunnel_pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def start_tunnel(spec: ClusterSpec, settings: InfraSettings) -> Op[None]:
    """``sshuttle --daemon`` to the node subnet through the host of ``qemu+ssh://`` (idempotent)."""
    from tasks.infra.check import ssh_target

    target = ssh_target(settings.uri)
    if target is None:
        raise UserError(
            f"libvirt.uri {settings.uri} is not qemu+ssh://user@host/...: the tunnel goes through "
            "the hypervisor's SSH, so there is nothing to tunnel to (on the hypervisor itself the "
            "node subnet is already reachable)."
        )
    cidr = spec.network.cidr
    if (pid := _tunnel_pid(settings)) is not None:
        console.ok(f"tunnel to {cidr} via {target} already running (pid {pid}): nothing to do")
        return
    yield cmd(
        "sshuttle",
        "--daemon",
        "--pidfile",
        str(settings.tunnel_pidfile),
        "-r",
        target,
        cidr,
        step=f"tunnel {cidr} through {target}",
        hint="install it with `apt-get install sshuttle`; it asks for sudo to set up the "
        "local firewall rules",
    )
    yield op.Proof(
        lambda: console.ok(
            f"{cidr} is reachable through {target}; stop with `inv infra.tunnel --stop`"
        )
    )


def stop_tunnel(settings: InfraSettings) -> Op[None]:
    pid = _tunnel_pid(settings)
    if pid is None:
        console.ok("no tunnel started by the toolkit is running: nothing to do")
        return
    yield cmd("kill", str(pid), step="stop the sshuttle tunnel")
    yield op.Proof(lambda: console.ok(f"tunnel stopped (pid {pid})"))
