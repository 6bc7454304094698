"""Fast YAML reading that keeps line numbers (libyaml parser, node tree kept for lookups).

Values are built the way Kubernetes tooling reads them except that timestamps stay strings (the API
has no timestamp type, so a schema expecting a string must not see a ``datetime``). Duplicate keys,
which PyYAML silently overwrites, are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Constructor(yaml.constructor.SafeConstructor):
    def __init__(self) -> None:
        super().__init__()
        self.duplicates: list[tuple[int, str]] = []

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode) and len(node.value) > 1:
            keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
            if len(set(keys)) != len(keys):
                self._record_duplicates(node)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def _record_duplicates(self, node: Any) -> None:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    self.duplicates.append((key_node.start_mark.line + 1, key_node.value))
                seen.add(key_node.value)


# Timestamps stay strings, as Kubernetes reads them.
_Constructor.add_constructor(
    "tag:yaml.org,2002:timestamp",
    yaml.constructor.SafeConstructor.construct_yaml_str,  # type: ignore[type-var]
)


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
#: Scalars built by the constructor's own methods (so values are exactly PyYAML's).
_SCALARS: dict[str, Any] = {
    f"tag:yaml.org,2002:{name}": _Constructor.yaml_constructors[f"tag:yaml.org,2002:{name}"]
    for name in ("int", "float", "bool", "null", "timestamp")
}
#: Implicit tags of short plain scalars already resolved: keys and values repeat across files.
_TAGS: dict[tuple[str, Any], str] = {}


class _Composer(_Loader):  # type: ignore[misc]
    """libyaml's composer, resolving each distinct short scalar's implicit tag once (the
    resolver has no path resolvers, so a tag depends on the value alone)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode or len(value) > 64:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = _TAGS.get(key)
        if tag is None:
            tag = _TAGS[key] = super().resolve(kind, value, implicit)
        return tag


class _Unusual(Exception):
    """A node :func:`_build` leaves to PyYAML's constructor (merge keys, other tags, cycles)."""


def _build(constructor: _Constructor, node: Any, building: set[int], done: dict[int, Any]) -> Any:
    """The value of ``node`` as ``constructor.construct_document`` builds it, in one recursive
    walk instead of PyYAML's generator machinery (about twice as fast); anchors share values."""
    kind = type(node)
    tag = node.tag
    if kind is yaml.ScalarNode:
        if tag == _STR:
            return node.value
        method = _SCALARS.get(tag)
        if method is None:
            raise _Unusual
        return method(constructor, node)
    key = id(node)
    if key in done:
        return done[key]
    if key in building:
        raise _Unusual  # a recursive structure
    building.add(key)
    value: Any
    if kind is yaml.SequenceNode and tag == _SEQ:
        value = [_build(constructor, item, building, done) for item in node.value]
    elif kind is yaml.MappingNode and tag == _MAP:
        value = {}
        plain = True
        for key_node, value_node in node.value:
            if type(key_node) is not yaml.ScalarNode:
                raise _Unusual
            if key_node.tag != _STR:
                if key_node.tag not in _SCALARS:
                    raise _Unusual  # merge (<<), value (=) and other keys
                plain = False
            value[_build(constructor, key_node, building, done)] = _build(
                constructor, value_node, building, done
            )
        # The duplicate rule of _Constructor.construct_mapping (distinct plain keys have none).
        if not plain or len(value) != len(node.value):
            names = [k.value for k, _ in node.value]
            if len(set(names)) != len(names):
                constructor._record_duplicates(node)
    else:
        raise _Unusual
    building.discard(key)
    done[key] = value
    return value


@dataclass
class Loaded:
    """The documents of one file: (data, node, first line) each, plus what went wrong."""

    docs: list[tuple[Any, Any, int]] = field(default_factory=list)
    #: (line, column, message); a syntax error stops reading the rest of the file.
    errors: list[tuple[int, int | None, str]] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)


def load_all(text: str) -> Loaded:
    out = Loaded()
    constructor = _Constructor()
    try:
        for node in yaml.compose_all(text, Loader=_Composer):
            if node is None:
                continue
            recorded = len(constructor.duplicates)
            try:
                data = _build(constructor, node, set(), {})
            except Exception:  # PyYAML's constructor decides (and words the errors)
                del constructor.duplicates[recorded:]
                data = constructor.construct_document(node)
            if data is None:
                continue
            out.docs.append((data, node, node.start_mark.line + 1))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, None)
        problem = exc.problem or exc.context or "invalid YAML"
        out.errors.append((line, col, f"YAML syntax error: {problem}"))
    except yaml.YAMLError as exc:
        out.errors.append((1, None, f"YAML error: {exc}"))
    except (ValueError, TypeError) as exc:
        # Unhashable keys and similar constructor failures.
        out.errors.append((1, None, f"YAML error: {exc}"))
    out.duplicates = constructor.duplicates
    return out


def line_of(node: Any, path: Sequence[str | int]) -> int | None:
    """1-based line of the node at ``path`` (the nearest existing parent when it is absent)."""
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if 0 <= key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                return line
        else:
            return line
    return line
