"""One YAML module for the toolkit (YAML 1.2, ruamel.yaml): safe reads, round-trip edits that
keep comments and quotes, and block-style dumps.

``inv validate`` has its own marked reader (:mod:`tasks.validate.yamlio`: line numbers for every
node); everything else reads and writes YAML through here, so ``off`` means the same string
everywhere and an edit never reflows a file. Imported lazily by the tasks: ruamel is not loaded by
``inv --list``.
"""

from __future__ import annotations

from collections.abc import Mapping
from io import StringIO
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ruamel.yaml import YAML


def load(text: str) -> Any:
    """One document, as plain dicts, lists and scalars."""
    return _safe().load(text)


def load_all(text: str) -> list[Any]:
    """Every document of a stream."""
    return list(_safe().load_all(text))


def fast_load_all(text: str) -> list[Any]:
    """Every document through libyaml (YAML 1.1, C speed when PyYAML has it): for rendered
    Kubernetes output, where the two dialects agree and volume matters."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return list(yaml.load_all(text, Loader=loader))


def dump(data: Any) -> str:
    """``data`` as block-style YAML (nested mappings and lists never inline)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    out = StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def house_dump(*documents: Any, header: str = "") -> str:
    """The files the toolkit generates, in the repository's house format (block style, two-space
    mappings, sequences indented under their key: what .yamllint wants), ``---`` between the
    documents and ``header`` on top as ``#`` lines. Quoting and comments set with ruamel's types
    (:func:`double_quoted`, ``CommentedMap``) are kept; escaping is always the library's."""
    out = StringIO()
    out.write("".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()))
    editor(house_style=True).dump_all(list(documents), out)
    return out.getvalue()


def double_quoted(text: str) -> str:
    """``text``, dumped double-quoted whatever it looks like (``"off"`` stays a string for a
    YAML 1.1 reader too)."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    quoted: str = DoubleQuotedScalarString(text)  # a str subclass; ruamel types __new__ as Any
    return quoted


def editor(*, house_style: bool = False) -> YAML:
    """A round-trip reader/writer: comments, key order and quotes survive a load and a dump; no
    line is rewrapped. ``house_style`` also re-indents as .yamllint wants (two-space mappings,
    sequences indented under their key), for files the toolkit generates."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    if house_style:
        yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def dump_with(yaml: YAML, data: Any) -> str:
    """What ``yaml`` (an :func:`editor`) writes for ``data``."""
    out = StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def plain(node: Any) -> Any:
    """Round-trip containers (ruamel's commented maps and lists, Invoke's config proxies) as
    plain dicts and lists with string keys, paths as strings: what pydantic and JSON want."""
    if isinstance(node, Mapping) or hasattr(node, "items"):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [plain(v) for v in node]
    if isinstance(node, PurePath):
        return str(node)
    return node


def _safe() -> YAML:
    from ruamel.yaml import YAML

    return YAML(typ="safe")
