"""`tree.set_repo`: a new repository, branch and domain in cluster.yaml and all of deploy/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tasks.core.config import load_spec
from tasks.deploytree import tree
from tests.unit.deploytree.conftest import SPEC, docs, write_changes

NEW_REPO = "https://github.com/someone/propertea-fork.git"
OLD_REPO = "https://github.com/propertea/propertea.git"


def _set_repo(root: Path, **kwargs: Any) -> list[tree.FileChange]:
    spec = load_spec(root / SPEC).spec
    _, changes = tree.set_repo(spec, tree.Workspace(root), **kwargs)
    return write_changes(root, changes)


def test_spec_is_rewritten_with_its_comments(repo: Path) -> None:
    _set_repo(repo, repo_url=NEW_REPO, branch="develop", domain="k8s.example.net")

    text = (repo / SPEC).read_text()
    spec = load_spec(repo / SPEC).spec
    assert (spec.gitops.repo_url, spec.gitops.branch, spec.gitops.base_domain) == (
        NEW_REPO,
        "develop",
        "k8s.example.net",
    )
    assert "# What Argo CD pulls. `inv gitops.set-repo` rewrites these everywhere" in text
    assert "# Public DNS zone on Cloudflare" in text


def test_every_argo_object_follows_the_repository_and_branch(repo: Path) -> None:
    _set_repo(repo, repo_url=NEW_REPO, branch="develop")

    root_app = docs(repo / "deploy/bootstrap/root-application.yaml")[0]
    assert root_app["spec"]["source"]["repoURL"] == NEW_REPO
    assert root_app["spec"]["source"]["targetRevision"] == "develop"
    for layer in tree.LAYERS:
        appset = docs(repo / f"deploy/bootstrap/apps/{layer}.yaml")[0]
        git = appset["spec"]["generators"][0]["matrix"]["generators"][0]["git"]
        assert (git["repoURL"], git["revision"]) == (NEW_REPO, "develop")
        source = appset["spec"]["template"]["spec"]["source"]
        assert (source["repoURL"], source["targetRevision"]) == (NEW_REPO, "develop")
    project = docs(repo / "deploy/bootstrap/apps/project.yaml")[0]
    assert project["spec"]["sourceRepos"] == [NEW_REPO]
    leftovers = [
        str(p.relative_to(repo))
        for p in (repo / "deploy").rglob("*")
        if p.is_file() and p.name != "cluster.yaml" and OLD_REPO in p.read_text()
    ]
    assert leftovers == []
    assert (
        "# One Application per deploy/infrastructure"
        in (repo / "deploy/bootstrap/apps/infrastructure.yaml").read_text()
    )


def test_the_domain_moves_everywhere_but_the_acme_email(repo: Path) -> None:
    _set_repo(repo, repo_url=OLD_REPO, domain="k8s.example.net")

    gateway = docs(repo / "deploy/infrastructure/gateway/gateway.yaml")[0]
    https = next(li for li in gateway["spec"]["listeners"] if li["name"] == "https")
    assert https["hostname"] == "*.k8s.example.net"
    certificate = docs(repo / "deploy/infrastructure/gateway/certificate.yaml")[0]
    assert certificate["spec"]["dnsNames"] == ["k8s.example.net", "*.k8s.example.net"]
    issuer = docs(repo / "deploy/infrastructure/cluster-issuers/letsencrypt-production.yaml")[0]
    assert issuer["spec"]["acme"]["solvers"][0]["selector"]["dnsZones"] == ["k8s.example.net"]
    assert issuer["spec"]["acme"]["email"] == "platform@propertea.dev"
    values = docs(repo / "deploy/infrastructure/argocd/values.yaml")[0]["argo-cd"]
    assert values["global"]["domain"] == "argocd.k8s.example.net"
    route = docs(repo / "deploy/infrastructure/argocd-route/httproute.yaml")[0]
    assert route["spec"]["hostnames"] == ["argocd.k8s.example.net"]
    leftovers = [
        str(p.relative_to(repo))
        for p in (repo / "deploy").rglob("*")
        if p.is_file() and p.name != "cluster.yaml" and "lab.propertea.dev" in p.read_text()
    ]
    assert leftovers == []


def test_encrypted_files_are_never_rewritten(repo: Path) -> None:
    secret = repo / "deploy/infrastructure/cert-manager/secrets.yaml"
    encrypted = "global: ENC[AES256_GCM,data:lab.propertea.dev]\nsops:\n    mac: ENC[x]\n"
    secret.write_text(encrypted)
    _set_repo(repo, repo_url=OLD_REPO, domain="k8s.example.net")
    assert secret.read_text() == encrypted


def test_nothing_changes_when_the_values_are_the_same(repo: Path) -> None:
    _set_repo(repo, repo_url=NEW_REPO)  # converge the whole tree once
    assert _set_repo(repo, repo_url=NEW_REPO) == []


def test_an_invalid_repository_url_is_rejected_before_anything_is_written(repo: Path) -> None:
    spec = load_spec(repo / SPEC).spec
    ws = tree.Workspace(repo)
    with pytest.raises(ValidationError, match="repo_url"):
        tree.set_repo(spec, ws, repo_url="ftp://example.org/repo")
