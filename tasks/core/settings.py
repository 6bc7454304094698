"""Operator-local Invoke config sections (``invoke.yaml``, ``INVOKE_*``), typed.

Each section is a frozen stdlib dataclass declaring its keys, types and defaults once:
:func:`defaults_of` turns it into the Invoke config defaults a collection registers (so Invoke's
own env mechanism maps ``INVOKE_<SECTION>_<KEY>`` onto it, cast to the default's type), and
:func:`load_section` validates what Invoke merged with pydantic (unknown keys refused, values
coerced, ``__post_init__`` for the rules types cannot say). Dataclasses keep ``inv --list`` light:
pydantic is imported only when a task reads its settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from tasks.core.errors import ConfigError
from tasks.core.yamldata import plain

if TYPE_CHECKING:
    from invoke.context import Context

T = TypeVar("T")

#: Put on every settings dataclass: a key the dataclass does not declare is an error.
FORBID_EXTRA: dict[str, Any] = {"extra": "forbid"}


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


def defaults_of(model: type[Any]) -> dict[str, Any]:
    """The Invoke config defaults of a settings dataclass (paths as strings, nested as dicts)."""
    defaults: dict[str, Any] = plain(dataclasses.asdict(model()))
    return defaults


def load_section(c: Context | None, name: str, model: type[T]) -> T:
    """Invoke config section ``name`` validated as ``model``; a ConfigError naming the key,
    the value and what was expected otherwise (never a traceback)."""
    return parse_section(name, section(c, name), model)


def parse_section(name: str, raw: Mapping[str, Any], model: type[T]) -> T:
    """``raw`` (what config section ``name`` holds) validated as ``model``, as
    :func:`load_section` does, for callers that add to the section first."""
    from pydantic import ValidationError

    try:
        validated: T = _adapter(model).validate_python(plain(raw))
        return validated
    except ValidationError as exc:
        raise ConfigError(
            "\n".join(_problem(name, error) for error in exc.errors())
            + f"\n(Invoke config `{name}`: invoke.yaml or INVOKE_{name.upper()}_* variables)"
        ) from None


#: One validator per model: building it is the costly part, and tasks read sections often.
_ADAPTERS: dict[type[Any], Any] = {}


def _adapter(model: type[Any]) -> Any:
    if model not in _ADAPTERS:
        from pydantic import TypeAdapter

        _ADAPTERS[model] = TypeAdapter(model)
    return _ADAPTERS[model]


#: What a person should write instead, by pydantic error type.
_EXPECTED = {
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected text",
    "dict_type": "expected a mapping",
    "dataclass_type": "expected a mapping",
    "list_type": "expected a list",
}


def _problem(name: str, error: Mapping[str, Any]) -> str:
    where = ".".join([name, *(str(part) for part in error["loc"])])
    message = _EXPECTED.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in {"extra_forbidden", "unexpected_keyword_argument"}:
        return f"{where}: not a setting (a typo?)"
    if error["type"] == "value_error":  # raised by __post_init__, which names the key itself
        return f"{name}.{message}"
    return f"{where} {error['input']!r}: {message}"
