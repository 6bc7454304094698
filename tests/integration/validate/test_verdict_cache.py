"""Schema verdicts cached by content: a warm run reports what a cold one does, re-validates
only edited documents, and never compiles the schema of a kind whose documents are unchanged."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tasks.core.runner import Runner
from tasks.validate.engine import Workspace, run
from tasks.validate.model import Result
from tasks.validate.schemas import SchemaStore
from tests.integration.validate.conftest import settings_for

SERVICE = "deploy/services/demo/service.yaml"
VALUES = "deploy/infrastructure/cilium/values.yaml"
GROUP = "gateway.networking.k8s.io"


def validate(root: Path, shared: Path, cache: Path) -> tuple[Result, Workspace]:
    ws = Workspace(None, root=root, settings=settings_for(shared, cache), runner=Runner())
    return run(ws, ["manifests", "values"]), ws


def schema_problems(result: Result) -> list[str]:
    return [str(p) for p in result.problems if p.check.endswith("/schema")]


def test_warm_run_reports_the_same_and_rechecks_only_the_edit(
    base_tree: Path, shared_schemas: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    service = base_tree / SERVICE
    service.write_text(service.read_text().replace("port: 80\n", "port: eighty\n"))
    values = base_tree / VALUES
    values.write_text(values.read_text().replace("Replacement: true", "Replacement: [true]"))
    cold, ws = validate(base_tree, shared_schemas, cache)
    assert ws.schema_results.misses > 0 and ws.schema_results.hits == 0
    assert any(f"{SERVICE}:10:" in p and "manifests/schema" in p for p in schema_problems(cold))
    assert any(f"{VALUES}:4:" in p and "values/schema" in p for p in schema_problems(cold))

    warm, ws = validate(base_tree, shared_schemas, cache)
    assert schema_problems(warm) == schema_problems(cold)
    assert ws.schema_results.misses == 0 and ws.schema_results.hits > 0
    assert ws.schemas._validators == {}  # nothing compiled: every verdict came from the cache

    service.write_text(service.read_text().replace("port: eighty\n", "port: 80\n"))
    fixed, ws = validate(base_tree, shared_schemas, cache)
    assert [p for p in schema_problems(fixed) if "manifests/" in p] == []
    assert ws.schema_results.misses == 1  # only the edited Service was validated again
    assert list(ws.schemas._validators) == [("v1", "Service")]


def test_a_changed_schema_file_invalidates_its_verdicts(
    shared_schemas: Path, tmp_path: Path
) -> None:
    crds = tmp_path / "crds"
    shutil.copytree(shared_schemas / "crds" / "gateway.networking.k8s.io", crds / GROUP)
    store = SchemaStore("1.36.0", crds, {})
    before = store.identity(f"{GROUP}/v1", "HTTPRoute")
    assert before != store.identity(f"{GROUP}/v1", "Gateway")
    schema = crds / GROUP / "httproute_v1.json"
    os.utime(schema, ns=(0, schema.stat().st_mtime_ns + 1_000_000_000))
    assert SchemaStore("1.36.0", crds, {}).identity(f"{GROUP}/v1", "HTTPRoute") != before
