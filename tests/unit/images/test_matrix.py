"""The GitHub Actions matrix from release-please outputs or from changed files; bad input named."""

from __future__ import annotations

import json

import pytest

from tasks.core.errors import UserError
from tasks.images.matrix import from_changed_files, from_release_outputs, matrix_json
from tasks.release.components import Component


def _component(name: str, path: str, kind: str = "dotnet") -> Component:
    return Component(name, path, kind, "x", f"propertea-{name}", "0.1.0", "")  # type: ignore[arg-type]


COMPONENTS = [
    _component("company", "apps/services/ProperTea.Company"),
    _component("landlord-web", "apps/portals/landlord/web", "web"),
    _component("property", "apps/services/ProperTea.Property"),
]

#: What `toJSON(steps.release.outputs)` gives for one released path (release-please-action v5).
OUTPUTS = {
    "releases_created": "true",
    "release_created": "false",
    "paths_released": '["apps/services/ProperTea.Company"]',
    "prs_created": "false",
    "apps/services/ProperTea.Company--release_created": "true",
    "apps/services/ProperTea.Company--tag_name": "company-v1.3.0",
    "apps/services/ProperTea.Company--version": "1.3.0",
    "apps/services/ProperTea.Company--sha": "4ae48c7",
}


def test_from_release_outputs() -> None:
    entries = from_release_outputs(json.dumps(OUTPUTS), COMPONENTS)
    assert matrix_json(entries) == (
        '{"include":[{"component":"company","path":"apps/services/ProperTea.Company",'
        '"kind":"dotnet","version":"1.3.0"}]}'
    )


def test_nothing_released_is_an_empty_matrix() -> None:
    outputs = {"releases_created": "false", "paths_released": "[]"}
    assert from_release_outputs(json.dumps(outputs), COMPONENTS) == []


def test_released_path_unknown_to_apps() -> None:
    outputs = {"paths_released": '["apps/services/Gone"]'}
    with pytest.raises(UserError, match="released apps/services/Gone, which apps/ does not hold"):
        from_release_outputs(json.dumps(outputs), COMPONENTS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "release-please outputs are not JSON"),
        ("[]", "expected a JSON object of step outputs"),
        ('{"paths_released": "oops"}', "paths_released is not a JSON list: 'oops'"),
    ],
)
def test_bad_outputs(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        from_release_outputs(text, COMPONENTS)


def test_from_changed_files() -> None:
    files = [
        "apps/portals/landlord/web/src/app.ts",
        "apps/services/ProperTea.Company/Program.cs",
        "apps/services/ProperTea.Company/version.txt",
        "README.md",
        "deploy/services/company/kustomization.yaml",
    ]
    assert [e["component"] for e in from_changed_files(files, COMPONENTS)] == [
        "company",
        "landlord-web",
    ]


@pytest.mark.parametrize("text", ["{not json", "[]"])
def test_unreadable_outputs_say_how_to_pass_them(text: str) -> None:
    with pytest.raises(UserError) as info:
        from_release_outputs(text, COMPONENTS)
    assert "toJSON(steps.release.outputs)" in info.value.text
    assert "inv images.matrix --release-outputs -" in info.value.text
