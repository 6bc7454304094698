"""Operator-local Invoke config sections (``invoke.yaml``, ``INVOKE_*``), read safely.

Light on purpose: namespaces import it at module level, and ``inv --list`` must stay fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tasks.core.errors import ConfigError

if TYPE_CHECKING:
    from invoke.context import Context


def section(c: Context | None, name: str) -> Mapping[str, Any]:
    """An Invoke config section; ``name: null`` or no section at all reads as empty."""
    if c is None:
        return {}
    value = c.config.get(name)
    if value is None:
        return {}
    if not hasattr(value, "get"):
        raise ConfigError(f"Invoke config `{name}` must be a mapping, not {value!r}.")
    return value  # type: ignore[no-any-return]
