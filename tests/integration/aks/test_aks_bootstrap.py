"""`inv aks.bootstrap` through the fakes: the phases in order, resumable, and a failing phase."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import InvHere
from tests.fakes import FakeTools
from tests.integration.aks.conftest import CONVERGED

KUBECONFIG = "apiVersion: v1\nkind: Config\ncurrent-context: propertea\n"


def scenario(fake_tools: FakeTools, *extra: dict[str, object]) -> None:
    credentials = {
        "tool": "az",
        "match": ["aks", "get-credentials"],
        "writes": {"{flag:--file}": KUBECONFIG},
    }
    fake_tools.scenario([*extra, credentials, *CONVERGED])


def test_bootstrap_runs_every_phase_once(
    inv_here: InvHere, fake_tools: FakeTools, aks_env: dict[str, str], state_dir: Path
) -> None:
    scenario(fake_tools)
    result = inv_here("aks.bootstrap", env=aks_env)
    assert result.returncode == 0, result.output
    kubeconfig = str(state_dir / "kubeconfig")
    assert (state_dir / "kubeconfig").read_text() == KUBECONFIG
    kubectl = fake_tools.calls("kubectl")
    assert [c["argv"][:5] for c in kubectl] == [
        ["--kubeconfig", kubeconfig, "apply", "--server-side", "--filename"],
        ["--kubeconfig", kubeconfig, "apply", "--server-side", "--force-conflicts"],
        ["--kubeconfig", kubeconfig, "apply", "--kustomize", "deploy/aks/bootstrap"],
        [
            "--kubeconfig",
            kubeconfig,
            "apply",
            "--filename",
            "deploy/bootstrap/root-application.yaml",
        ],
    ]
    assert "host: propertea-dns.hcp.westeurope.azmk8s.io" in kubectl[0]["stdin"]
    helm = [c["argv"] for c in fake_tools.calls("helm")]
    installs = [a[3] for a in helm if a[:2] == ["upgrade", "--install"]]
    assert installs == ["deploy/infrastructure/cilium", "external-secrets", "argo/argo-cd"]
    cilium = next(a for a in helm if "deploy/infrastructure/cilium" in a)
    assert "deploy/infrastructure/cilium/values-aks.yaml" in cilium
    eso = next(a for a in helm if "external-secrets" in a[:4])
    assert "serviceAccount.annotations.azure\\.workload\\.identity/client-id=eso-client-id" in eso
    argocd = next(c for c in fake_tools.calls("helm") if "argo/argo-cd" in c["argv"])
    assert "propertea.io/env: aks" in argocd["stdin"]
    phases = json.loads((state_dir / "phases.json").read_text())["aks.bootstrap"]
    assert sorted(phases) == sorted(
        [
            "credentials",
            "api-server",
            "gateway-api-crds",
            "cilium",
            "external-secrets",
            "aks-bootstrap",
            "argocd",
            "root-application",
        ]
    )

    fake_tools.reset_log()
    again = inv_here("aks.bootstrap", env=aks_env)
    assert again.returncode == 0, again.output
    assert fake_tools.calls("helm") == [] and fake_tools.calls("kubectl") == []
    assert again.output.count("done earlier, skipped") == 8


def test_a_failing_phase_says_how_to_resume_and_resumes_there(
    inv_here: InvHere, fake_tools: FakeTools, aks_env: dict[str, str]
) -> None:
    broken = {
        "tool": "helm",
        "match": ["upgrade", "--install", "cilium"],
        "fail_times": 1,
        "fail_stderr": "Error: context deadline exceeded\n",
    }
    scenario(fake_tools, broken)
    failed = inv_here("aks.bootstrap", env=aks_env)
    assert failed.returncode != 0
    assert "context deadline exceeded" in failed.output
    assert "Phase cilium did not finish" in failed.output
    assert "`inv aks.bootstrap` again" in failed.output

    fake_tools.reset_log()
    resumed = inv_here("aks.bootstrap", env=aks_env)
    assert resumed.returncode == 0, resumed.output
    assert resumed.output.count("done earlier, skipped") == 3
    assert fake_tools.argvs("az")[0][:2] != ["aks", "get-credentials"]


def test_unknown_phase_is_refused_before_anything_runs(
    inv_here: InvHere, fake_tools: FakeTools, aks_env: dict[str, str]
) -> None:
    result = inv_here("aks.bootstrap", "--only", "ciliun", env=aks_env)
    assert result.returncode == 2
    assert "--only 'ciliun': not a phase" in result.output
    assert fake_tools.calls() == []
