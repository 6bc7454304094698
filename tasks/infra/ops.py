"""What the ``infra`` tasks do: facts in, plans through the runner, progress reported.

The tasks in ``__init__`` parse options and config; these functions sequence the facts, the pure
plans of :mod:`tasks.infra.plan` and the runner, and say what happened.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core import console
from tasks.core.errors import UserError
from tasks.core.runner import confirm
from tasks.core.waits import TimedOut, until
from tasks.infra.download import normalize_sha256
from tasks.infra.factory import confirm_schematic, schematics_url
from tasks.infra.facts import domain_state, known_os_variants
from tasks.infra.iso import Iso, cached_iso_path, ensure_iso
from tasks.infra.plan import (
    OS_VARIANT,
    OS_VARIANT_FALLBACK,
    plan_network,
    plan_power_off,
    plan_shutdown,
    plan_vms,
    running_nodes,
)
from tasks.infra.schematic import installer_image, schematic_id

if TYPE_CHECKING:
    from tasks.core.config import ClusterSpec
    from tasks.core.runner import Runner
    from tasks.infra.facts import LibvirtFacts
    from tasks.infra.settings import InfraSettings

#: How often infra.stop asks libvirt whether the guests have shut off.
POLL_SECONDS = 1.0


def image(
    spec: ClusterSpec,
    settings: InfraSettings,
    runner: Runner,
    *,
    iso: str | None,
    sha256: str | None,
    offline: bool,
) -> Iso:
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


def converge_network(
    spec: ClusterSpec, settings: InfraSettings, runner: Runner, facts: LibvirtFacts, *, yes: bool
) -> None:
    """The network as the spec says; a differing one is replaced only after confirmation."""
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


def converge_vms(
    spec: ClusterSpec,
    settings: InfraSettings,
    runner: Runner,
    facts: LibvirtFacts,
    *,
    iso: Iso | None,
    network_planned: bool,
) -> None:
    """Create the missing VMs; existing ones are left alone and their drift reported.

    ``network_planned``: the same run defines the network first, so its absence is no error.
    """
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


def stop(
    spec: ClusterSpec,
    settings: InfraSettings,
    runner: Runner,
    facts: LibvirtFacts,
    *,
    limit: float,
    force: bool,
) -> None:
    """ACPI shutdown of the running VMs, polled up to ``limit`` seconds; ``force`` powers off."""
    names = running_nodes(spec, facts)
    if not names:
        console.ok("no VM is running: nothing to do")
        return
    runner.execute(plan_shutdown(settings, names))
    if runner.dry:
        runner.say(f"# wait up to {limit:.0f}s for {', '.join(names)} to shut off")
        if force:
            runner.execute(plan_power_off(settings, names))
        return
    remaining = list(names)

    def shut_off() -> tuple[bool, str]:
        remaining[:] = [n for n in remaining if domain_state(runner, settings.uri, n) != "shut off"]
        return not remaining, ""

    # A guest still running at the deadline is reported (or powered off) below.
    with (
        console.waiting(f"waiting up to {limit:.0f}s for {', '.join(names)} to shut off"),
        suppress(TimedOut),
    ):
        until(
            shut_off,
            timeout=limit,
            interval=POLL_SECONDS,
            what=f"{', '.join(names)} to shut off",
            look_at="`inv infra.status`",
        )
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
