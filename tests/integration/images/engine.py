"""The engine and registry the tests talk to (started by the ``engine`` fixture in conftest)."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class Engine:
    docker_host: str
    registry: str  # 127.0.0.1:<port>

    def tags(self, repository: str) -> list[str]:
        url = f"http://{self.registry}/v2/{repository}/tags/list"
        with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
            return sorted(json.load(response).get("tags") or [])
