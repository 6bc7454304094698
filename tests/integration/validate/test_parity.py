"""The ``parity`` family and ``inv gitops.parity`` on copies of the real deploy/ tree."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tasks.validate.families import parity_contracts

REPO = Path(__file__).resolve().parents[3]


def problems(result: Any) -> list[tuple[str, str, str]]:
    return [(p.check, p.path, p.obj) for p in result.problems]


def test_todays_tree_differs_only_by_its_contracts(real_deploy: Path, validate: Any) -> None:
    result = validate(real_deploy, ["parity"])
    assert [str(p) for p in result.problems] == []


def _five_replicas_on_aks(root: Path) -> None:
    env = root / "deploy/services/company/env/aks/kustomization.yaml"
    env.write_text(
        env.read_text()
        + "patches:\n"
        + "  - target:\n      kind: Rollout\n    patch: |-\n"
        + "      - op: replace\n        path: /spec/replicas\n        value: 5\n"
    )


def test_an_app_manifest_changed_only_for_aks_fails_with_object_and_field(
    real_deploy: Path, validate: Any
) -> None:
    _five_replicas_on_aks(real_deploy)
    result = validate(real_deploy, ["parity"])
    assert problems(result) == [
        ("parity/uncovered", "deploy/services/company", "Rollout propertea/company-app")
    ]
    message = result.problems[0].message
    assert "company: Rollout propertea/company-app field spec.replicas" in message
    assert "spec.replicas: only in aks: 5." in message
    assert "deploy/aks/contracts.yaml" in message


def test_a_values_key_outside_the_contracts_fails_naming_the_key(
    real_deploy: Path, validate: Any
) -> None:
    values = real_deploy / "deploy/infrastructure/cilium/values-aks.yaml"
    values.write_text(values.read_text() + "  hubble:\n    relay:\n      enabled: false\n")
    result = validate(real_deploy, ["parity"])
    assert problems(result) == [
        ("parity/uncovered", "deploy/infrastructure/cilium/values-aks.yaml", "")
    ]
    assert "cilium: Helm values field cilium.hubble.relay.enabled" in result.problems[0].message


def test_an_application_only_in_aks_fails(real_deploy: Path, validate: Any) -> None:
    extra = real_deploy / "deploy/bootstrap/apps/aks-only.yaml"
    extra.write_text(
        """apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: aks-only
  namespace: argocd
spec:
  goTemplate: true
  generators:
    - clusters:
        selector:
          matchLabels:
            propertea.io/env: aks
  template:
    metadata:
      name: extra-monitoring
    spec:
      project: propertea
      source:
        repoURL: https://github.com/propertea/propertea.git
        targetRevision: main
        path: deploy/observability/grafana
      destination:
        server: "{{ .server }}"
        namespace: monitoring
