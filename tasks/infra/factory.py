"""Talos Image Factory client: confirm a locally computed schematic ID with ``POST /schematics``."""

from __future__ import annotations

import json
from dataclasses import dataclass

from tasks.core.errors import UserError
from tasks.infra.schematic import schematic_id, schematic_yaml

TIMEOUT = 30.0


@dataclass(frozen=True)
class Confirmation:
    #: The factory's ID; None when it could not be asked.
    remote_id: str | None
    problem: str = ""


def schematics_url(factory_url: str) -> str:
    return factory_url.rstrip("/") + "/schematics"


def confirm_schematic(factory_url: str, extensions: list[str]) -> Confirmation:
    """POST the schematic; a different ID is an error, an unreachable factory only a problem."""
    import urllib.error
    import urllib.request

    local = schematic_id(extensions)
    url = schematics_url(factory_url)
    request = urllib.request.Request(  # noqa: S310 (spec validates http(s))
        url,
        data=schematic_yaml(extensions).encode(),
        headers={"Content-Type": "application/yaml"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace").strip()[:300]
        return Confirmation(None, f"HTTP {exc.code} from {url}: {detail or exc.reason}")
    except (urllib.error.URLError, OSError) as exc:
        return Confirmation(None, f"cannot reach {url} ({getattr(exc, 'reason', exc)})")
    try:
        remote = str(json.loads(body)["id"])
    except (ValueError, KeyError, TypeError):
        return Confirmation(None, f"{url} answered without a schematic id: {body[:200]!r}")
    if remote != local:
        raise UserError(
            f"The Image Factory at {factory_url} computed schematic {remote}, but the toolkit "
            f"computed {local} for extensions {extensions}. The factory's canonical form changed: "
            "update tasks/infra/schematic.py before building images from it."
        )
    return Confirmation(remote)
