"""The Go template subset: what ApplicationSets use, and clear errors for the rest."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.deploytree.gotemplate import TemplateError, render

DATA: dict[str, Any] = {
    "name": "cilium",
    "wave": -3,
    "path": {"path": "deploy/infrastructure/cilium", "basename": "cilium"},
    "valueFiles": ["values.yaml", "secrets://secrets.yaml"],
    "metadata": {"labels": {"propertea.io/env": "local"}},
    "serverSideApply": False,
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{.path.basename}}", "cilium"),
        ("{{ .wave }}", "-3"),
        ("w{{ .wave }}", "w-3"),
        ('{{ index .metadata.labels "propertea.io/env" }}', "local"),
        ("{{ .name | upper | quote }}", '"CILIUM"'),
        ('{{ default "x" .missing }}', "x"),
        ('{{ printf "%s-%d" .name .wave }}', "cilium--3"),
        ("{{ .missing }}", "<no value>"),
        ("{{ if .serverSideApply }}ssa{{ else }}csa{{ end }}", "csa"),
        ('{{ if eq .name "cilium" }}yes{{ end }}', "yes"),
        ("{{ if .nope }}a{{ else if .name }}b{{ else }}c{{ end }}", "b"),
        ("{{ if .nope }}a{{ else if .nada }}b{{ else }}c{{ end }}", "c"),
        ("{{ range .valueFiles }}[{{ . }}]{{ end }}", "[values.yaml][secrets://secrets.yaml]"),
        (
            "{{ range $i, $f := .valueFiles }}{{ $i }}={{ $f }};{{ end }}",
            "0=values.yaml;1=secrets://secrets.yaml;",
        ),
        ("{{ range .none }}x{{ else }}empty{{ end }}", "empty"),
        ("{{ with .path }}{{ .basename }}/{{ $.name }}{{ end }}", "cilium/cilium"),
        ("{{ toJson .valueFiles }}", '["values.yaml","secrets://secrets.yaml"]'),
        ("a {{/* a comment */}}b", "a b"),
        ("{{ (len .valueFiles) }}", "2"),
        ("{{ not .serverSideApply }}", "true"),
    ],
)
def test_render(template: str, expected: str) -> None:
    assert render(template, DATA) == expected


def test_trim_markers_eat_whitespace_and_newlines() -> None:
    template = (
        "spec:\n  {{- if .valueFiles }}\n  files:\n  {{- range .valueFiles }}\n"
        "    - {{ . }}\n  {{- end }}\n  {{- end }}\n"
    )
    assert (
        render(template, DATA)
        == "spec:\n  files:\n    - values.yaml\n    - secrets://secrets.yaml\n"
    )


def test_missingkey_error_names_the_key() -> None:
    with pytest.raises(TemplateError, match="map has no entry for key 'nope'"):
        render("{{ .nope }}", DATA, missing_error=True)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ if .name }}x", "missing {{end}}"),
        ("x{{ end }}", "{{end}} without a block"),
        ("{{ else }}", "{{else}} outside a block"),
        ("{{ sha256sum .name }}", 'function "sha256sum" not defined'),
        ('{{ template "x" }}', "not supported"),
        ("{{ $undefined }}", "undefined variable"),
        ("{{ .name.first }}", "can't evaluate field first"),
    ],
)
def test_errors(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        render(template, DATA)
