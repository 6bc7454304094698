"""images.* tasks run as a person would: dotnet through the fake, git and files for real."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tasks.core.errors import UserError
from tests.conftest import Inv
from tests.fakes import FakeTools
from tests.integration.release.gitrepo import (
    COMPANY,
    PROPERTY,
    WEB,
    GitRepo,
    run_task,
    scaffold,
)


@pytest.fixture
def mono(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "mono")
    scaffold(repo, {"company": "1.4.0"})
    return repo


def test_push_dotnet_passes_registry_repository_and_tags(
    mono: GitRepo, fake_tools: FakeTools, inv: Inv
) -> None:
    fake_tools.record_env = ["ContainerImageTags"]
    fake_tools.scenario([])
    sha = mono.git("rev-parse", "HEAD")
    result = inv(
        "images.push",
        "--component",
        "company",
        "--component",
        "property",
        cwd=mono.root,
        env={"INVOKE_IMAGES_REGISTRY": "registry.example:5000/team"},
    )
    assert result.returncode == 0, result.output
    calls = fake_tools.calls("dotnet")
    assert [c["argv"] for c in calls] == [
        [
            "publish",
            f"{COMPANY}/ProperTea.Company.csproj",
            "/t:PublishContainer",
            "-c",
            "Release",
            "-p:ContainerRegistry=registry.example:5000",
            "-p:ContainerRepository=team/propertea-company",
            "-p:Version=1.4.0",
            f"-p:SourceRevisionId={sha}",
        ],
        [
            "publish",
            f"{PROPERTY}/ProperTea.Property.csproj",
            "/t:PublishContainer",
            "-c",
            "Release",
            "-p:ContainerRegistry=registry.example:5000",
            "-p:ContainerRepository=team/propertea-property",
            "-p:Version=0.1.0",
            f"-p:SourceRevisionId={sha}",
        ],
    ]
    assert [c["env"] for c in calls] == [
        {"ContainerImageTags": f"v1.4.0;{sha[:7]}"},
        {"ContainerImageTags": f"v0.1.0;{sha[:7]}"},
    ]
    assert all(Path(c["cwd"]) == mono.root for c in calls)


def test_build_dotnet_writes_an_archive(mono: GitRepo, fake_tools: FakeTools, inv: Inv) -> None:
    result = inv("images.build", "--component", "company", cwd=mono.root)
    assert result.returncode == 0, result.output
    (argv,) = fake_tools.argvs("dotnet")
    assert argv[-1] == "-p:ContainerArchiveOutputPath=build/images/company.tar.gz"
    assert "-p:ContainerRegistry=ghcr.io" in argv


def test_dotnet_failure_is_one_actionable_paragraph(
    mono: GitRepo, fake_tools: FakeTools, inv: Inv
) -> None:
    fake_tools.scenario(
        [
            {
                "tool": "dotnet",
                "exit": 1,
                "stderr": "error CONTAINER1013: Failed to push to registry\n",
            }
        ]
    )
    result = inv("images.push", "--component", "company", cwd=mono.root)
    assert result.returncode == 1
    assert "publish company image failed." in result.stderr
    assert "error CONTAINER1013: Failed to push to registry" in result.stderr
    assert "try: dotnet 10 SDK on PATH; for a push, `docker login`" in result.stderr


def test_dry_run_prints_and_runs_nothing(mono: GitRepo, fake_tools: FakeTools, inv: Inv) -> None:
    sha = mono.git("rev-parse", "HEAD")
    result = inv("--dry", "images.push", cwd=mono.root)
    assert result.returncode == 0, result.output
    assert fake_tools.calls("dotnet") == []
    lines = result.stdout.splitlines()
    assert (
        f"$ cd {mono.root} && ContainerImageTags='v1.4.0;{sha[:7]}' dotnet publish "
        in (
            lines[0][
                : len(f"$ cd {mono.root} && ContainerImageTags='v1.4.0;{sha[:7]}' dotnet publish ")
            ]
        )
    )
    pushed = next(line for line in lines if line.startswith("# engine API push, as "))
    assert f"`docker push ghcr.io/propertea/propertea-landlord-web:{sha[:7]}`" in pushed
    assert any(line.startswith("# engine API build, as `docker build --file ") for line in lines)


def test_version_override_needs_one_component(mono: GitRepo) -> None:
    with pytest.raises(UserError) as info:
        run_task("images.push", mono.root, version="1.0.0")
    assert (info.value.code, info.value.text) == (
        2,
        "--version applies to one image: add --component NAME",
    )


def test_bad_registry_setting(mono: GitRepo, inv: Inv) -> None:
    result = inv("images.list", cwd=mono.root, env={"INVOKE_IMAGES_REGISTRY": "GHCR.io/Team"})
    assert result.returncode == 1
    assert "images.registry 'GHCR.io/Team' is not a registry" in result.stderr


def test_list_json(mono: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    run_task("images.list", mono.root, json=True)
    listed = {i["name"]: i for i in json.loads(capsys.readouterr().out)}
    assert sorted(listed) == ["company", "landlord-web", "property"]
    assert listed["company"]["ref"] == "ghcr.io/propertea/propertea-company"
    assert listed["company"]["base_image"] == "mcr.microsoft.com/dotnet/aspnet:10.0"
    assert listed["landlord-web"]["kind"] == "web"


def test_tags_json(mono: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    sha = mono.git("rev-parse", "HEAD")
    run_task("images.tags", mono.root, component=["company"], json=True)
    assert json.loads(capsys.readouterr().out) == {
        "company": {
            "image": "ghcr.io/propertea/propertea-company",
            "tags": ["v1.4.0", sha[:7]],
            "labels": {
                "org.opencontainers.image.source": "https://github.com/propertea/propertea",
                "org.opencontainers.image.revision": sha,
                "org.opencontainers.image.version": "1.4.0",
            },
        }
    }


def test_matrix_since_a_ref(mono: GitRepo, inv: Inv) -> None:
    mono.git("branch", "base")
    mono.commit("fix: web", f"{WEB}/src/app.ts")
    mono.commit("fix: both", f"{COMPANY}/A.cs", "deploy/services/company/x.yaml")
    result = inv("images.matrix", "--since", "base", cwd=mono.root)
    assert result.returncode == 0, result.output
    assert json.loads(result.stdout) == {
        "include": [
            {"component": "company", "path": COMPANY, "kind": "dotnet", "version": "1.4.0"},
            {"component": "landlord-web", "path": WEB, "kind": "web", "version": "0.1.0"},
        ]
    }


def test_matrix_from_release_outputs_file(mono: GitRepo, inv: Inv, tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps({"paths_released": json.dumps([WEB]), f"{WEB}--version": "0.2.0"})
    )
    result = inv("images.matrix", "--release-outputs", str(outputs), cwd=mono.root)
    assert json.loads(result.stdout)["include"] == [
        {"component": "landlord-web", "path": WEB, "kind": "web", "version": "0.2.0"}
    ]


def test_matrix_needs_exactly_one_source(mono: GitRepo) -> None:
    with pytest.raises(
        UserError, match="pass exactly one of --release-outputs FILE or --since REF"
    ):
        run_task("images.matrix", mono.root)


OVERLAY = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../base  # the shared rollout
images:
  - name: ghcr.io/propertea/propertea-company
    newTag: v0.1.0  # set by inv images.promote
"""


