"""``inv validate`` end to end: output format, JSON, exit codes, paths, bad input, refresh."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Protocol

import pytest

from tasks.validate import replay

REPO = Path(__file__).resolve().parents[3]
MINE = "cluster,manifests,values,talos,policies,secrets,workflows,dockerfiles,yaml"


class ValidateInv(Protocol):
    """This module's ``inv``: the real command line run in ``root``, on the pinned schemas."""

    def __call__(
        self, root: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture
def inv(shared_schemas: Path, render_cache: Path) -> ValidateInv:
    def _inv(
        root: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("INVOKE_VALIDATE_")}
        environment.update(
            {
                "INVOKE_VALIDATE_SHARED_SCHEMAS": str(shared_schemas),
                "INVOKE_VALIDATE_CACHE_DIR": str(render_cache),
                "INVOKE_VALIDATE_FETCH_MISSING": "0",  # loopback only; tests opt in
                **(env or {}),
            }
        )
        return subprocess.run(
            [str(Path(sys.executable).parent / "inv"), "-r", str(REPO), *args],
            cwd=root,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return _inv


def _break_route(root: Path) -> None:
    route = root / "deploy/services/demo/httproute.yaml"
    route.write_text(route.read_text().replace("- name: demo\n", "- name: nothing\n"))


def test_clean_tree_exits_zero_with_a_summary(base_tree: Path, inv: ValidateInv) -> None:
    res = inv(base_tree, "validate", "--only", MINE)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip().splitlines()[-1].endswith(" problems")
    assert ", 0 problems" in res.stdout


def test_problems_print_path_line_object_check_and_exit_one(
    base_tree: Path, inv: ValidateInv
) -> None:
    _break_route(base_tree)
    res = inv(base_tree, "validate", "--only", "policies")
    assert res.returncode == 1
    assert (
        "deploy/services/demo/httproute.yaml:13: HTTPRoute/demo: [policy/route-backend] "
        "backendRef Service demo/nothing does not exist"
    ) in res.stdout
    assert "1 problems" in res.stdout
    assert "validation failed: 1 problem(s)" in res.stderr
    assert "Traceback" not in res.stderr


def test_an_unchanged_repository_replays_its_report_and_an_edit_rechecks(
    base_tree: Path, inv: ValidateInv, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    env = {"INVOKE_VALIDATE_CACHE_DIR": str(cache)}
    time.sleep(replay.RACY_NS / 1e9 + 0.1)  # the copy is older than the racy window
    first = inv(base_tree, "validate", "--only", "manifests,policies", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(list((cache / "runs").glob("*.json"))) == 1
    # A replay renders nothing: the render cache, removed, stays removed.
    shutil.rmtree(cache / "kustomize")
    again = inv(base_tree, "validate", "--only", "manifests,policies", env=env)
    assert (again.returncode, again.stdout) == (0, first.stdout)
    assert not (cache / "kustomize").exists()
    # An edit is validated, and its problems replay with the same exit code.
    _break_route(base_tree)
    broken = inv(base_tree, "validate", "--only", "manifests,policies", env=env)
    assert broken.returncode == 1
    assert "[policy/route-backend] backendRef Service demo/nothing does not exist" in broken.stdout
    assert (cache / "kustomize").is_dir()
    time.sleep(replay.RACY_NS / 1e9 + 0.1)
    stored = inv(base_tree, "validate", "--only", "manifests,policies", env=env)
    replayed = inv(base_tree, "validate", "--only", "manifests,policies", env=env)
    for res in (stored, replayed):
        assert (res.returncode, res.stdout) == (1, broken.stdout)
        assert "validation failed: 1 problem(s)" in res.stderr
    assert len(list((cache / "runs").glob("*.json"))) == 2
    # Switched off, every run validates.
    off = inv(
        base_tree, "validate", "--only", "policies", env={**env, "INVOKE_VALIDATE_REPLAY": "0"}
    )
    assert off.returncode == 1
    assert len(list((cache / "runs").glob("*.json"))) == 2


def test_json_has_the_same_fields(base_tree: Path, inv: ValidateInv) -> None:
    _break_route(base_tree)
    res = inv(base_tree, "validate", "--only", "policies", "--json")
    assert res.returncode == 1
    data = json.loads(res.stdout)
    assert data["problems"] == [
        {
            "path": "deploy/services/demo/httproute.yaml",
            "line": 13,
            "check": "policy/route-backend",
            "message": "backendRef Service demo/nothing does not exist",
            "obj": "HTTPRoute/demo",
        }
    ]
    assert data["files"] > 10
    assert data["documents"] > 10


def test_unknown_family_is_a_usage_error(base_tree: Path, inv: ValidateInv) -> None:
    res = inv(base_tree, "validate", "--only", "manifest")
    assert res.returncode == 2
    assert "--only: unknown check family manifest; choose from cluster, manifests" in res.stderr


def test_missing_path_and_missing_schema_dir_are_usage_errors(
    base_tree: Path, inv: ValidateInv
) -> None:
    res = inv(base_tree, "validate", "--path", "deploy/nope.yaml")
    assert res.returncode == 2
    assert "deploy/nope.yaml: no such file or directory" in res.stderr
    res = inv(
        base_tree,
        "validate",
        "--only",
        "manifests",
        env={"INVOKE_VALIDATE_SCHEMA_DIR": str(base_tree / "no-schemas")},
    )
    assert res.returncode == 2
    assert f"validate.schema_dir: {base_tree / 'no-schemas'} is not a directory" in res.stderr
    assert "Traceback" not in res.stderr


def test_paths_limit_findings_to_what_they_affect(base_tree: Path, inv: ValidateInv) -> None:
    _break_route(base_tree)
    pool = base_tree / "deploy/infrastructure/cilium-lb/pool.yaml"
    pool.write_text(pool.read_text().replace("192.168.50.230", "192.168.50.220"))
    everything = inv(base_tree, "validate", "--only", "policies")
    assert "httproute.yaml" in everything.stdout
    assert "pool.yaml" in everything.stdout
    # The service (a file of the demo component) affects the whole component, not the pool.
    only_demo = inv(
        base_tree, "validate", "--only", "policies", "--", "deploy/services/demo/service.yaml"
    )
    assert only_demo.returncode == 1
    assert "httproute.yaml" in only_demo.stdout
    assert "pool.yaml" not in only_demo.stdout
    only_pool = inv(base_tree, "validate", "--only", "policies", "-p", str(pool))
    assert "pool.yaml" in only_pool.stdout
    assert "httproute.yaml" not in only_pool.stdout
    # The cluster spec is cross-checked against everything.
    spec = inv(
        base_tree, "validate", "--only", "policies", "--", "deploy/local-cluster/cluster.yaml"
    )
    assert "httproute.yaml" in spec.stdout
    assert "pool.yaml" in spec.stdout


def test_dangling_symlink_and_non_utf8_files_are_findings(
    base_tree: Path, inv: ValidateInv
) -> None:
    (base_tree / "deploy/bootstrap/gone.yaml").symlink_to(base_tree / "missing-target.yaml")
    (base_tree / "deploy/bootstrap/latin1.yaml").write_bytes(b"name: caf\xe9\n")
    res = inv(base_tree, "validate", "--only", "manifests")
    assert res.returncode == 1
    # A dangling symlink is refused before any read is tried (only regular files are walked).
    assert (
        "deploy/bootstrap/gone.yaml: [io/not-regular] a symlink: only regular files are validated"
        in res.stdout
    )
    assert "deploy/bootstrap/latin1.yaml: [io/unreadable] not UTF-8 text" in res.stdout
    assert "Traceback" not in res.stderr


def test_schema_file_that_is_not_json(
    base_tree: Path, inv: ValidateInv, shared_schemas: Path
) -> None:
    crds = base_tree.parent / "crds"
    (crds / "cilium.io").mkdir(parents=True)
    (crds / "cilium.io" / "ciliumloadbalancerippool_v2.json").write_text("<html>")
    res = inv(
        base_tree, "validate", "--only", "manifests", env={"INVOKE_VALIDATE_SCHEMA_DIR": str(crds)}
    )
    assert res.returncode == 1
    assert (
        "deploy/infrastructure/cilium-lb/pool.yaml:1: CiliumLoadBalancerIPPool/propertea: "
        f"[schema/unusable] schema {crds}/cilium.io/ciliumloadbalancerippool_v2.json"
    ) in res.stdout
    assert "is unusable: not JSON (line 1" in res.stdout


def test_unknown_kind_can_be_allow_listed_with_a_reason(base_tree: Path, inv: ValidateInv) -> None:
    (base_tree / "deploy/bootstrap/widget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: argocd\n"
    )
    res = inv(base_tree, "validate", "--only", "manifests")
    assert "[manifests/unknown-kind] no schema for example.com/v1 Widget" in res.stdout
    allowed = inv(
        base_tree,
        "validate",
        "--only",
        "manifests",
        env={"INVOKE_VALIDATE_ALLOW_UNKNOWN_KINDS": '{"Widget": "test kind without a CRD"}'},
    )
    assert allowed.returncode == 0, allowed.stdout


def test_a_family_registered_by_another_namespace(base_tree: Path, tmp_path: Path) -> None:
    """register_family() from a tasks/<ns>/validation.py joins --only and the default run."""
    from tasks.core.runner import Runner
    from tasks.validate.engine import Workspace, run
    from tasks.validate.model import Result
    from tasks.validate.registry import _FAMILIES, families, register_family

    def check_extra(ws: Workspace, result: Result) -> None:
        result.add("deploy/extra", 3, "extra/demo", "registered family ran")

    register_family("extra-demo", check_extra, "a test family")
    try:
        assert "extra-demo" in families()
        ws = Workspace(None, root=base_tree, runner=Runner())
        result = run(ws, ["extra-demo"])
        assert [str(p) for p in result.problems] == [
            "deploy/extra:3: [extra/demo] registered family ran"
        ]
    finally:
        _FAMILIES.pop("extra-demo")


@pytest.fixture
def schema_server(shared_schemas: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = partial(Quiet, directory=str(shared_schemas))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_refresh_schemas_downloads_what_the_tree_needs(
    base_tree: Path, inv: ValidateInv, schema_server: str, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    env = {
        "INVOKE_VALIDATE_SHARED_SCHEMAS": "",
        "INVOKE_VALIDATE_CACHE_DIR": str(cache),
        "INVOKE_VALIDATE_CRD_CATALOG_URL": schema_server + "/crds/{group}/{kind}_{version}.json",
        "INVOKE_VALIDATE_TALOS_SCHEMA_URL": schema_server + "/talos/v{version}.config.schema.json",
        "INVOKE_VALIDATE_VALUES_SCHEMA_URLS": json.dumps(
            {"cilium": schema_server + "/cilium/values.schema.1.20.0-dev.json"}
        ),
    }
    before = inv(base_tree, "validate", "--only", "manifests,talos,values", env=env)
    assert before.returncode == 1
    assert "run `inv validate --refresh-schemas`" in before.stdout
    assert not (cache / "schemas").exists(), "fetch_missing off: the network is never touched"
    res = inv(
        base_tree, "validate", "--only", "manifests,talos,values", "--refresh-schemas", env=env
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"schema file(s) into {cache / 'schemas'}" in res.stdout
    stored = cache / "schemas"
    commit = "7b1e26ef9deea49293714d204c1a2270aab1178f"
    assert (stored / commit / "cilium.io" / "ciliumloadbalancerippool_v2.json").is_file()
    assert (stored / commit / "argoproj.io" / "applicationset_v1alpha1.json").is_file()
    assert (stored / "talos" / "v1.13.9.config.schema.json").is_file()
    assert (stored / "cilium" / "values.schema.1.20.0.json").is_file()
    # Core kinds come from kubernetes-validate, never from the catalog.
    assert not (stored / commit / "apps").exists()
    # Offline afterwards: the cache is enough.
    again = inv(base_tree, "validate", "--only", "manifests,talos,values", env=env)
    assert again.returncode == 0, again.stdout


def test_a_missing_schema_is_fetched_once_then_validation_is_offline(
    base_tree: Path, inv: ValidateInv, shared_schemas: Path, tmp_path: Path
) -> None:
    """What `nox -s validate` relies on without ../shared: the first run fetches the pinned
    files the cache lacks; later runs need no network (the server is gone)."""
    cache = tmp_path / "cache"

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Quiet, directory=str(shared_schemas))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = f"http://127.0.0.1:{httpd.server_address[1]}"
    env = {
        "INVOKE_VALIDATE_FETCH_MISSING": "1",
        "INVOKE_VALIDATE_SHARED_SCHEMAS": "",
        "INVOKE_VALIDATE_CACHE_DIR": str(cache),
        "INVOKE_VALIDATE_CRD_CATALOG_URL": server + "/crds/{group}/{kind}_{version}.json",
        "INVOKE_VALIDATE_TALOS_SCHEMA_URL": server + "/talos/v{version}.config.schema.json",
        "INVOKE_VALIDATE_VALUES_SCHEMA_URLS": json.dumps(
            {"cilium": server + "/cilium/values.schema.1.20.0-dev.json"}
        ),
    }
    only = ("validate", "--only", "manifests,talos,values")
    try:
        first = inv(base_tree, *only, env=env)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"pinned schema file(s) into {cache / 'schemas'} (once)" in first.stdout
    offline = inv(base_tree, *only, env=env)
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "fetched" not in offline.stdout
