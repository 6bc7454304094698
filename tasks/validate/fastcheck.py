"""A fast yes for valid documents, before jsonschema looks for errors.

jsonschema spends most of a large tree's validation time on documents that are valid (it builds
a validator object per schema node it descends into). This compiles the schema of a validator
into plain closures that answer "valid?" for the keywords Kubernetes schemas use, with
jsonschema's own semantics (``type`` with its type checker, ``properties``,
``additionalProperties``, ``patternProperties`` and ``pattern`` by ``re.search``, ``required``,
``items``, ``enum`` of strings and numbers, lengths, sizes, bounds, ``allOf``, ``anyOf``,
``oneOf``, ``not``).
Annotations and the keywords jsonschema does not implement (``description``, ``x-kubernetes-*``,
``nullable``; ``format`` without a format checker) are ignored as jsonschema ignores them.

Each check answers True (valid), False (invalid: a wrong type, a missing required key...) or
None (not decided here: any other keyword, such as a ``$ref`` left by ``schemas.inline_refs``,
``const`` or ``uniqueItems``, a float where an integer is expected, another ``enum``). False
and None matter inside ``anyOf``/``oneOf``/``not``; at the top only True counts: anything else
goes to jsonschema, which finds and words the errors. So a document is passed here only where
jsonschema's rules, applied the same way, pass it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

#: A compiled check: True (valid), False (invalid) or None (not decided here).
Check = Callable[[Any], bool | None]

#: Keywords that never affect validity (annotations, OpenAPI and Kubernetes extensions, which
#: jsonschema does not implement), and ``format``: checked only with a format checker, which
#: ``schemas.compile_schema`` does not pass.
_IGNORED = frozenset(
    {
        "description",
        "title",
        "default",
        "example",
        "examples",
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "definitions",
        "deprecated",
        "readOnly",
        "writeOnly",
        "nullable",
        "discriminator",
        "format",
    }
)
#: The dialects whose keyword semantics below are jsonschema's (numeric exclusive bounds,
#: ``items`` as one schema, ``$ref`` never beside other keywords in what is accepted here).
_DIALECTS = frozenset({"Draft6Validator", "Draft7Validator", "Draft201909Validator"})
_DIALECTS |= {"Draft202012Validator"}

_cache: dict[int, tuple[Any, Check | None]] = {}


def is_valid(validator: Any, instance: Any) -> bool:
    """True when ``instance`` is certainly valid for ``validator`` (a jsonschema validator)."""
    entry = _cache.get(id(validator))
    if entry is None or entry[0] is not validator:
        check = None
        if type(validator).__name__ in _DIALECTS and not _has_format_checker(validator):
            check = _Compiler().compile(validator.schema)
        entry = _cache[id(validator)] = (validator, check)
    check = entry[1]
    return check is not None and check(instance) is True


def _has_format_checker(validator: Any) -> bool:
    return getattr(validator, "format_checker", None) is not None


def _is_integer(value: Any) -> bool | None:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return None if isinstance(value, float) else False  # 1.0 is an integer to jsonschema


#: jsonschema's draft 6+ type checker for the types Kubernetes schemas name.
_TYPES: dict[str, Callable[[Any], bool | None]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": _is_integer,
}


def _undecided(_instance: Any) -> bool | None:
    return None


def _valid(_instance: Any) -> bool | None:
    return True


def _invalid(_instance: Any) -> bool | None:
    return False


def _all(verdicts: Any) -> bool | None:
    """Every one valid: True; one invalid: False; else None (the verdicts are consumed lazily,
    stopping at the first invalid one)."""
    result: bool | None = True
    for verdict in verdicts:
        if verdict is False:
            return False
        if verdict is None:
            result = None
    return result


class _Compiler:
    def __init__(self) -> None:
        # Inlined definitions are shared and may be recursive: one check per schema object.
        self._done: dict[int, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True or (isinstance(schema, dict) and not schema):
            return _valid
        if schema is False:
            return _invalid
        if not isinstance(schema, dict):
            return _undecided
        key = id(schema)
        if key in self._done:
            return self._done[key]
        slot: list[Check] = []
        # A recursive definition reaches this schema again while it is being compiled: that
        # use calls through the slot, filled below.

        def forward(instance: Any) -> bool | None:
            return slot[0](instance)

        self._done[key] = forward
        check = self._compile(schema)
        slot.append(check)
        self._done[key] = check
        return check

    def _compile(self, schema: dict[str, Any]) -> Check:
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in _IGNORED or keyword.startswith("x-"):
                continue
            if keyword in ("properties", "additionalProperties", "patternProperties"):
                continue  # together below
            make = getattr(self, "_k_" + keyword, None) if keyword.isidentifier() else None
            check = make(value) if make is not None else None
            checks.append(check if check is not None else _undecided)
        if {"properties", "additionalProperties", "patternProperties"} & schema.keys():
            checks.append(self._object(schema) or _undecided)
        if not checks:
            return _valid
        if len(checks) == 1:
            return checks[0]
        return lambda v: _all(c(v) for c in checks)

    # -- keywords: each returns a check, or None when this module cannot decide it ---------

    def _k_type(self, value: Any) -> Check | None:
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(n in _TYPES for n in names):
            return None
        tests = [_TYPES[n] for n in names]
        if len(tests) == 1:
            return tests[0]

        def any_type(instance: Any) -> bool | None:
            verdicts = [t(instance) for t in tests]
            return True if True in verdicts else (None if None in verdicts else False)

        return any_type

    def _object(self, schema: dict[str, Any]) -> Check | None:
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        patterns = schema.get("patternProperties", {})
        if not isinstance(props, dict) or not isinstance(patterns, dict):
            return None
        try:
            compiled = [(re.compile(p), self.compile(sub)) for p, sub in patterns.items()]
        except (re.error, TypeError):
            return None
        checks = {name: self.compile(sub) for name, sub in props.items()}
        other = self.compile(extra)

        def verdicts(instance: dict[Any, Any]) -> Any:
            for name, value in instance.items():
                matched = False
                check = checks.get(name)
                if check is not None:
                    matched = True
                    yield check(value)
                for pattern, sub in compiled:
                    if isinstance(name, str) and pattern.search(name):
                        matched = True
                        yield sub(value)
                    elif not isinstance(name, str):
                        yield None
                if not matched:
                    yield other(value)

        return lambda v: _all(verdicts(v)) if isinstance(v, dict) else True

    def _k_required(self, value: Any) -> Check | None:
        if not isinstance(value, list):
            return None
        names = tuple(value)
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)

    def _k_items(self, value: Any) -> Check | None:
        if isinstance(value, list):
            return None  # tuple validation (draft 6/7) is jsonschema's
        check = self.compile(value)
        return lambda v: _all(check(i) for i in v) if isinstance(v, list) else True

    def _k_enum(self, value: Any) -> Check | None:
        scalar = (str, int, float)
        if not isinstance(value, list) or not all(
            isinstance(v, scalar) and not isinstance(v, bool) for v in value
        ):
            return None
        strings = frozenset(v for v in value if isinstance(v, str))
        numbers = frozenset(v for v in value if not isinstance(v, str))

        # jsonschema's equality: a string equals only a string, a number a number (1 == 1.0),
        # never a boolean, None or a container.
        def enum(instance: Any) -> bool:
            if isinstance(instance, str):
                return instance in strings
            if isinstance(instance, int | float) and not isinstance(instance, bool):
                return instance in numbers
            return False

        return enum

    def _k_pattern(self, value: Any) -> Check | None:
        try:
            pattern = re.compile(value)
        except (re.error, TypeError):
            return None
        return lambda v: not isinstance(v, str) or pattern.search(v) is not None

    @staticmethod
    def _size(kind: Any, value: Any, ok: Callable[[int], bool]) -> Check | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        return lambda v: not isinstance(v, kind) or ok(len(v))

    @staticmethod
    def _bound(value: Any, ok: Callable[[Any], bool]) -> Check | None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None

        def bound(instance: Any) -> bool | None:
            if not isinstance(instance, int | float) or isinstance(instance, bool):
                return True  # bounds apply to numbers only
            return ok(instance)

        return bound

    # Keyword methods are named after the keyword (camelCase included).
    def _k_minLength(self, value: Any) -> Check | None:
        return self._size(str, value, lambda n: n >= value)

    def _k_maxLength(self, value: Any) -> Check | None:
        return self._size(str, value, lambda n: n <= value)

    def _k_minItems(self, value: Any) -> Check | None:
        return self._size(list, value, lambda n: n >= value)

    def _k_maxItems(self, value: Any) -> Check | None:
        return self._size(list, value, lambda n: n <= value)

    def _k_minProperties(self, value: Any) -> Check | None:
        return self._size(dict, value, lambda n: n >= value)

    def _k_maxProperties(self, value: Any) -> Check | None:
        return self._size(dict, value, lambda n: n <= value)

    def _k_minimum(self, value: Any) -> Check | None:
        return self._bound(value, lambda n: n >= value)

    def _k_maximum(self, value: Any) -> Check | None:
        return self._bound(value, lambda n: n <= value)

    def _k_exclusiveMinimum(self, value: Any) -> Check | None:
        return self._bound(value, lambda n: n > value)

    def _k_exclusiveMaximum(self, value: Any) -> Check | None:
        return self._bound(value, lambda n: n < value)

    def _subschemas(self, value: Any) -> list[Check] | None:
        if not isinstance(value, list) or not value:
            return None
        return [self.compile(s) for s in value]

    def _k_allOf(self, value: Any) -> Check | None:
        checks = self._subschemas(value)
        return None if checks is None else lambda v: _all(c(v) for c in checks)

    def _k_anyOf(self, value: Any) -> Check | None:
        checks = self._subschemas(value)
        if checks is None:
            return None

        def any_of(instance: Any) -> bool | None:
            verdicts = []
            for check in checks:
                verdict = check(instance)
                if verdict is True:
                    return True
                verdicts.append(verdict)
            return None if None in verdicts else False

        return any_of

    def _k_oneOf(self, value: Any) -> Check | None:
        checks = self._subschemas(value)
        if checks is None:
            return None

        def one_of(instance: Any) -> bool | None:
            verdicts = [c(instance) for c in checks]
            valid = verdicts.count(True)
            if valid > 1:
                return False
            if None in verdicts:
                return None
            return valid == 1

        return one_of

    def _k_not(self, value: Any) -> Check | None:
        check = self.compile(value)

        def negated(instance: Any) -> bool | None:
            verdict = check(instance)
            return None if verdict is None else not verdict

        return negated