"""
    )
    result = validate(real_deploy, ["parity"])
    assert problems(result) == [("parity/uncovered", "deploy/bootstrap/apps/aks-only.yaml", "")]
    assert result.problems[0].message.startswith("extra-monitoring: Application: only in aks")


def test_a_rule_that_covers_nothing_any_more_is_stale(real_deploy: Path, validate: Any) -> None:
    shutil.rmtree(real_deploy / "deploy/infrastructure/gateway/env/aks")
    result = validate(real_deploy, ["parity"])
    assert problems(result) == [("parity/stale", "deploy/aks/contracts.yaml", "")]
    assert "contract gateway-address: rule `app gateway Gateway/shared" in (
        result.problems[0].message
    )


def test_a_broken_contracts_file_is_one_finding(real_deploy: Path, validate: Any) -> None:
    contracts = real_deploy / "deploy/aks/contracts.yaml"
    contracts.write_text(contracts.read_text().replace("    covers:\n", "    cover:\n", 1))
    result = validate(real_deploy, ["parity"])
    assert problems(result) == [("parity/render", "deploy/aks/contracts.yaml", "")]
    assert "contracts.0.cover: Extra inputs are not permitted" in result.problems[0].message


def test_the_readme_table_is_the_contracts_file() -> None:
    contracts = parity_contracts.load(REPO / "deploy")
    readme = (REPO / "deploy/aks/README.md").read_text()
    assert parity_contracts.readme_table(contracts) in readme


def test_the_task_lists_covered_differences_and_fails_on_others(
    real_deploy: Path, inv: Any, tmp_path: Path
) -> None:
    env = {"INVOKE_VALIDATE_CACHE_DIR": str(tmp_path / "cache")}
    ok = inv("gitops.parity", cwd=real_deploy, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "velero-backups" in ok.stdout
    assert "aks differs from local only by backend contracts" in ok.stdout

    values = real_deploy / "deploy/infrastructure/velero/values-aks.yaml"
    values.write_text(values.read_text() + "  resources:\n    limits:\n      memory: 2Gi\n")
    failed = inv("gitops.parity", "--json", cwd=real_deploy, env=env)
    assert failed.returncode == 1
    assert "velero: Helm values field velero.resources.limits.memory" in failed.stderr
    assert '"uncovered": [' in failed.stdout
    assert "Traceback" not in failed.stderr


def test_the_aks_family_checks_the_spec_and_its_names(real_deploy: Path, validate: Any) -> None:
    assert [str(p) for p in validate(real_deploy, ["aks"]).problems] == []

    gateway = real_deploy / "deploy/infrastructure/gateway/env/aks/kustomization.yaml"
    gateway.write_text(gateway.read_text().replace("propertea-gateway", "renamed-ip"))
    result = validate(real_deploy, ["aks"])
    assert problems(result) == [("aks/names", "deploy/aks/cluster.yaml", "")]
    assert "says 'renamed-ip' but gateway_ip is 'propertea-gateway'" in result.problems[0].message

    spec = real_deploy / "deploy/aks/cluster.yaml"
    spec.write_text(spec.read_text().replace("node_count: 3", "node_count: many"))
    result = validate(real_deploy, ["aks"])
    assert problems(result) == [("aks/spec", "deploy/aks/cluster.yaml", "")]
    assert "cluster.node_count: Input should be a valid integer" in result.problems[0].message


def test_an_unchanged_tree_reuses_the_verdict_and_an_edit_does_not(
    real_deploy: Path, validate: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from tasks.validate.families import parity

    cache = tmp_path / "cache"
    first = validate(real_deploy, ["parity"], cache_dir=cache)
    assert first.problems == []
    [entry] = (cache / "parity").glob("*.json")
    rendered = []
    real = parity.parity
    monkeypatch.setattr(parity, "parity", lambda ws: rendered.append(1) or real(ws))
    again = validate(real_deploy, ["parity"], cache_dir=cache)
    mine = [n for n in first.notes if "not compared for aks" in n]
    assert mine and [n for n in again.notes if "not compared for aks" in n] == mine
    assert (again.problems, rendered) == ([], [])
    values = real_deploy / "deploy/infrastructure/cilium/values-aks.yaml"
    values.write_text(values.read_text() + "  hubble:\n    relay:\n      enabled: false\n")
    edited = validate(real_deploy, ["parity"], cache_dir=cache)
    assert rendered == [1]
    assert problems(edited) == [
        ("parity/uncovered", "deploy/infrastructure/cilium/values-aks.yaml", "")
    ]
    assert len(list((cache / "parity").glob("*.json"))) == 2
    assert entry.exists()


def test_after_an_edit_only_the_builds_reading_it_are_rendered_again(
    real_deploy: Path, validate: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from tasks.validate.families import parity

    cache = tmp_path / "cache"
    rendered: list[str] = []
    real = parity._Renderer.build
    monkeypatch.setattr(
        parity._Renderer,
        "build",
        lambda self, root, src: rendered.append(src) or real(self, root, src),
    )
    assert validate(real_deploy, ["parity"], cache_dir=cache).problems == []
    assert len(rendered) > 3
    rendered.clear()
    _five_replicas_on_aks(real_deploy)
    edited = validate(real_deploy, ["parity"], cache_dir=cache)
    assert rendered == ["deploy/services/company"]
    assert problems(edited) == [
        ("parity/uncovered", "deploy/services/company", "Rollout propertea/company-app")
    ]
    # A shared component is read by every build that uses it.
    rendered.clear()
    shared = real_deploy / "deploy/services/components/env-aks/kustomization.yaml"
    shared.write_text(shared.read_text() + "\n")
    validate(real_deploy, ["parity"], cache_dir=cache)
    assert len(rendered) > 1
