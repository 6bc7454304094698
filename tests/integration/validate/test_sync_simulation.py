"""`inv gitops.simulate` and the `sync` family: the bring-up stalls, on copies of the real tree.

Each planted defect is one way a RollingSync step never turns Healthy: a route whose parent comes
later, a certificate only the outside world can issue, a queue nobody declares, a CRD that comes
later, a component no layer deploys.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Inv

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "deploy", root / "deploy")
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _stalls(validate: Any, root: Path) -> list[tuple[str, str, str]]:
    result = validate(root, ["sync"])
    return [(p.check, p.path, p.message) for p in result.problems]


def test_the_real_tree_turns_healthy_step_by_step(tree: Path, validate: Any) -> None:
    assert _stalls(validate, tree) == []


def test_a_chart_route_synced_before_its_gateway_stalls(tree: Path, validate: Any) -> None:
    values = tree / "deploy/infrastructure/argocd/values.yaml"
    _edit(
        values,
        "  dex:\n",
        "  server:\n    httproute:\n      enabled: true\n      parentRefs:\n"
        "        - name: shared\n          namespace: gateway\n  dex:\n",
    )
    [(check, path, message)] = _stalls(validate, tree)
    assert (check, path) == ("sync/stall", "deploy/infrastructure/argocd/values.yaml")
    assert message.startswith("argocd (infrastructure wave -4) cannot turn Healthy")
    assert "Gateway gateway/shared is synced later (infrastructure wave -1)" in message


def test_a_route_manifest_before_its_gateway_stalls(tree: Path, validate: Any) -> None:
    _edit(tree / "deploy/infrastructure/argocd-route/component.yaml", "wave: 0", "wave: -2")
    [(check, path, message)] = _stalls(validate, tree)
    assert (check, path) == ("sync/stall", "deploy/infrastructure/argocd-route/httproute.yaml")
    assert "Progressing until its parent reports status" in message


def test_a_gateway_waiting_for_lets_encrypt_stalls(tree: Path, validate: Any) -> None:
    _edit(
        tree / "deploy/infrastructure/gateway/certificate.yaml",
        '    cert-manager.io/issue-temporary-certificate: "true"\n',
        "",
    )
    [(check, path, message)] = _stalls(validate, tree)
    assert (check, path) == ("sync/stall", "deploy/infrastructure/gateway/gateway.yaml")
    assert "ResolvedRefs=False until Secret gateway/wildcard-tls exists" in message
    assert "issued by ACME (outside the cluster)" in message


def test_a_gateway_certificate_nobody_provides_stalls(tree: Path, validate: Any) -> None:
    _edit(tree / "deploy/infrastructure/gateway/kustomization.yaml", "  - certificate.yaml\n", "")
    [(_, _, message)] = _stalls(validate, tree)
    assert "no Secret or Certificate in the tree provides it" in message


def test_an_acme_issuer_whose_health_counts_stalls(tree: Path, validate: Any) -> None:
    _edit(
        tree / "deploy/infrastructure/cluster-issuers/letsencrypt-staging.yaml",
        '    argocd.argoproj.io/ignore-healthcheck: "true"\n',
        "",
    )
    [(_check, path, message)] = _stalls(validate, tree)
    assert path == "deploy/infrastructure/cluster-issuers/letsencrypt-staging.yaml"
    assert "Ready only after ACME registration" in message


def test_a_queue_nobody_declares_stalls_the_services(tree: Path, validate: Any) -> None:
    _edit(
        tree / "deploy/platform/rabbitmq/values.yaml",
        "      - {name: company, vhost: /, durable: true, auto_delete: false, arguments: {}}\n",
        "",
    )
    [(check, _path, message)] = _stalls(validate, tree)
    assert check == "sync/stall"
    assert message.startswith("company (services wave 40) cannot turn Healthy")
    assert "queue 'company', which no component declares" in message


def test_a_queue_declared_later_stalls(tree: Path, validate: Any) -> None:
    # Move RabbitMQ after the services: the layer of a component is its directory.
    shutil.move(tree / "deploy/platform/rabbitmq", tree / "deploy/services/rabbitmq")
    _edit(tree / "deploy/services/rabbitmq/component.yaml", "wave: 21", "wave: 45")
    stalls = _stalls(validate, tree)
    assert len(stalls) == 4
    assert all("is declared (services wave 45)" in m for _, _, m in stalls)


def test_a_crd_installed_later_stalls(tree: Path, validate: Any) -> None:
    shutil.move(tree / "deploy/infrastructure/keda", tree / "deploy/services/keda")
    _edit(tree / "deploy/services/keda/component.yaml", "wave: -3", "wave: 50")
    stalls = _stalls(validate, tree)
    assert stalls
    assert all("its CRD (keda.sh) is installed later (services wave 50)" in m for *_, m in stalls)


def test_a_component_no_layer_deploys_is_reported(tree: Path, validate: Any) -> None:
    extra = tree / "deploy/extras/thing"
    extra.mkdir(parents=True)
    (extra / "component.yaml").write_text("name: thing\nnamespace: thing\nwave: 1\n")
    [(check, path, _)] = _stalls(validate, tree)
    assert (check, path) == ("sync/undeployed", "deploy/extras/thing/component.yaml")


def test_simulate_task_prints_the_stall_and_exits_1(tree: Path, inv: Inv, shared_schemas: Path):
    _edit(tree / "deploy/infrastructure/argocd-route/component.yaml", "wave: 0", "wave: -2")
    env = {"INVOKE_VALIDATE_SHARED_SCHEMAS": str(shared_schemas)}
    result = inv("gitops.simulate", cwd=tree, env=env)
    assert result.returncode == 1, result.output
    assert "the bring-up stalls at infrastructure wave -2: argocd-route cannot turn Healthy" in (
        result.output
    )
    assert "Traceback" not in result.output
    as_json = inv("gitops.simulate", "--json", cwd=tree, env=env)
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["ok"] is False
    assert data["stalled_at"] == {"app": "argocd-route", "step": "infrastructure wave -2"}
    waiting = next(a for a in data["apps"] if a["name"] == "argocd-route")
    assert waiting["blockers"][0]["cause"] == "later"


def test_simulate_task_passes_on_the_real_tree(inv: Inv, shared_schemas: Path) -> None:
    result = inv("gitops.simulate", env={"INVOKE_VALIDATE_SHARED_SCHEMAS": str(shared_schemas)})
    assert result.returncode == 0, result.output
    assert "34 Applications: every step can turn Healthy" in result.output
