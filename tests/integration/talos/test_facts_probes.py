"""Moved from tests/unit/talos/test_facts.py: these start processes (real tools or `inv`)."""

from __future__ import annotations

import pytest

from tasks.core.config import ClusterSpec
from tasks.core.runner import Runner
from tasks.talos import facts
from tasks.talos.settings import Settings
from tests.fakes import FakeTools
from tests.unit.talos.test_facts import SERVER_OUTPUT

pytestmark = pytest.mark.integration


def test_node_mode_maintenance_configured_unreachable(
    fake_tools: FakeTools, spec: ClusterSpec, settings: Settings
) -> None:
    node = spec.nodes[0]
    runner = Runner(out=lambda _: None)
    assert facts.node_mode(runner, settings, node).mode is facts.Mode.MAINTENANCE

    fake_tools.scenario(
        [
            {
                "tool": "talosctl",
                "match": ["get", "--insecure"],
                "exit": 1,
                "stderr": "tls: certificate required",
            }
        ]
    )
    # No talosconfig yet: nothing to authenticate with.
    found = facts.node_mode(runner, settings, node)
    assert found == facts.NodeMode(facts.Mode.UNREACHABLE, "tls: certificate required")

    settings.talosconfig.parent.mkdir(parents=True)
    settings.talosconfig.write_text("context: x\n")
    assert facts.node_mode(runner, settings, node).mode is facts.Mode.CONFIGURED
    assert fake_tools.argvs("talosctl")[-1] == [
        "version", "--talosconfig", str(settings.talosconfig),
        "--nodes", node.ip, "--endpoints", node.ip,
    ]  # fmt: skip

    fake_tools.scenario(
        [
            {
                "tool": "talosctl",
                "exit": 1,
                "stderr": "dial tcp 192.168.50.10:50000: connect: no route to host",
            }
        ]
    )
    found = facts.node_mode(runner, settings, node)
    assert found.mode is facts.Mode.UNREACHABLE
    assert "no route to host" in found.detail


def test_talos_version_probe(fake_tools: FakeTools, spec: ClusterSpec, settings: Settings) -> None:
    fake_tools.scenario([{"tool": "talosctl", "match": ["version"], "stdout": SERVER_OUTPUT}])
    assert facts.talos_version(Runner(), settings, spec.workers[0]) == "1.13.8"
    fake_tools.scenario([{"tool": "talosctl", "match": ["version"], "exit": 1}])
    assert facts.talos_version(Runner(), settings, spec.workers[0]) is None
