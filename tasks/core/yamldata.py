"""One YAML module for the toolkit (YAML 1.2, ruamel.yaml): safe reads, round-trip edits that
keep comments and quotes, and block-style dumps.

``inv validate`` has its own marked reader (:mod:`tasks.validate.yamlio`: line numbers for every
node); everything else reads and writes YAML through here, so ``off`` means the same string
everywhere and an edit never reflows a file. Imported lazily by the tasks: ruamel is not loaded by
``inv --list``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
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


# -- the fast first look ------------------------------------------------------------------------

_YAML_CORE = "tag:yaml.org,2002:"
#: Implicitly typed scalars PyYAML and ruamel both build the same way (when they agree on the tag).
_SAME_VALUE_TAGS = {f"{_YAML_CORE}{t}" for t in ("str", "bool", "null", "float", "int")}
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DIRECTIVE = re.compile(r"^%", re.MULTILINE)


def plain_docs(text: str) -> list[Any] | None:
    """The documents of ``text`` as plain data, exactly as the round trip reads them, or None.

    libyaml (YAML 1.1) is twenty times faster than ruamel's round trip (YAML 1.2), so where the
    two could read a value differently (a scalar the resolvers type differently such as ``yes``
    or ``1e3``, a leading-zero or hex integer, timestamps, merge keys, explicit tags, directives,
    duplicate keys, which ruamel rejects) or libyaml cannot read the file, this gives None and
    the caller falls back to the round trip.
    """
    import yaml

    if _DIRECTIVE.search(text):
        return None
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    constructor = yaml.constructor.SafeConstructor()
    docs = []
    try:
        for node in yaml.compose_all(text, Loader=loader):
            if node is not None and not _same_in_round_trip(node):
                return None
            docs.append(None if node is None else constructor.construct_document(node))
    except (yaml.YAMLError, ValueError, TypeError):
        return None
    return docs


def _same_in_round_trip(root: Any) -> bool:
    import yaml

    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias: already checked
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            wanted = _round_trip_tag(node.value) if not node.style else f"{_YAML_CORE}str"
            if node.tag != wanted or node.tag not in _SAME_VALUE_TAGS:
                return False
            if node.tag == f"{_YAML_CORE}int" and not _DECIMAL.fullmatch(node.value):
                return False
        elif isinstance(node, yaml.MappingNode):
            keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
            if len(set(keys)) != len(keys):
                return False
            stack += [n for pair in node.value for n in pair]
        else:
            stack += node.value
    return True


@lru_cache(maxsize=4096)
def _round_trip_tag(value: str) -> str:
    """The tag ruamel's round trip (YAML 1.2) gives a plain scalar."""
    from ruamel.yaml.nodes import ScalarNode

    tag: str = _resolver().resolve(ScalarNode, value, (True, False))
    return tag


@lru_cache(maxsize=1)
def _resolver() -> Any:
    from ruamel.yaml.resolver import VersionedResolver

    return VersionedResolver()


def load_all_fast(text: str) -> list[Any]:
    """Every document as :func:`load_all` reads it (YAML 1.2), through libyaml whenever that
    gives the same values (:func:`plain_docs`), else through ruamel: for hot read-only paths."""
    docs = plain_docs(text)
    return docs if docs is not None else [plain(d) for d in load_all(text)]


def load_fast(text: str) -> Any:
    """The first (only) document, as :func:`load_all_fast` reads it (None for an empty file)."""
    docs = load_all_fast(text)
    return docs[0] if docs else None
