"""``inv doctor``: which tools and host capabilities this machine has for a purpose.

Facts (version probes, /dev/kvm, memory, disk) are gathered first; the verdict is a pure function of
them and the pinned versions in the cluster spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.tasks import task

from tasks.core import console
from tasks.core.checks import MISMATCH, MISSING, OK, Check, failing, report
from tasks.core.errors import UserError
from tasks.core.runner import Command, Runner
from tasks.core.tools import PURPOSES, TOOLS, Tool, tools_for, version_matches

if TYPE_CHECKING:
    from invoke.context import Context


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
    report(checks, title=f"doctor --for {purpose}", as_json=json, extra={"purpose": purpose})
    bad = failing(checks)
    if bad:
        names = ", ".join(x.name for x in bad)
        raise UserError(f"{len(bad)} check(s) failed for {purpose}: {names}")
