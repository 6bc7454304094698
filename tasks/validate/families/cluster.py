"""``cluster``: the cluster spec (types, unknown keys, addresses, sizes) via tasks.core.config."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tasks.core.errors import UserError
from tasks.validate.registry import register_family

if TYPE_CHECKING:
    from tasks.validate.engine import Workspace
    from tasks.validate.model import Result


def check_cluster(ws: Workspace, result: Result) -> None:
    path = ws.spec_rel
    result.files.add(path)
    checked = ws.spec_check
    if isinstance(checked, UserError):
        exc = checked
        # "<path>[:line[:col]]: message" -> the message, located at the line.
        match = re.match(r"^[^:\n]+?(?::(\d+))?(?::(\d+))?: (.*)$", exc.text, re.S)
        if match is None:
            result.add(path, None, "cluster/spec", exc.text)
            return
        line, col, text = match.groups()
        where = f" (column {col})" if col else ""
        result.add(path, int(line) if line else None, "cluster/spec", text + where)
        return
    _, problems = checked
    result.documents += 1
    for p in problems:
        msg = f"{p.field}: {p.message}" if p.field else p.message
        result.add(ws.rel(p.path), p.line, "cluster/spec", msg)


register_family("cluster", check_cluster, "the cluster spec (deploy/local-cluster/cluster.yaml)")
