"""Schema errors as (path, message) pairs a person can act on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

MAX_MESSAGE = 240
_UNEXPECTED = re.compile(r"\('([^']+)' (?:was|were) unexpected\)|'([^']+)'(?:, |\s)")


def dotted(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def schema_errors(
    validator: Any, data: Any, prefix: tuple[Any, ...] = ()
) -> Iterator[tuple[list[Any], str]]:
    """Each error at its deepest useful path; unknown keys point at the key itself.

    ``prefix`` is where ``data`` sits in its document, for messages (paths returned exclude it).
    """
    from jsonschema.exceptions import best_match

    from tasks.validate.fastcheck import is_valid

    if is_valid(validator, data):
        return  # proven valid by jsonschema's own rules, without building its error objects
    for error in validator.iter_errors(data):
        err = error
        if err.validator in ("oneOf", "anyOf") and err.context:
            err = best_match(err.context)
        path = list(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
            patterns = (
                err.schema.get("patternProperties", {}) if isinstance(err.schema, dict) else {}
            )
            extra = [
                k
                for k in err.instance
                if k not in allowed and not any(re.search(p, str(k)) for p in patterns)
            ]
            for key in extra:
                yield [*path, key], f"{dotted([*prefix, *path, key])}: unknown field"
            if extra:
                continue
        message = err.message
        if len(message) > MAX_MESSAGE and err.validator in ("oneOf", "anyOf", "type", "enum"):
            message = f"{err.validator} failed for the value here"
        yield path, _short(f"{dotted([*prefix, *path])}: {message}")
