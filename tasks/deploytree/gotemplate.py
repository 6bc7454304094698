"""The subset of Go's text/template (plus a few Sprig functions) that ApplicationSets use.

Enough to expand ``goTemplate: true`` ApplicationSets offline the way the Argo CD controller does:
field chains (``.path.basename``, ``$.name``), pipelines, parenthesised calls, ``if``/``else if``/
``else``, ``range`` (with ``$k, $v :=``), ``with``, comments, and ``{{-``/``-}}`` whitespace
trimming. Anything else (``define``, ``template``, ``block``, unknown functions) is an error that
names the template, never silently wrong output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = "<no value>"


class TemplateError(Exception):
    """A template that cannot be parsed or executed (the message says where)."""


# -- lexing ----------------------------------------------------------------------------------

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|`[^`]*`)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<assign>:=)
      | (?P<punct>[|(),])
      | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
      | (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
    )""",
    re.X,
)


@dataclass
class _Tok:
    kind: str
    text: str


def _tokens(src: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    src = src.strip()
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"cannot parse {src[pos:]!r} in {{{{{src}}}}}")
        kind = m.lastgroup or ""
        out.append(_Tok(kind, m.group(kind)))
        pos = m.end()
        while pos < len(src) and src[pos].isspace():
            pos += 1
    return out


# -- nodes -----------------------------------------------------------------------------------


@dataclass
class _Text:
    text: str


@dataclass
class _Output:
    pipe: list[_Tok]


@dataclass
class _Branch:
    kind: str  # if | range | with
    pipe: list[_Tok]
    body: list[Any] = field(default_factory=list)
    orelse: list[Any] = field(default_factory=list)
    names: tuple[str, ...] = ()  # range $k, $v := ...


def _split(text: str) -> Iterator[tuple[str, str]]:
    """("text", ...) and ("action", ...) pieces with trim markers applied."""
    pos = 0
    pieces: list[list[str]] = []
    for m in _ACTION.finditer(text):
        pieces.append(["text", text[pos : m.start()]])
        if m.group(1) and pieces[-1][1]:
            pieces[-1][1] = pieces[-1][1].rstrip()
        pieces.append(["action", m.group(2), "trim" if m.group(3) else ""])
        pos = m.end()
    pieces.append(["text", text[pos:]])
    trim_next = False
    for piece in pieces:
        if piece[0] == "text":
            body = piece[1].lstrip() if trim_next else piece[1]
            trim_next = False
            if body:
                yield "text", body
        else:
            trim_next = piece[2] == "trim"
            yield "action", piece[1].strip()


def parse(text: str) -> list[Any]:
    root: list[Any] = []
    # (open block, list being filled, closed by the same {{end}} as the block below it)
    stack: list[tuple[_Branch | None, list[Any], bool]] = [(None, root, False)]
    for kind, body in _split(text):
        target = stack[-1][1]
        if kind == "text":
            target.append(_Text(body))
            continue
        if body.startswith("/*"):
            continue
        word = body.split(None, 1)[0] if body else ""
        rest = body[len(word) :].strip()
        if word in ("if", "with", "range"):
            names: tuple[str, ...] = ()
            if word == "range" and ":=" in rest:
                left, rest = rest.split(":=", 1)
                names = tuple(n.strip() for n in left.split(","))
            node = _Branch(word, _tokens(rest), names=names)
            target.append(node)
            stack.append((node, node.body, False))
        elif word == "else":
            branch, _, chained = stack.pop()
            if branch is None:
                raise TemplateError("{{else}} outside a block")
            stack.append((branch, branch.orelse, chained))
            inner_word = rest.split(None, 1)[0] if rest else ""
            if inner_word in ("if", "with"):
                inner = _Branch(inner_word, _tokens(rest[len(inner_word) :]))
                branch.orelse.append(inner)
                stack.append((inner, inner.body, True))
        elif word == "end":
            branch, _, chained = stack.pop()
            if branch is None:
                raise TemplateError("{{end}} without a block")
            while chained:
                _, _, chained = stack.pop()
        elif word in ("define", "template", "block", "break", "continue"):
            raise TemplateError(f"{{{{{word}}}}} is not supported by the offline renderer")
        else:
            target.append(_Output(_tokens(body)))
    if len(stack) != 1:
        raise TemplateError("missing {{end}}")
    return root


