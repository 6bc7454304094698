"""Find plaintext secrets in YAML: Secret objects with data, and values that look like secrets.

A heuristic by design, tuned to stay quiet on references (``existingSecret: cnpg-app``,
``secretName``, ``secrets://secrets.yaml``, ``${VAR}``, template placeholders) and loud on what a
generator or a person pasting a token produces: long random-looking strings under a secret-ish
key, private key blocks and age identities anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

_SECRET_KEY = re.compile(
    r"(password|passwd|passphrase|secret|token|apikey|privatekey|accesskey|secretkey|"
    r"clientsecret|credentials?)$"
)
#: Keys whose value names or points at a secret rather than holding one.
_REFERENCE_KEY = re.compile(r"^(existing|use|create|enable|generate)")
_REFERENCE_VALUE = re.compile(r"^(\$\{|\{\{|<(generate|prompt):|secrets?://|ENC\[|ref\+|vault:)")
_DNS_LIKE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_HEX = re.compile(r"^[0-9a-f]{16,}$")
_ALWAYS = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|AGE-SECRET-KEY-1[0-9A-Z]{20,}")


@dataclass(frozen=True)
class Leak:
    line: int | None
    message: str


def _looks_random(value: str) -> bool:
    if len(value) < 12 or any(ch.isspace() for ch in value):
        return False
    if _REFERENCE_VALUE.match(value) or value.startswith(("http://", "https://", "/")):
        return False
    if _HEX.match(value):
        return True
    if _DNS_LIKE.match(value):
        return False
    return any(ch.isdigit() for ch in value) and any(ch.isalpha() for ch in value)


class Leaf(NamedTuple):
    """A scalar of a round-trip YAML tree and where it sits."""

    container: Any  # the mapping or list holding it; None for a scalar document
    key: Any
    path: str  # ``a.b[0].c``
    value: Any
    line: int | None  # 1-based, from ruamel's positions; None where it recorded none


def leaves(
    node: Any, *, container: Any = None, key: Any = None, path: str = "", line: int | None = None
) -> Iterator[Leaf]:
    """Every scalar below ``node`` (ruamel ``typ="rt"`` keeps each item's line), depth first."""
    lc = getattr(node, "lc", None)
    if isinstance(node, dict):
        for k, value in node.items():
            where = lc.value(k)[0] + 1 if lc is not None and k in lc.data else line
            child = f"{path}.{k}" if path else str(k)
            yield from leaves(value, container=node, key=k, path=child, line=where)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            where = lc.item(i)[0] + 1 if lc is not None and i in lc.data else line
            yield from leaves(value, container=node, key=i, path=f"{path}[{i}]", line=where)
    else:
        yield Leaf(container, key, path, node, line)


def is_sops_encrypted(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("sops"), dict) and "mac" in doc["sops"]


def scan_yaml(text: str) -> list[Leak]:
    """Leaks in one YAML file (every document); a file SOPS encrypted has none by definition."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        docs = [d for d in YAML(typ="rt").load_all(text) if d is not None]
    except YAMLError:
        return []  # the yaml family reports syntax errors; nothing reliable to scan here
    leaks: list[Leak] = []
    for doc in docs:
        if is_sops_encrypted(doc):
            continue
        if isinstance(doc, dict) and doc.get("kind") == "Secret":
            fields = [f for f in ("data", "stringData") if doc.get(f)]
            if fields:
                lc = getattr(doc, "lc", None)
                line = lc.key(fields[0])[0] + 1 if lc is not None else None
                name = (doc.get("metadata") or {}).get("name", "?")
                leaks.append(
                    Leak(
                        line,
                        f"plaintext Secret {name!r} ({'/'.join(fields)}): move the values into "
                        "a sops-encrypted secrets.yaml values file, or name the manifest "
                        "*.secret.yaml and run `inv secrets.encrypt`",
                    )
                )
                continue
        for _, _, path, value, line in leaves(doc):
            if not isinstance(value, str):
                continue
            if _ALWAYS.search(value):
                leaks.append(Leak(line, f"{path}: a private key in plaintext"))
                continue
            key = re.sub(r"[-_.]", "", path.rsplit(".", 1)[-1].split("[", 1)[0]).lower()
            if _SECRET_KEY.search(key) and not _REFERENCE_KEY.search(key) and _looks_random(value):
                leaks.append(
                    Leak(
                        line,
                        f"{path}: looks like a secret value in plaintext (move it to secrets.yaml)",
                    )
                )
    return leaks