def test_promote_rewrites_new_tag_and_is_idempotent(mono: GitRepo, inv: Inv) -> None:
    overlay = mono.root / "deploy/services/company/kustomization.yaml"
    real = Path(__file__).resolve().parents[3] / "deploy/services/company/kustomization.yaml"
    overlay.parent.mkdir(parents=True)
    if real.exists():
        shutil.copy(real, overlay)
    else:
        overlay.write_text(OVERLAY)
    before = overlay.read_text()
    dry = inv("--dry", "images.promote", "-c", "company", "-v", "1.4.0", cwd=mono.root)
    assert dry.returncode == 0, dry.output
    assert dry.stdout == f"# write {overlay}\n"  # announces the write, claims nothing done
    assert overlay.read_text() == before
    result = inv("images.promote", "--component", "company", "--version", "1.4.0", cwd=mono.root)
    assert result.returncode == 0, result.output
    after = overlay.read_text()
    diff = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(diff) == 1 and diff[0][1].strip().startswith("newTag: v1.4.0")
    again = inv("images.promote", "--component", "company", "--version", "v1.4.0", cwd=mono.root)
    assert "company already at v1.4.0: nothing to do" in again.stdout
    assert overlay.read_text() == after


def test_promote_without_overlay(mono: GitRepo) -> None:
    with pytest.raises(UserError, match=r"deploy/services/property/kustomization\.yaml: missing"):
        run_task("images.promote", mono.root, component="property", version="1.0.0")


def test_promote_needs_both_options(mono: GitRepo) -> None:
    with pytest.raises(UserError, match=r"pass --component NAME and --version X\.Y\.Z"):
        run_task("images.promote", mono.root, component="company")


def test_promote_bad_version(mono: GitRepo) -> None:
    with pytest.raises(UserError, match=r"version 'latest' is not X\.Y\.Z"):
        run_task("images.promote", mono.root, component="company", version="latest")


def test_matrix_missing_outputs_file(mono: GitRepo) -> None:
    with pytest.raises(UserError, match=r"--release-outputs nope\.json: no such file"):
        run_task("images.matrix", mono.root, release_outputs="nope.json")