# -- evaluation ------------------------------------------------------------------------------


class _Missing:
    """A map key that does not exist (Go's <no value>)."""

    def __str__(self) -> str:
        return NO_VALUE


MISSING = _Missing()


def truthy(value: Any) -> bool:
    if value is None or value is MISSING:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | dict | tuple):
        return len(value) > 0
    return True


def to_text(value: Any) -> str:
    if value is None or value is MISSING:
        return NO_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + " ".join(to_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{to_text(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _indent(n: int, s: str) -> str:
    pad = " " * n
    return "\n".join(pad + line for line in str(s).split("\n"))


def _to_yaml(value: Any) -> str:
    from tasks.core import yamldata

    return yamldata.dump(value).rstrip("\n")


_VERB = re.compile(r"%[-+# 0]*\d*(?:\.\d+)?([a-zA-Z%])")


def _printf(fmt: str, *args: Any) -> str:
    """Go's Sprintf for the verbs templates use: %s %v %q %d %f %x."""
    values = iter(args)

    def one(m: re.Match[str]) -> str:
        verb = m.group(1)
        if verb == "%":
            return "%"
        value = next(values, MISSING)
        if verb in "sv":
            return ("%" + m.group(0)[1:-1] + "s") % to_text(value)
        if verb == "q":
            return json.dumps(to_text(value))
        return m.group(0) % value

    return _VERB.sub(one, fmt)


def _default(fallback: Any, value: Any = MISSING) -> Any:
    return value if truthy(value) else fallback


FUNCS: dict[str, Callable[..., Any]] = {
    "and": lambda *a: next((x for x in a if not truthy(x)), a[-1]),
    "or": lambda *a: next((x for x in a if truthy(x)), a[-1]),
    "not": lambda a: not truthy(a),
    "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "len": len,
    "index": lambda a, *keys: _index(a, keys),
    "print": lambda *a: "".join(to_text(x) for x in a),
    "printf": _printf,
    "default": _default,
    "empty": lambda a: not truthy(a),
    "quote": lambda *a: " ".join(json.dumps(to_text(x)) for x in a),
    "squote": lambda *a: " ".join(f"'{to_text(x)}'" for x in a),
    "upper": lambda s: to_text(s).upper(),
    "lower": lambda s: to_text(s).lower(),
    "trim": lambda s: to_text(s).strip(),
    "trimPrefix": lambda p, s: to_text(s).removeprefix(p),
    "trimSuffix": lambda p, s: to_text(s).removesuffix(p),
    "hasPrefix": lambda p, s: to_text(s).startswith(p),
    "hasSuffix": lambda p, s: to_text(s).endswith(p),
    "contains": lambda sub, s: sub in to_text(s),
    "replace": lambda old, new, s: to_text(s).replace(old, new),
    "join": lambda sep, items: sep.join(to_text(i) for i in items or []),
    "hasKey": lambda d, k: isinstance(d, dict) and k in d,
    "list": lambda *a: list(a),
    "toJson": lambda v: json.dumps(v, separators=(",", ":")),
    "toYaml": _to_yaml,
    "indent": _indent,
    "nindent": lambda n, s: "\n" + _indent(n, s),
    "ternary": lambda a, b, cond: a if truthy(cond) else b,
}


def _index(value: Any, keys: tuple[Any, ...]) -> Any:
    for key in keys:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return value


@dataclass
class _Scope:
    dot: Any
    root: Any
    vars: dict[str, Any]
    missing_error: bool


def _field(scope: _Scope, base: Any, chain: list[str], spelled: str) -> Any:
    value = base
    for name in chain:
        if isinstance(value, dict):
            if name in value:
                value = value[name]
            elif scope.missing_error:
                raise TemplateError(f"map has no entry for key {name!r} ({spelled})")
            else:
                return MISSING
        elif value is MISSING or value is None:
            if scope.missing_error:
                raise TemplateError(f"nil pointer evaluating {spelled}")
            return MISSING
        else:
            raise TemplateError(f"can't evaluate field {name} in {spelled}")
    return value


def _operand(scope: _Scope, tok: _Tok) -> Any:
    if tok.kind == "string":
        return json.loads(tok.text) if tok.text.startswith('"') else tok.text[1:-1]
    if tok.kind == "number":
        return float(tok.text) if "." in tok.text else int(tok.text)
    if tok.kind == "field":
        chain = [p for p in tok.text.split(".") if p]
        return _field(scope, scope.dot, chain, tok.text)
    if tok.kind == "var":
        name, *chain = tok.text.split(".")
        if name == "$":
            base = scope.root
        elif name in scope.vars:
            base = scope.vars[name]
        else:
            raise TemplateError(f"undefined variable {name}")
        return _field(scope, base, chain, tok.text)
    if tok.kind == "ident" and tok.text in ("true", "false"):
        return tok.text == "true"
    if tok.kind == "ident" and tok.text == "nil":
        return None
    raise TemplateError(f"unexpected {tok.text!r}")


def _eval_pipe(scope: _Scope, toks: list[_Tok]) -> Any:
    commands: list[list[Any]] = [[]]
    depth = 0
    group: list[_Tok] = []
    for tok in toks:
        if depth:
            if tok.text == "(" and tok.kind == "punct":
                depth += 1
            elif tok.text == ")" and tok.kind == "punct":
                depth -= 1
                if depth == 0:
                    commands[-1].append(("value", _eval_pipe(scope, group)))
                    group = []
                    continue
            group.append(tok)
        elif tok.kind == "punct" and tok.text == "(":
            depth = 1
        elif tok.kind == "punct" and tok.text == "|":
            commands.append([])
        elif tok.kind == "punct":
            raise TemplateError(f"unexpected {tok.text!r}")
        else:
            commands[-1].append(tok)
    if depth:
        raise TemplateError("unclosed (")
    value: Any = MISSING
    for n, command in enumerate(commands):
        if not command:
            raise TemplateError("empty command in pipeline")
        head = command[0]
        args = [a[1] if isinstance(a, tuple) else _operand(scope, a) for a in command[1:]]
        if n:
            args.append(value)
        if (
            isinstance(head, _Tok)
            and head.kind == "ident"
            and head.text not in ("true", "false", "nil")
        ):
            fn = FUNCS.get(head.text)
            if fn is None:
                raise TemplateError(f'function "{head.text}" not defined in the offline renderer')
            try:
                value = fn(*args)
            except TemplateError:
                raise
            except Exception as exc:  # a Go template would fail the same call at run time
                raise TemplateError(f"error calling {head.text}: {exc}") from None
        else:
            if args:
                raise TemplateError("can't give arguments to a non-function")
            value = head[1] if isinstance(head, tuple) else _operand(scope, head)
    return value


def _exec(nodes: list[Any], scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, _Text):
            out.append(node.text)
        elif isinstance(node, _Output):
            out.append(to_text(_eval_pipe(scope, node.pipe)))
        else:
            value = _eval_pipe(scope, node.pipe)
            if node.kind == "if":
                _exec(node.body if truthy(value) else node.orelse, scope, out)
            elif node.kind == "with":
                if truthy(value):
                    _exec(
                        node.body, _Scope(value, scope.root, scope.vars, scope.missing_error), out
                    )
                else:
                    _exec(node.orelse, scope, out)
            else:
                if not truthy(value):
                    items: list[tuple[Any, Any]] = []
                elif isinstance(value, dict):
                    items = sorted(value.items())
                elif isinstance(value, list | tuple):
                    items = list(enumerate(value))
                else:
                    raise TemplateError(f"range can't iterate over {to_text(value)}")
                if not items:
                    _exec(node.orelse, scope, out)
                for key, item in items:
                    names = dict(scope.vars)
                    if len(node.names) == 2:
                        names[node.names[0]], names[node.names[1]] = key, item
                    elif len(node.names) == 1:
                        names[node.names[0]] = item
                    _exec(node.body, _Scope(item, scope.root, names, scope.missing_error), out)


def render(text: str, data: Any, *, missing_error: bool = False) -> str:
    """Execute ``text`` with ``data`` as dot (and ``$``)."""
    nodes = parse(text)
    out: list[str] = []
    _exec(nodes, _Scope(data, data, {}, missing_error), out)
    return "".join(out)
