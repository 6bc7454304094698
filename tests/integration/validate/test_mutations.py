"""Mutation test over the real deploy/ tree: each deliberate mistake must be caught by its check.

The tree is copied to a temporary directory and mutated there. A mutation whose target file or text
is not in the tree (yet) is skipped with the reason. Findings the unmutated tree already has are
subtracted, so each mutation is judged only on what it introduced.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tasks.validate.model import Result

REPO = Path(__file__).resolve().parents[3]
COPIED = ("deploy", ".github", "apps", ".yamllint", ".hadolint.yaml")
FAMILY_OF = {
    "yaml/syntax": "manifests",
    "manifests": "manifests",
    "component": "manifests",
    "values": "values",
    "talos": "talos",
    "policy": "policies",
    "secrets": "secrets",
    "workflows": "workflows",
    "dockerfiles": "dockerfiles",
    "generated": "generated",
    "capacity": "capacity",
}


@dataclass(frozen=True)
class Mutation:
    id: str
    file: str
    check: str
    #: Regex replaced once (``new`` may use groups); None with ``new`` set writes a new file.
    old: str | None
    new: str = ""
    #: Delete the block that starts at the line matching ``old`` (the key and everything indented
    #: deeper below it).
    delete_block: bool = False

    @property
    def family(self) -> str:
        for prefix, family in FAMILY_OF.items():
            if self.check.startswith(prefix):
                return family
        raise AssertionError(self.check)


ROLLOUT = "deploy/services/base/rollout.yaml"
MUTATIONS = [
    Mutation(
        "misspelt-field",
        ROLLOUT,
        "manifests/schema",
        r"\n  revisionHistoryLimit:",
        "\n  revisionHistoryLimt:",
    ),
    Mutation(
        "wrong-apiversion",
        "deploy/infrastructure/gateway/gateway.yaml",
        "manifests/unknown-kind",
        r"gateway\.networking\.k8s\.io/v1\n",
        "gateway.networking.k8s.io/v7\n",
    ),
    Mutation("missing-probe", ROLLOUT, "policy/probes", r"^ *readinessProbe:", delete_block=True),
    Mutation("missing-limits", ROLLOUT, "policy/resources", r"^ *limits:", delete_block=True),
    Mutation(
        "root-user",
        ROLLOUT,
        "policy/non-root",
        r"runAsNonRoot: true\n\s*runAsUser: 1654",
        "runAsNonRoot: false\n        runAsUser: 0",
    ),
    Mutation(
        "plaintext-secret",
        "deploy/bootstrap/leak.yaml",
        "secrets/plaintext-secret",
        None,
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leak\n  namespace: argocd\n"
        "stringData:\n  token: s3cr3t-v4lue-123\n",
    ),
    Mutation(
        "latest-tag",
        "deploy/services/user/kustomization.yaml",
        "policy/image-pinned",
        r"newTag: v0\.1\.0",
        "newTag: latest",
    ),
    Mutation(
        "route-to-missing-service",
        "deploy/services/components/gateway-route/httproute.yaml",
        "policy/route-backend",
        r"- name: app-stable",
        "- name: app-stabel",
    ),
    Mutation(
        "route-to-missing-gateway",
        "deploy/services/components/gateway-route/httproute.yaml",
        "policy/route-parent",
        r"name: shared",
        "name: shard",
    ),
    Mutation(
        "lb-pool-overlaps-dhcp",
        "deploy/infrastructure/cilium-lb/ip-pool.yaml",
        "policy/lb-pool",
        r"start: 192\.168\.50\.200",
        "start: 192.168.50.150",
    ),
    Mutation(
        "gateway-address-outside-pool",
        "deploy/infrastructure/gateway/gateway.yaml",
        "policy/gateway-address",
        r"value: 192\.168\.50\.200",
        "value: 192.168.50.90",
    ),
    Mutation(
        "application-path-missing",
        "deploy/bootstrap/root-application.yaml",
        "policy/app-path",
        r"path: deploy/bootstrap/apps",
        "path: deploy/bootstrap/appz",
    ),
    Mutation(
        "application-repo-url",
        "deploy/bootstrap/root-application.yaml",
        "policy/repo-url",
        r"repoURL: https://github\.com/propertea/propertea\.git",
        "repoURL: https://github.com/propertea/propertee.git",
    ),
    Mutation(
        "applicationset-files-path",
        "deploy/bootstrap/apps/infrastructure.yaml",
        "policy/app-path",
        r"path: deploy/infrastructure/\*/component\.yaml",
        "path: deploy/infrastucture/*/component.yaml",
    ),
    Mutation(
        "unknown-cilium-value",
        "deploy/infrastructure/cilium/values.yaml",
        "values/schema",
        r"\n  kubeProxyReplacement: true",
        "\n  kubeProxyReplacment: true",
    ),
    Mutation(
        "values-top-level-key",
        "deploy/infrastructure/keda/values.yaml",
        "values/unknown-key",
        r"\A",
        "operator:\n  replicas: 1\n",
    ),
    Mutation(
        "chart-unpinned",
        "deploy/platform/redis/Chart.yaml",
        "values/chart-unpinned",
        r"version: \d+\.\d+\.\d+\n(\s*repository)",
        r"version: ^0.1\n\1",
    ),
    Mutation(
        "invalid-talos-patch",
        "deploy/local-cluster/patches/common.yaml",
        "talos/schema",
        r"\n    disk: /dev/vda",
        "\n    disks: /dev/vda",
    ),
    Mutation(
        "talos-installer-version",
        "deploy/local-cluster/patches/common.yaml",
        "talos/installer-version",
        r":v1\.13\.9",
        ":v1.12.0",
    ),
    Mutation(
        "talos-unknown-node",
        "deploy/local-cluster/patches/nodes/talos-worker-01.yaml",
        "talos/node-name",
        r'hostname: "talos-worker-01"',
        'hostname: "talos-worker-07"',
    ),
    Mutation(
        "component-wave-type",
        "deploy/infrastructure/keda/component.yaml",
        "component/schema",
        r"wave: -3",
        'wave: "-3"',
    ),
    Mutation(
        "component-value-file-missing",
        "deploy/infrastructure/cilium/component.yaml",
        "component/value-file",
        r"  - values\.yaml",
        "  - values.yaml\n  - values-missing.yaml",
    ),
    Mutation(
        "crd-provider-missing",
        "deploy/infrastructure/keda/Chart.yaml",
        "policy/crd-installed",
        r"- name: keda\n",
        "- name: keda-renamed\n",
    ),
    Mutation(
        "crd-provider-late-wave",
        "deploy/infrastructure/keda/component.yaml",
        "policy/sync-wave",
        r"wave: -3",
        "wave: 90",
    ),
    Mutation(
        "spread-preferred",
        "deploy/platform/postgres/cluster.yaml",
        "policy/spread",
        r"podAntiAffinityType: required",
        "podAntiAffinityType: preferred",
    ),
    Mutation(
        "namespace-not-created",
        "deploy/bootstrap/root-application.yaml",
        "policy/namespace",
        r"^  namespace: argocd$",
        "  namespace: nowhere",
    ),
    Mutation(
        "template-placeholder",
        "deploy/infrastructure/cert-manager/secrets.template.yaml",
        "secrets/template",
        r"<prompt:[^>]*>",
        "<generate:alnum>",
    ),
    Mutation(
        "plaintext-secrets-file",
        "deploy/platform/redis/secrets.yaml",
        "secrets/unencrypted-file",
        None,
        "redis:\n  auth:\n    password: hunter2hunter2\n",
    ),
    Mutation(
        "secret-looking-value",
        "deploy/platform/redis/values.yaml",
        "secrets/secret-value",
        r"\Aredis:\n",
        "redis:\n  adminPassword: hunter2hunter2\n",
    ),
    Mutation(
        "private-key",
        "deploy/infrastructure/cert-manager/tls.key",
        "secrets/private-key",
        None,
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfake\n-----END RSA PRIVATE KEY-----\n",
    ),
    Mutation(
        "duplicate-resource",
        "deploy/bootstrap/copy.yaml",
        "manifests/duplicate",
        None,
        (REPO / "deploy/bootstrap/root-application.yaml").read_text()
        if (REPO / "deploy/bootstrap/root-application.yaml").exists()
        else "",
    ),
    Mutation(
        "document-without-kind",
        "deploy/bootstrap/nokind.yaml",
        "manifests/missing-kind",
        None,
        "metadata:\n  name: lost\n",
    ),
    Mutation(
        "broken-yaml",
        "deploy/infrastructure/gateway/gateway.yaml",
        "yaml/syntax",
        r"\nspec:\n",
        "\nspec: [\n",
    ),
    Mutation(
        "kustomize-missing-resource",
        "deploy/services/user/kustomization.yaml",
        "manifests/kustomize",
        r"resources:\n  - \.\./base\n",
        "resources:\n  - ../base\n  - missing.yaml\n",
    ),
    Mutation(
        "schematic-extension-dropped",
        "deploy/local-cluster/schematic.yaml",
        "talos/schematic",
        r"^ *- siderolabs/util-linux-tools\n",
        "",
    ),
    Mutation(
        "remote-base",
        "deploy/services/user/kustomization.yaml",
        "manifests/remote-resource",
        r"resources:\n  - \.\./base\n",
        "resources:\n  - ../base\n  - https://github.com/example/app//deploy?ref=main\n",
    ),
    Mutation(
        "remote-unpinned",
        "deploy/infrastructure/local-path-provisioner/kustomization.yaml",
        "manifests/remote-resource",
        r"/deploy\?ref=v[0-9.]+",
        "/deploy",
    ),
    Mutation(
        "gateway-api-tag-not-spec",
        "deploy/infrastructure/gateway-api-crds/kustomization.yaml",
        "manifests/remote-version",
        r"/download/v[0-9.]+/",
        "/download/v1.5.0/",
    ),
    Mutation(
        "remote-patch-malformed",
        "deploy/infrastructure/local-path-provisioner/env/aks/kustomization.yaml",
        "manifests/patch",
        r"- op: replace\n",
        "- op: rplace\n",
    ),
    Mutation(
        "drift-from-spec",
        "deploy/infrastructure/argocd/Chart.yaml",
        "generated/drift",
        r"version: 10\.3\.3",
        "version: 10.3.2",
    ),
    Mutation(
        "over-capacity-budget",
        "deploy/platform/postgres/cluster.yaml",
        "capacity/budget",
        r"memory: 384Mi",
        "memory: 2Gi",
    ),
    Mutation(
        "chart-service-disabled",
        "deploy/infrastructure/cilium/values.yaml",
        "policy/route-backend",
        r"ui:\n      enabled: true",
        "ui:\n      enabled: false",
    ),
    Mutation(
        "external-secret-literal",
        "deploy/aks/bootstrap/velero-credentials.yaml",
        "secrets/secret-value",
        r"    template:\n      data:\n",
        "    template:\n      data:\n        password: hunter2hunter2\n",
    ),
    Mutation(
        "workflow-schema",
        ".github/workflows/validate.yml",
        "workflows/schema",
        r"runs-on:",
        "runs-onn:",
    ),
    Mutation(
        "dockerfile-untagged-base",
        "apps/portals/landlord/web/Dockerfile",
        "dockerfiles/DL3006",
        r"FROM nginxinc/nginx-unprivileged:[^\s]+",
        "FROM nginxinc/nginx-unprivileged",
    ),
]


def _copy_repo(dest: Path) -> Path:
    dest.mkdir()
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(
                src, dest / name, ignore=shutil.ignore_patterns("node_modules", "bin", "obj")
            )
        elif src.is_file():
            shutil.copy2(src, dest / name)
    subprocess.run(["git", "init", "-q", str(dest)], check=True)
    return dest


@pytest.fixture(scope="module")
def real_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REPO / "deploy").is_dir():
        pytest.skip("no deploy/ tree in the repository")
    return _copy_repo(tmp_path_factory.mktemp("real") / "repo")


def _key(result: Result) -> set[tuple[str, str, str]]:
    return {(p.check, p.path, re.sub(r"\d+ problem", "", p.message)) for p in result.problems}


def _delete_block(text: str, pattern: str) -> str | None:
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if re.match(pattern, line):
            indent = len(line) - len(line.lstrip())
            end = i + 1
            while end < len(lines) and (
                not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
            ):
                end += 1
            return "".join(lines[:i] + lines[end:])
    return None


def apply(root: Path, m: Mutation) -> None:
    target = root / m.file
    if m.old is None:
        if not target.parent.is_dir():
            pytest.skip(
                f"{m.id}: directory {target.parent.relative_to(root)} is not in the tree yet"
            )
        if target.exists():
            pytest.skip(f"{m.id}: {m.file} already exists (the mutation would overwrite it)")
        if not m.new:
            pytest.skip(f"{m.id}: no source to copy yet")
        target.write_text(m.new)
        return
    if not target.exists():
        pytest.skip(f"{m.id}: {m.file} is not in the tree yet")
    text = target.read_text()
    if m.delete_block:
        mutated = _delete_block(text, m.old)
    else:
        mutated, count = re.subn(m.old, m.new, text, count=1, flags=re.M)
        mutated = mutated if count else None
    if mutated is None or mutated == text:
        pytest.skip(f"{m.id}: pattern {m.old!r} not found in {m.file} (the tree changed)")
    target.write_text(mutated)


@pytest.fixture(scope="module")
def baseline(real_tree: Path, shared_schemas: Path, render_cache: Path) -> dict[str, Any]:
    from tasks.core.runner import Runner
    from tasks.validate.engine import Workspace, run
    from tasks.validate.settings import Settings

    out: dict[str, Any] = {}
    settings = Settings(
        shared_schemas=shared_schemas,
        schema_dir=shared_schemas / "crds",
        talos_schema_dir=shared_schemas / "talos",
        cache_dir=render_cache,
    )
    for family in sorted(set(FAMILY_OF.values())):
        ws = Workspace(None, root=real_tree, settings=settings, runner=Runner())
        out[family] = run(ws, [family])
    return out


def test_enough_mutations() -> None:
    assert len(MUTATIONS) >= 25
    assert len({m.id for m in MUTATIONS}) == len(MUTATIONS)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_mutation_is_caught(
    mutation: Mutation,
    real_tree: Path,
    baseline: dict[str, Result],
    validate: Any,
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    shutil.copytree(real_tree, root, symlinks=True)
    apply(root, mutation)
    result = validate(root, [mutation.family])
    new = _key(result) - _key(baseline[mutation.family])
    assert any(check == mutation.check for check, _, _ in new), (
        f"{mutation.id}: expected a new [{mutation.check}] finding; new findings:\n"
        + "\n".join(f"  {c} {p}: {m}" for c, p, m in sorted(new))
    )
