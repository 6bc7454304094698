"""Human output: steps, tables, progress for long waits.

rich is imported inside the functions that draw, so ``inv --list`` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def info(message: str) -> None:
    print(f"    {message}", flush=True)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def ok(message: str) -> None:
    print(f"ok: {message}", flush=True)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None
) -> None:
    """A readable table on a terminal; plain aligned columns when piped (stable for tests)."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title)
        for h in headers:
            t.add_column(h)
        for row in rows:
            t.add_row(*(str(v) for v in row))
        Console().print(t)
        return
    cells = [list(map(str, headers)), *[[str(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    if title:
        print(title)
    for n, row in enumerate(cells):
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


@contextmanager
def waiting(message: str) -> Iterator[None]:
    """A spinner on a terminal while something long runs; one line otherwise."""
    if sys.stdout.isatty():
        from rich.console import Console

        with Console().status(message):
            yield
        return
    print(f"... {message}", flush=True)
    yield
