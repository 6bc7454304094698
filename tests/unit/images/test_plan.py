"""Image plans: registry parsing, tags and OCI labels, the dotnet publish and web build argv."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.core.errors import ConfigError
from tasks.images.plan import ImageTags, Registry, dotnet_publish, normalize_version, web_build
from tasks.release.components import Component

SHA = "4ae48c724570fbbde2a9bd4e87b5a3955b6c5cb2"
COMPANY = Component(
    name="company",
    path="apps/services/ProperTea.Company",
    kind="dotnet",
    build_file="ProperTea.Company.csproj",
    image="propertea-company",
    version="1.2.3",
    base_image="mcr.microsoft.com/dotnet/aspnet:10.0",
)
WEB = Component(
    name="landlord-web",
    path="apps/portals/landlord/web",
    kind="web",
    build_file="Dockerfile",
    image="propertea-landlord-web",
    version="0.4.0",
    base_image="nginxinc/nginx-unprivileged:1.29.3-alpine",
)
META = ImageTags(version="1.2.3", sha=SHA, source="https://github.com/propertea/propertea")


def test_registry_default_splits_host_and_namespace() -> None:
    registry = Registry.parse("ghcr.io/propertea")
    assert (registry.host, registry.namespace) == ("ghcr.io", "propertea")
    assert registry.ref("propertea-company") == "ghcr.io/propertea/propertea-company"
    assert Registry.parse("127.0.0.1:5000").ref("x") == "127.0.0.1:5000/x"


@pytest.mark.parametrize("bad", ["ghcr.io/ProperTea", "ghcr.io/a;b", "-x/y", "host:port/x"])
def test_registry_rejects_with_the_expected_form(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"is not a registry \(host\[:port\]\[/namespace\]"):
        Registry.parse(bad)


def test_tags_and_labels() -> None:
    assert META.tags == ["v1.2.3", "4ae48c7"]
    assert META.labels == {
        "org.opencontainers.image.source": "https://github.com/propertea/propertea",
        "org.opencontainers.image.revision": SHA,
        "org.opencontainers.image.version": "1.2.3",
    }


@pytest.mark.parametrize(("given", "expected"), [("v1.2.3", "1.2.3"), ("1.0.0-rc.1", "1.0.0-rc.1")])
def test_normalize_version(given: str, expected: str) -> None:
    assert normalize_version(given) == expected


@pytest.mark.parametrize("bad", ["1.2", "1.2.3;x", "latest"])
def test_bad_version(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"is not X\.Y\.Z"):
        normalize_version(bad)


def test_bad_sha() -> None:
    with pytest.raises(ConfigError, match="'main;x' is not a git SHA"):
        ImageTags(version="1.0.0", sha="main;x", source="")


def test_dotnet_publish_pushes_with_registry_repository_and_both_tags(tmp_path: Path) -> None:
    command = dotnet_publish(
        tmp_path, COMPANY, Registry.parse("ghcr.io/propertea"), META, push=True
    )
    assert command.argv == (
        "dotnet",
        "publish",
        "apps/services/ProperTea.Company/ProperTea.Company.csproj",
        "/t:PublishContainer",
        "-c",
        "Release",
        "-p:ContainerRegistry=ghcr.io",
        "-p:ContainerRepository=propertea/propertea-company",
        "-p:Version=1.2.3",
        f"-p:SourceRevisionId={SHA}",
    )
    assert command.env == {"ContainerImageTags": "v1.2.3;4ae48c7"}
    assert command.cwd == tmp_path


def test_dotnet_build_writes_a_tarball(tmp_path: Path) -> None:
    command = dotnet_publish(tmp_path, COMPANY, Registry.parse("127.0.0.1:5000"), META, push=False)
    assert command.argv[-1] == "-p:ContainerArchiveOutputPath=build/images/company.tar.gz"
    assert "-p:ContainerRepository=propertea-company" in command.argv


def test_web_build_spec(tmp_path: Path) -> None:
    spec = web_build(tmp_path, WEB, Registry.parse("ghcr.io/propertea"), META)
    assert spec.refs == [
        "ghcr.io/propertea/propertea-landlord-web:v1.2.3",
        "ghcr.io/propertea/propertea-landlord-web:4ae48c7",
    ]
    assert spec.context == tmp_path / "apps/portals/landlord/web"
    assert spec.build_display().display() == (
        f"docker build --file {tmp_path}/apps/portals/landlord/web/Dockerfile "
        "--tag ghcr.io/propertea/propertea-landlord-web:v1.2.3 "
        "--tag ghcr.io/propertea/propertea-landlord-web:4ae48c7 "
        "--label org.opencontainers.image.revision=" + SHA + " "
        "--label org.opencontainers.image.source=https://github.com/propertea/propertea "
        "--label org.opencontainers.image.version=1.2.3 "
        f"{tmp_path}/apps/portals/landlord/web"
    )
    assert [c.display() for c in spec.push_display()] == [f"docker push {r}" for r in spec.refs]
