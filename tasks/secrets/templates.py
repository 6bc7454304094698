"""Secret templates (``secrets.template.yaml``) rendered into plaintext values files.

Placeholders (deploy/CONVENTIONS.md), replaced inside any string value:

- ``<generate:alnum:N>``: N random characters from ``[A-Za-z0-9]``
- ``<generate:hex:N>``: N random bytes, hex-encoded (2N characters)
- ``<generate:base64:N>``: N random bytes, standard base64
- ``<prompt:Human label>``: an external value; asked without echo, or supplied by the
  environment variable :func:`env_name` of the label, or by a values file (label -> value)

Rendering goes through ruamel's round-trip mode so comments survive and a generated value that
looks like a number or boolean is still written as a string.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from tasks.core.errors import ConfigError, UserError


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


TEMPLATE_NAME = "secrets.template.yaml"
OUTPUT_NAME = "secrets.yaml"
ENV_PREFIX = "PROPERTEA_SECRET_"
MAX_LENGTH = 4096

_ANY_PLACEHOLDER = re.compile(r"<(generate|prompt):([^>]*)>")
_GENERATE_ARGS = re.compile(r"^(alnum|hex|base64):(\d+)$")
_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Placeholder:
    kind: str  # generate | prompt
    arg: str  # "alnum:32" or the prompt label
    line: int | None


def env_name(label: str) -> str:
    """``Cloudflare API token (hint)`` -> ``PROPERTEA_SECRET_CLOUDFLARE_API_TOKEN``.

    Parenthesised hints in the label are left out of the name.
    """
    words = re.sub(r"\([^)]*\)", " ", label).upper()
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]+", "_", words).strip("_")


def generate(spec: str, rand: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A random value for ``alnum:N`` / ``hex:N`` / ``base64:N``."""
    match = _GENERATE_ARGS.match(spec)
    if not match:
        raise ValueError(spec)
    kind, size = match.group(1), int(match.group(2))
    if kind == "alnum":
        # Rejection sampling keeps every character equally likely (256 % 62 != 0).
        out: list[str] = []
        while len(out) < size:
            out += [_ALNUM[b % 62] for b in rand(size) if b < 248]
        return "".join(out[:size])
    if kind == "hex":
        return rand(size).hex()
    return base64.b64encode(rand(size)).decode()


def _strings(tree: Any) -> Iterator[Leaf]:
    """Every string value of a template, with its container, key and line."""
    return (leaf for leaf in leaves(tree) if isinstance(leaf.value, str))


class Template:
    """One parsed template; :meth:`render` returns the plaintext values file."""

    def __init__(self, path: Path, text: str) -> None:
        from ruamel.yaml.error import YAMLError

        from tasks.core import yamldata

        self.path = path
        self._yaml = yamldata.editor()
        try:
            self._data = self._yaml.load(text)
        except YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(self._data, dict):
            raise ConfigError(f"{path}: a secret template must be a YAML mapping")
        self.placeholders = list(self._scan())

    @classmethod
    def load(cls, path: Path) -> Template:
        return cls(path, path.read_text())

    def _scan(self) -> Iterator[Placeholder]:
        for leaf in _strings(self._data):
            line = leaf.line
            for match in _ANY_PLACEHOLDER.finditer(leaf.value):
                kind, arg = match.group(1), match.group(2)
                where = f"{self.path}:{line}" if line else str(self.path)
                if kind == "generate":
                    spec = _GENERATE_ARGS.match(arg)
                    if not spec:
                        raise ConfigError(
                            f"{where}: {match.group(0)} is not a placeholder: use "
                            "<generate:alnum:N>, <generate:hex:N> or <generate:base64:N>"
                        )
                    if not 1 <= int(spec.group(2)) <= MAX_LENGTH:
                        raise ConfigError(
                            f"{where}: {match.group(0)}: N must be between 1 and {MAX_LENGTH}"
                        )
                elif not arg.strip():
                    raise ConfigError(f"{where}: <prompt:> needs a label, e.g. <prompt:API token>")
                yield Placeholder(kind, arg.strip() if kind == "prompt" else arg, line)

    @property
    def prompts(self) -> list[str]:
        """Distinct prompt labels in order of appearance."""
        return list(dict.fromkeys(p.arg for p in self.placeholders if p.kind == "prompt"))

    def render(
        self,
        answers: dict[str, str],
        rand: Callable[[int], bytes] = secrets.token_bytes,
    ) -> tuple[str, list[str]]:
        """The plaintext and every value put in (for masking). ``answers``: label -> value."""
        from io import StringIO

        missing = [label for label in self.prompts if label not in answers]
        if missing:
            raise UserError(f"{self.path}: no value for {', '.join(missing)}")
        values: list[str] = []

        def fill(match: re.Match[str]) -> str:
            kind, arg = match.group(1), match.group(2)
            value = answers[arg.strip()] if kind == "prompt" else generate(arg, rand)
            values.append(value)
            return value

        for leaf in list(_strings(self._data)):
            if _ANY_PLACEHOLDER.search(leaf.value):
                leaf.container[leaf.key] = _ANY_PLACEHOLDER.sub(fill, str(leaf.value))
        out = StringIO()
        self._yaml.dump(self._data, out)
        return out.getvalue(), values


def output_path(template: Path) -> Path:
    return template.with_name(OUTPUT_NAME)


def find_templates(deploy: Path) -> list[Path]:
    return sorted(deploy.rglob(TEMPLATE_NAME))


def load_values_file(path: Path) -> dict[str, str]:
    """``--values-file``: a YAML mapping of prompt label to value."""
    from ruamel.yaml.error import YAMLError

    from tasks.core import yamldata

    try:
        data = yamldata.load(path.read_text())
    except FileNotFoundError:
        raise UserError(f"--values-file {path}: no such file") from None
    except YAMLError as exc:
        # Never str(exc): its snippet quotes the offending line, i.e. a secret value.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        context = getattr(exc, "context", None)
        problem = getattr(exc, "problem", None) or "a syntax error"
        problem = f"{context}: {problem}" if context else problem
        raise UserError(f"--values-file {path}: not valid YAML{where} ({problem})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str | int) for v in data.values()):
        raise UserError(
            f"--values-file {path}: expected a mapping of prompt label to value, "
            'e.g. "Cloudflare API token: ..."'
        )
    return {str(k): str(v) for k, v in data.items()}


def answer_prompts(
    labels: list[str],
    *,
    values: dict[str, str],
    env: dict[str, str],
    ask: Callable[[str], str] | None,
) -> dict[str, str]:
    """Each label's value from the values file, else its environment variable, else asked.

    ``ask`` is None when there is no terminal: then every label must be supplied.
    """
    answers: dict[str, str] = {}
    unanswered: list[str] = []
    for label in labels:
        value = values.get(label) or env.get(env_name(label))
        if not value and ask is not None:
            value = ask(label).strip()
            if not value:
                raise UserError(f"No value entered for {label!r}: nothing was written.")
        if value:
            answers[label] = value
        else:
            unanswered.append(label)
    if unanswered:
        lines = "\n".join(f"  {label!r}: set {env_name(label)}" for label in unanswered)
        raise UserError(
            "No terminal to ask for these values; supply them with --values-file "
            f"(a YAML mapping label -> value) or the environment:\n{lines}"
        )
    return answers
