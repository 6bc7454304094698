"""``inv doctor``: which tools and host capabilities this machine has for a purpose.

Facts (version probes, /dev/kvm, memory, disk) are gathered first; the verdict is a pure function of
them and the pinned versions in the cluster spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.tasks import task

from tasks.core import console
from tasks.core.checks import MISMATCH, MISSING, OK, WARN, Check, failing, report
from tasks.core.errors import UserError
from tasks.core.runner import Command, Runner
from tasks.core.tools import PURPOSES, TOOLS, Tool, tools_for, version_matches

if TYPE_CHECKING:
    from datetime import datetime

    from invoke.context import Context

    from tasks.core.config import ClusterSpec
    from tasks.talos.certificates import Cert


# -- facts -----------------------------------------------------------------------------------


def probe_version(runner: Runner, tool: Tool) -> str | None:
    """The installed version of ``tool``, '' when found but unreadable, None when missing."""
    if not runner.has(tool.version_argv[0]):
        return None
    result = runner.check(Command(tool.version_argv, timeout=20, read_only=True))
    output = result.stdout + "\n" + result.stderr
    return tool.parse_version(output) or ""


# -- verdict (pure) --------------------------------------------------------------------------


def tool_checks(purpose: str, found: dict[str, str | None], pins: dict[str, str]) -> list[Check]:
    checks: list[Check] = []
    groups_satisfied = {t.group for t in TOOLS if t.group and found.get(t.name) is not None}
    for tool in tools_for(purpose):
        version = found.get(tool.name)
        pinned = pins.get(tool.pin_key, "") if tool.pin_key else ""
        required = not (tool.group and tool.group in groups_satisfied)
        if version is None:
            status = MISSING if required else OK
            shown = "-" if required else f"(using another {tool.group})"
            checks.append(Check(tool.name, status, shown, pinned or "any", tool.install, required))
        elif pinned and version and not version_matches(version, pinned):
            checks.append(
                Check(tool.name, MISMATCH, version, pinned, f"install {pinned}: {tool.install}")
            )
        else:
            checks.append(Check(tool.name, OK, version or "(unknown)", pinned or "any", ""))
    return checks


def certificate_checks(certs: list[Cert], now: datetime, warn_days: float) -> list[Check]:
    """The operator's credentials: a warning a month ahead, a failure once expired."""
    from tasks.talos import certificates

    checks = []
    for cert in certs:
        status = cert.status(now, warn_days)
        found = f"expires {cert.not_after:%Y-%m-%d} ({cert.days_left(now):.0f} days)"
        level = {certificates.OK: OK, certificates.SOON: WARN}.get(status, MISMATCH)
        hint = "" if level == OK else f"renew: {cert.renewed_by}"
        checks.append(Check(f"cert: {cert.name}", level, found, f">= {warn_days:g} days", hint))
    return checks


def _local_certificates(c: Context, spec: ClusterSpec) -> list[Cert]:
    """Certificates in the state dir's talosconfig and kubeconfig (files only: no cluster call;
    a file not there yet is simply not checked)."""
    from tasks.talos.certificates import from_files
    from tasks.talos.settings import Settings

    settings = Settings.from_context(c, spec)
    found, _, _ = from_files(settings.talosconfig, settings.kubeconfig, spec.cluster.name)
    return found


# -- task ------------------------------------------------------------------------------------


@task(
    name="doctor",
    help={
        "for_": f"purpose to check: {', '.join(PURPOSES)} (default: all)",
        "json": "print the checks as JSON instead of a table",
    },
)
def doctor(c: Context, for_: str | None = None, json: bool = False) -> None:
    """Check CLIs (found, version, pin) and host capabilities for a purpose."""
    from tasks.core import config

    purpose = for_ or "all"
    if purpose not in PURPOSES:
        raise UserError(f"--for {purpose!r}: choose one of {', '.join(PURPOSES)}.", code=2)
    spec = None
    pins: dict[str, str] = {}
    try:
        spec = config.load(c)
        pins = dict(spec.versions.tools)
    except UserError as exc:
        console.warn(f"{exc.text}\n(checking tools without pinned versions)")
    runner = Runner.from_context(c)
    found = {tool.name: probe_version(runner, tool) for tool in tools_for(purpose)}
    checks = tool_checks(purpose, found, pins)
    if purpose in {"infra", "all"} and spec is not None:
        # The host half is infra.check's verdict: one implementation of each host check.
        from tasks.infra.check import gather, verdict
        from tasks.infra.settings import load_settings

        settings = load_settings(c, spec)
        checks += verdict(gather(runner, settings), spec, settings)
    if purpose in {"cluster", "all"} and spec is not None:
        from tasks.talos.certificates import WARN_DAYS, now

        checks += certificate_checks(_local_certificates(c, spec), now(), WARN_DAYS)
    report(checks, title=f"doctor --for {purpose}", as_json=json, extra={"purpose": purpose})
    bad = failing(checks)
    if bad:
        names = ", ".join(x.name for x in bad)
        raise UserError(f"{len(bad)} check(s) failed for {purpose}: {names}")
