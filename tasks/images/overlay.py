"""Set a service's image tag in ``deploy/services/<component>/kustomization.yaml``.

Round-trip YAML (ruamel) locates ``newTag`` of the component's entry in the Kustomize ``images:``
list (deploy/CONVENTIONS.md); only that value changes: comments, quoting and layout stay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks.core.errors import ConfigError

SERVICES_DIR = Path("deploy/services")


def kustomization_path(root: Path, component: str) -> Path:
    return root / SERVICES_DIR / component / "kustomization.yaml"


def _yaml() -> Any:
    from tasks.core import yamldata

    return yamldata.editor()


def _image_entry(data: Any, path: Path, image: str) -> Any:
    images = data.get("images") if hasattr(data, "get") else None
    if not images:
        raise ConfigError(
            f"{path}: no `images:` list; add one with `- name: {image}` and `newTag: v0.1.0` "
            "(deploy/CONVENTIONS.md)."
        )
    for item in images:
        if hasattr(item, "get") and item.get("name") == image:
            return item
    names = ", ".join(str(i.get("name")) for i in images if hasattr(i, "get"))
    raise ConfigError(f"{path}: `images:` has no entry named {image} (found: {names or 'none'})")


def current_tag(text: str, path: Path, image: str) -> str | None:
    data = _yaml().load(text)
    tag = _image_entry(data, path, image).get("newTag")
    return str(tag) if tag is not None else None


def set_tag(text: str, path: Path, image: str, tag: str) -> str:
    """``text`` with the entry's ``newTag`` set to ``tag``; every other byte unchanged.

    ruamel finds the value's line and column; the edit is made in the text itself, so the
    file's own indentation, quoting and comments survive exactly (a dump would restyle them).
    """
    import re

    item = _image_entry(_yaml().load(text), path, image)
    lines = text.splitlines(keepends=True)
    if "newTag" in item:
        line, col = item.lc.value("newTag")
        old = lines[line]
        match = re.compile(r"\"[^\"]*\"|'[^']*'|[^\s#]+").match(old, col)
        if match is None:
            raise ConfigError(f"{path}:{line + 1}: cannot read the newTag value")
        quote = match.group(0)[0] if match.group(0)[0] in "\"'" else ""
        lines[line] = old[: match.start()] + f"{quote}{tag}{quote}" + old[match.end() :]
    else:
        line, col = item.lc.key("name")
        indent = " " * col
        name_line = lines[line]
        ending = "\n" if name_line.endswith("\n") else ""
        if not ending:
            lines[line] = name_line + "\n"
        lines.insert(line + 1, f"{indent}newTag: {tag}\n")
    return "".join(lines)
