"""Exemptions: every skip annotation says why and names a real check."""

from __future__ import annotations

from tasks.validate.model import SKIP_ANNOTATION, SKIP_REASON_ANNOTATION, Doc
from tasks.validate.policies.base import (
    Context,
    Rule,
)

SKIP_REASON = Rule(
    "policy/skip-reason",
    "every exemption says why",
)


def skip_reason(ctx: Context, doc: Doc) -> None:
    listed = doc.annotations.get(SKIP_ANNOTATION)
    if listed is None:
        return
    path = ["metadata", "annotations", SKIP_ANNOTATION]
    if not str(doc.annotations.get(SKIP_REASON_ANNOTATION) or "").strip():
        ctx.result.add(
            doc.path,
            doc.line_of(path),
            SKIP_REASON.id,
            f"{SKIP_ANNOTATION} needs a {SKIP_REASON_ANNOTATION} annotation saying why",
            doc.ref,
        )
    for check in (s.strip() for s in str(listed).split(",")):
        family = check.split("/", 1)[0]
        if check not in ctx.rule_ids and family not in ctx.families:
            ctx.result.add(
                doc.path,
                doc.line_of(path),
                SKIP_REASON.id,
                f"unknown check id {check!r}",
                doc.ref,
            )
