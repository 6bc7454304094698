"""A cluster that is only fakes: kubeconfig in a state dir, helm/argocd/cluster kubectl faked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tasks.core.runner import Runner
from tasks.gitops.kube import Kube
from tests.fakes import FakeTools
from tests.integration.gitops.cluster_fakes import cluster_fakes

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: admin@propertea-local
contexts:
  - name: admin@propertea-local
    context:
      cluster: propertea-local
      user: admin@propertea-local
clusters:
  - name: propertea-local
    cluster: {server: "https://127.0.0.1:1"}
users:
  - name: admin@propertea-local
    user: {}
"""


@dataclass
class Cluster:
    fake: FakeTools
    kube: Kube
    state: Path
    lines: list[str] = field(default_factory=list)

    def runner(self, *, dry: bool = False) -> Runner:
        return Runner(dry=dry, out=self.lines.append, sleep=lambda _: None)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    @property
    def env(self) -> dict[str, str]:
        """For `inv` runs: the state dir whose kubeconfig the tasks pick up."""
        return {"INVOKE_STATE_DIR": str(self.state)}


def applications(*apps: tuple[str, str, str]) -> str:
    """kubectl's JSON for (name, sync, health) triples."""
    return json.dumps(
        {
            "items": [
                {
                    "metadata": {"name": name},
                    "status": {"sync": {"status": sync}, "health": {"status": health}},
                }
                for name, sync, health in apps
            ]
        }
    )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    state = tmp_path / "state"
    kubeconfig = state / "propertea-local" / "kubeconfig"
    kubeconfig.parent.mkdir(parents=True)
    kubeconfig.write_text(KUBECONFIG)
    with cluster_fakes(tmp_path / "fakes") as fake:
        yield Cluster(fake, Kube(kubeconfig, kubeconfig.parent), state)


def rule(tool: str, *match: str, **answer: Any) -> dict[str, Any]:
    return {"tool": tool, "match": list(match), **answer}
