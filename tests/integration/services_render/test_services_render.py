"""Each service overlay renders with the real kubectl kustomize and validates."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
SERVICES = REPO / "deploy" / "services"
NAMES = ["organization", "company", "property", "user", "landlord-bff", "landlord-web"]

Render = Callable[[Path], list[dict[str, Any]]]
Check = Callable[[list[dict[str, Any]]], list[str]]
Contract = Callable[[str, list[dict[str, Any]]], list[str]]


def test_every_service_directory_is_an_overlay_and_only_those():
    components = sorted(p.parent.name for p in SERVICES.glob("*/component.yaml"))
    assert components == sorted(NAMES)
    assert not (SERVICES / "base" / "component.yaml").exists()


@pytest.mark.parametrize("name", NAMES)
def test_component_metadata(name: str):
    meta = yaml.safe_load((SERVICES / name / "component.yaml").read_text())
    assert meta["name"] == name
    assert meta["namespace"] == "propertea"
    assert meta["wave"] >= 40


@pytest.mark.parametrize("name", NAMES)
def test_service_renders_and_validates(name: str, render: Render, problems: Check):
    docs = render(SERVICES / name)
    assert problems(docs) == []
    assert {d["metadata"]["namespace"] for d in docs} == {"propertea"}


@pytest.mark.parametrize("name", NAMES)
def test_service_keeps_its_contract(name: str, render: Render, contract: Contract):
    assert contract(name, render(SERVICES / name)) == []


@pytest.mark.parametrize("name", NAMES)
def test_image_is_pinned_in_the_kustomize_images_list(name: str):
    kustomization = yaml.safe_load((SERVICES / name / "kustomization.yaml").read_text())
    assert kustomization["images"] == [
        {"name": f"ghcr.io/propertea/propertea-{name}", "newTag": "v0.1.0"}
    ]


def test_a_new_tag_reaches_the_rendered_image(tmp_path: Path, render: Render):
    tree = tmp_path / "services"
    shutil.copytree(SERVICES, tree)
    path = tree / "company" / "kustomization.yaml"
    path.write_text(path.read_text().replace("newTag: v0.1.0", "newTag: v0.2.0"))
    images = {
        c["image"]
        for d in render(tree / "company")
        if d["kind"] == "Rollout"
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"ghcr.io/propertea/propertea-company:v0.2.0"}


def _mutated(docs: list[dict[str, Any]], kind: str, edit: Callable[[dict[str, Any]], None]):
    out = copy.deepcopy(docs)
    for d in out:
        if d["kind"] == kind:
            edit(d)
    return out


def test_contract_catches_a_canary_service_that_is_not_rendered(render: Render, contract: Contract):
    docs = render(SERVICES / "organization")

    def drop(d: dict[str, Any]) -> None:
        d["spec"]["strategy"]["canary"]["canaryService"] = "nowhere"

    assert contract("organization", _mutated(docs, "Rollout", drop)) == [
        "organization: canaryService 'nowhere' is not a rendered Service",
        "organization: HTTPRoute backends ['organization-app-canary', "
        "'organization-app-stable'] are not stable + canary",
    ]


def test_contract_catches_analysis_against_vmagent(render: Render, contract: Contract):
    docs = render(SERVICES / "user")

    def vmagent(d: dict[str, Any]) -> None:
        d["spec"]["metrics"][0]["provider"]["prometheus"]["address"] = "http://vmagent:8429"

    assert contract("user", _mutated(docs, "AnalysisTemplate", vmagent)) == [
        "user: analysis queries http://vmagent:8429, not VMSingle on 8428"
    ]


def test_contract_catches_a_scaledobject_on_the_wrong_queue(render: Render, contract: Contract):
    docs = render(SERVICES / "property")

    def other_queue(d: dict[str, Any]) -> None:
        d["spec"]["triggers"][0]["metadata"]["queueName"] = "company"

    assert contract("property", _mutated(docs, "ScaledObject", other_queue)) == [
        "property: trigger is not the rabbitmq queue 'property'"
    ]


def test_schema_check_catches_a_bad_probe_in_the_pod_template(render: Render, problems: Check):
    docs = render(SERVICES / "landlord-web")

    def bad_probe(d: dict[str, Any]) -> None:
        d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = [1]

    found = problems(_mutated(docs, "Rollout", bad_probe))
    assert len(found) == 1
    assert found[0].startswith("Rollout/landlord-web-app: ")
    assert "readinessProbe" in found[0]


def test_schema_check_catches_an_unknown_crd_field(render: Render, problems: Check):
    docs = render(SERVICES / "company")

    def typo(d: dict[str, Any]) -> None:
        d["spec"]["minReplicas"] = 1

    found = problems(_mutated(docs, "ScaledObject", typo))
    assert found == [
        "ScaledObject/company-app: spec: Additional properties are not allowed "
        "('minReplicas' was unexpected)"
    ]


def test_schema_check_rejects_a_kind_without_schema(problems: Check):
    doc = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert problems([doc]) == ["Widget/w: no schema for example.com/v1 Widget"]
