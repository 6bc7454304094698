"""Offline ApplicationSet expansion: generators, templates, patches, and the real deploy/ tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tasks.deploytree import appset
from tasks.gitops.facts import install_inputs

IN_CLUSTER = appset.Cluster(
    "in-cluster", "https://kubernetes.default.svc", {"propertea.io/env": "local"}
)

APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: infra
  namespace: argocd
spec:
  goTemplate: true
  generators:
    - matrix:
        generators:
          - git:
              repoURL: https://example.invalid/repo.git
              revision: main
              files:
                - path: deploy/infra/*/component.yaml
          - clusters:
              selector:
                matchExpressions:
                  - {key: propertea.io/env, operator: In, values: [local, aks]}
  template:
    metadata:
      name: "{{ .name }}"
      annotations:
        argocd.argoproj.io/sync-wave: "{{ .wave }}"
    spec:
      project: p
      source:
        repoURL: https://example.invalid/repo.git
        targetRevision: main
        path: "{{ .path.path }}"
      destination:
        server: "{{ .server }}"
        namespace: "{{ .namespace }}"
  templatePatch: |
    spec:
      source:
      {{- if .valueFiles }}
        helm:
          valueFiles:
          {{- range .valueFiles }}
            - {{ . | quote }}
          {{- end }}
            - values-{{ index .metadata.labels "propertea.io/env" }}.yaml
      {{- else }}
        kustomize:
          components: [env/{{ index .metadata.labels "propertea.io/env" }}]
      {{- end }}
"""

DIRS = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: svc}
spec:
  generators:
    - git:
        repoURL: x
        revision: main
        directories:
          - path: deploy/svc/*
          - path: deploy/svc/base
            exclude: true
  template:
    metadata:
      name: "svc-{{path.basename}}"
    spec:
      project: p
      source: {repoURL: x, targetRevision: main, path: "{{path}}"}
      destination:
        server: https://kubernetes.default.svc
        namespace: "{{path.basenameNormalized}}"
"""


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(tmp_path, "deploy/bootstrap/apps/infra.yaml", APPSET)
    write(tmp_path, "deploy/bootstrap/apps/svc.yaml", DIRS)
    write(
        tmp_path,
        "deploy/bootstrap/root.yaml",
        "kind: Application\nmetadata: {name: root}\nspec:\n  project: default\n"
        "  source: {repoURL: x, path: deploy/bootstrap/apps}\n"
        "  destination: {server: https://kubernetes.default.svc, namespace: argocd}\n",
    )
    write(
        tmp_path,
        "deploy/infra/cert-manager/component.yaml",
        "name: cert-manager\nnamespace: cert-manager\nwave: -3\nvalueFiles: [values.yaml]\n",
    )
    write(
        tmp_path,
        "deploy/infra/cert-manager/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies:\n"
        "  - {name: cert-manager, version: v1.21.1, repository: oci://quay.io/jetstack/charts}\n",
    )
    write(
        tmp_path, "deploy/infra/gateway/component.yaml", "name: gateway\nnamespace: gw\nwave: -1\n"
    )
    write(tmp_path, "deploy/infra/gateway/kustomization.yaml", "resources: []\n")
    write(tmp_path, "deploy/svc/Company_API/kustomization.yaml", "resources: []\n")
    write(tmp_path, "deploy/svc/base/kustomization.yaml", "resources: []\n")
    (tmp_path / "deploy/svc/.hidden").mkdir()
    return tmp_path


def test_fixture_tree_renders_every_application(tree: Path) -> None:
    apps = appset.render_tree(tree, Path("deploy/bootstrap"), [IN_CLUSTER])
    summary = [(a.wave, a.name, a.dest_namespace, [s.describe() for s in a.sources]) for a in apps]
    assert summary == [
        (
            -3,
            "cert-manager",
            "cert-manager",
            ["deploy/infra/cert-manager (helm: cert-manager v1.21.1)"],
        ),
        (-1, "gateway", "gw", ["deploy/infra/gateway (kustomize)"]),
        (0, "root", "argocd", ["deploy/bootstrap/apps (directory)"]),
        (0, "svc-Company_API", "company-api", ["deploy/svc/Company_API (kustomize)"]),
    ]
    cert = next(a for a in apps if a.name == "cert-manager")
    assert cert.dest_server == "https://kubernetes.default.svc"
    assert cert.raw["spec"]["source"]["helm"]["valueFiles"] == ["values.yaml", "values-local.yaml"]
    gateway = next(a for a in apps if a.name == "gateway")
    assert gateway.raw["spec"]["source"]["kustomize"] == {"components": ["env/local"]}
    assert cert.generated_by == "ApplicationSet infra"


def test_clusters_outside_the_selector_generate_nothing(tree: Path) -> None:
    dev = appset.Cluster("dev", "https://dev", {"propertea.io/env": "dev"})
    apps = appset.render_tree(tree, Path("deploy/bootstrap"), [dev])
    assert [a.name for a in apps] == ["root", "svc-Company_API"]


def test_json_lists_source_destination_and_wave(tree: Path) -> None:
    apps = appset.render_tree(tree, Path("deploy/bootstrap"), [IN_CLUSTER])
    cert = appset.as_json(apps[0])
    assert cert["wave"] == -3
    assert cert["destination"] == {
        "server": "https://kubernetes.default.svc",
        "namespace": "cert-manager",
    }
    assert cert["sources"][0]["charts"] == [{"name": "cert-manager", "version": "v1.21.1"}]
    assert cert["sources"][0]["valueFiles"] == ["values.yaml", "values-local.yaml"]


def test_a_chart_source_shows_chart_and_version(tmp_path: Path) -> None:
    app = appset.summarize(
        {
            "metadata": {"name": "a"},
            "spec": {
                "source": {
                    "repoURL": "https://charts",
                    "chart": "argo-cd",
                    "targetRevision": "9.4.0",
                },
                "destination": {"name": "in-cluster", "namespace": "argocd"},
            },
        },
        tmp_path,
        "Application",
        "f.yaml",
    )
    assert app.sources[0].describe() == "chart argo-cd 9.4.0 (https://charts)"
    assert app.dest_server == "in-cluster"


@pytest.mark.parametrize(
    ("generators", "message"),
    [
        ("[{scmProvider: {}}]", "generator scmProvider is not supported offline"),
        ("[{git: {repoURL: x}}]", "needs directories or files"),
        ("[{matrix: {generators: [{list: {elements: []}}]}}]", "exactly two generators"),
    ],
)
def test_unsupported_generators_are_named(tmp_path: Path, generators: str, message: str) -> None:
    doc = YAML(typ="safe").load(
        f"metadata: {{name: x}}\nspec:\n  generators: {generators}\n"
        "  template: {metadata: {name: a}}\n"
    )
    with pytest.raises(appset.RenderError, match=message):
        appset.expand(doc, tmp_path, "f.yaml", [])


def test_missingkey_error_names_the_appset(tree: Path) -> None:
    strict = APPSET.replace(
        "goTemplate: true", 'goTemplate: true\n  goTemplateOptions: ["missingkey=error"]'
    )
    write(tree, "deploy/bootstrap/apps/infra.yaml", strict)
    with pytest.raises(
        appset.RenderError, match=r"infra\.yaml: ApplicationSet infra: .*'valueFiles'"
    ):
        appset.render_tree(tree, Path("deploy/bootstrap"), [IN_CLUSTER])


def test_duplicate_application_names_are_refused(tree: Path) -> None:
    write(tree, "deploy/infra/copy/component.yaml", "name: gateway\nnamespace: gw\nwave: 2\n")
    with pytest.raises(appset.RenderError, match="'gateway' is generated twice"):
        appset.render_tree(tree, Path("deploy/bootstrap"), [IN_CLUSTER])


def test_a_wave_must_be_an_integer(tmp_path: Path) -> None:
    with pytest.raises(appset.RenderError, match="sync wave 'soon' is not an integer"):
        appset.summarize(
            {"metadata": {"name": "a", "annotations": {appset.SYNC_WAVE: "soon"}}},
            tmp_path,
            "Application",
            "f.yaml",
        )


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("deploy/*/component.yaml", "deploy/a/component.yaml", True),
        ("deploy/*/component.yaml", "deploy/a/b/component.yaml", False),
        ("deploy/**/component.yaml", "deploy/a/b/component.yaml", True),
        ("deploy/**/component.yaml", "deploy/component.yaml", True),
        ("deploy/svc/[a-c]*", "deploy/svc/company", True),
        ("deploy/svc/?", "deploy/svc/ab", False),
    ],
)
def test_glob(pattern: str, path: str, matches: bool) -> None:
    assert bool(appset.glob_regex(pattern).match(path)) is matches


