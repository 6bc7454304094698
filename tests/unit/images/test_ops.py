"""images.build/push/promote as operations, driven without a runner: the steps each plans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks.core import operation as op
from tasks.core.runner import Command, Result, WriteFile
from tasks.images import ops
from tasks.images.plan import ImageTags, Registry
from tasks.release.components import Component

IMAGE = "ghcr.io/propertea/propertea-company"
OVERLAY = f"images:\n  - name: {IMAGE}  # promoted by CI\n    newTag: v0.1.0\n"


def _component(name: str, kind: str) -> Component:
    return Component(name, f"apps/{name}", kind, "Dockerfile", f"propertea-{name}", "0.1.0", "")  # type: ignore[arg-type]


def _answer(step: op.Step) -> Any:
    return Result(0, "", "") if isinstance(step, Command) else None


def test_build_publishes_dotnet_and_builds_the_portal_through_the_engine(tmp_path: Path) -> None:
    components = [_component("company", "dotnet"), _component("landlord-web", "web")]
    meta = ImageTags("1.2.3", "abcdef0123456789", "https://github.com/o/r")
    metas = {x.name: meta for x in components}
    registry = Registry.parse("ghcr.io/propertea")

    steps, _ = op.drive(ops.build(tmp_path, components, metas, registry, push=True), _answer)
    kinds = [type(s).__name__ for s in steps]
    assert kinds == ["Command", "Proof", "Act", "Act", "Proof"]
    publish = steps[0]
    assert isinstance(publish, Command) and publish.argv[:2] == ("dotnet", "publish")
    acts = [s.line for s in steps if isinstance(s, op.Act)]
    assert acts[0].startswith("engine API build, as `docker build")
    assert acts[1].startswith("engine API push, as `docker push")

    steps, _ = op.drive(ops.build(tmp_path, components[1:], metas, registry, push=False), _answer)
    assert [type(s).__name__ for s in steps] == ["Act", "Proof"]


def test_promote_writes_only_a_changed_tag(tmp_path: Path) -> None:
    path = tmp_path / "kustomization.yaml"
    path.write_text(OVERLAY)
    steps, _ = op.drive(ops.promote(tmp_path, path, "company", IMAGE, "v0.2.0"), _answer)
    (write, proof) = steps
    assert isinstance(write, WriteFile) and "newTag: v0.2.0" in str(write.content)
    assert "# promoted by CI" in str(write.content) and isinstance(proof, op.Proof)

    steps, _ = op.drive(ops.promote(tmp_path, path, "company", IMAGE, "v0.1.0"), _answer)
    assert steps == []
