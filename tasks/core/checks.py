"""Check rows, as ``inv doctor`` and ``inv infra.check`` report them: a status per capability,
what was found and wanted, and the fix (pure data, a table or JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tasks.core import console

OK, MISSING, MISMATCH, WARN = "OK", "MISSING", "MISMATCH", "WARN"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    found: str
    wanted: str
    hint: str
    required: bool = True


def failing(checks: list[Check]) -> list[Check]:
    return [ch for ch in checks if ch.required and ch.status in {MISSING, MISMATCH}]


def report(
    checks: list[Check], *, title: str, as_json: bool, extra: dict[str, str] | None = None
) -> None:
    """The checks as a table (fix shown where not OK), or JSON with ``ok`` and every field."""
    if as_json:
        console.print_json(
            {**(extra or {}), "ok": not failing(checks), "checks": [asdict(x) for x in checks]}
        )
        return
    console.table(
        ["check", "status", "found", "wanted", "fix"],
        [(x.name, x.status, x.found, x.wanted, x.hint if x.status != OK else "") for x in checks],
        title=title,
    )