def test_selector_operators() -> None:
    labels = {"env": "local"}
    assert appset.selector_matches({"matchLabels": {"env": "local"}}, labels)
    assert not appset.selector_matches(
        {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["local"]}]}, labels
    )
    assert appset.selector_matches(
        {"matchExpressions": [{"key": "env", "operator": "Exists"}]}, labels
    )
    assert not appset.selector_matches(
        {"matchExpressions": [{"key": "x", "operator": "Exists"}]}, labels
    )
    with pytest.raises(appset.RenderError, match="operator 'Gt'"):
        appset.selector_matches({"matchExpressions": [{"key": "env", "operator": "Gt"}]}, labels)


def test_the_real_tree_renders_one_application_per_component(repo_root: Path) -> None:
    bootstrap = repo_root / "deploy/bootstrap"
    if not bootstrap.is_dir():
        pytest.skip("deploy/bootstrap is not written yet")
    values = install_inputs([repo_root / "deploy/infrastructure/argocd/values.yaml"]).values
    clusters = appset.clusters_from_values(values)
    assert clusters, "the argocd values declare the in-cluster cluster Secret"
    apps = {a.name: a for a in appset.render_tree(repo_root, Path("deploy/bootstrap"), clusters)}
    yaml = YAML(typ="safe")
    components = sorted((repo_root / "deploy").glob("*/*/component.yaml"))
    assert components
    for component in components:
        meta = yaml.load(component.read_text())
        app = apps[meta["name"]]
        assert app.wave == meta["wave"]
        assert app.dest_namespace == meta["namespace"]
        assert app.source_paths == [component.parent.relative_to(repo_root).as_posix()]
        source = app.raw["spec"]["source"]
        if meta.get("valueFiles"):
            assert source["helm"]["valueFiles"][: len(meta["valueFiles"])] == meta["valueFiles"]
        else:
            assert "kustomize" in source
    assert "root" in apps
