"""Pure plans and settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.core.config import ClusterSpec
from tasks.core.errors import ConfigError, UserError
from tasks.talos import phases, plan
from tasks.talos.settings import Settings


def test_settings_defaults_and_overrides(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    assert settings.state.root == tmp_path / "state" / "propertea-local"
    assert settings.kubeconfig == settings.state.kubeconfig
    assert settings.secrets_file == Path("deploy/local-cluster/talos/secrets.yaml")
    assert settings.timeouts.maintenance == 900
    custom = make_settings(kubeconfig="~/k", timeouts={"apply": "2.5"}, poll_interval="0.1")
    assert custom.kubeconfig == Path("~/k").expanduser()
    assert custom.timeouts.apply == 2.5
    assert custom.timeouts.maintenance == 900
    assert custom.poll_interval == 0.1


def test_bad_timeout_is_a_config_error(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match=r"talos.timeouts.apply 'soon': expected a number"):
        make_settings(timeouts={"apply": "soon"})
    with pytest.raises(ConfigError, match=r"talos.timeouts.soon: not a setting"):
        make_settings(timeouts={"soon": 1})
    with pytest.raises(ConfigError, match=r"talos.timeouts 5: expected a mapping"):
        make_settings(timeouts=5)
    with pytest.raises(ConfigError, match=r"talos.gitops_handoverr: not a setting \(a typo\?\)"):
        make_settings(gitops_handoverr=False)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"timeouts": {"apply": "nan"}}, "talos.timeouts.apply nan"),
        ({"timeouts": {"health": "inf"}}, "talos.timeouts.health inf"),
        ({"timeouts": {"cilium": 0}}, "talos.timeouts.cilium 0"),
        ({"poll_interval": "-1"}, "talos.poll_interval -1.0"),
    ],
)
def test_a_timeout_that_never_or_always_expires_is_a_config_error(
    make_settings: Callable[..., Settings], overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigError, match="positive, finite number of seconds") as caught:
        make_settings(**overrides)
    assert named in str(caught.value)


def test_gen_config_argv(spec: ClusterSpec, settings: Settings) -> None:
    argv = plan.gen_config(settings, spec, "factory.talos.dev/metal-installer/x:v1.13.9").argv
    config_dir = settings.state.path("config")
    assert argv == (
        "talosctl", "gen", "config", "propertea-local", "https://192.168.50.10:6443",
        "--with-secrets", str(settings.state.path("secrets.decrypted.yaml")),
        "--install-image", "factory.talos.dev/metal-installer/x:v1.13.9",
        "--install-disk", "/dev/vda",
        "--kubernetes-version", spec.versions.kubernetes,
        "--talos-version", "v1.13",
        "--config-patch", "@deploy/local-cluster/patches/common.yaml",
        "--config-patch-control-plane", "@deploy/local-cluster/patches/controlplane.yaml",
        "--config-patch-worker", "@deploy/local-cluster/patches/worker.yaml",
        "--with-docs=false", "--with-examples=false",
        "--output", str(config_dir), "--force",
    )  # fmt: skip


def test_apply_insecure_only_in_maintenance(spec: ClusterSpec, settings: Settings) -> None:
    node = spec.workers[1]
    insecure = plan.apply_config(settings, node, insecure=True).argv
    secure = plan.apply_config(settings, node, insecure=False).argv
    assert "--insecure" in insecure and "--talosconfig" not in insecure
    assert "--insecure" not in secure
    assert secure[secure.index("--talosconfig") + 1] == str(settings.talosconfig)
    assert insecure[-2:] == ("--file", str(settings.node_config(node)))


def test_bootstrap_counts_already_exists_as_done(spec: ClusterSpec, settings: Settings) -> None:
    command = plan.bootstrap_etcd(settings, spec)
    assert command.ok_if == ("AlreadyExists",)
    assert command.argv[command.argv.index("--nodes") + 1] == "192.168.50.10"


def test_cilium_install_uses_a_local_chart_when_configured(
    spec: ClusterSpec, make_settings: Callable[..., Settings]
) -> None:
    values = Path("v.yaml")
    from_repo = plan.cilium_install(make_settings(), spec, values, 300).argv
    assert from_repo[:7] == (
        "helm",
        "upgrade",
        "--install",
        "cilium",
        "cilium/cilium",
        "--version",
        spec.versions.cilium,
    )
    assert "--timeout" in from_repo and from_repo[from_repo.index("--timeout") + 1] == "300s"
    local = plan.cilium_install(make_settings(cilium_chart="/c/cilium.tgz"), spec, values, 300).argv
    assert local[:5] == ("helm", "upgrade", "--install", "cilium", "/c/cilium.tgz")
    assert "--version" not in local


def test_contract_is_the_minor_version(spec: ClusterSpec) -> None:
    assert plan.contract(spec) == "v1.13"


# -- phases ---------------------------------------------------------------------------------


def test_phase_selection() -> None:
    assert phases.selected(None, None) == list(phases.NAMES)
    assert phases.selected("cilium", None) == ["cilium", "nodes-ready", "gitops"]
    assert phases.selected(None, "apply") == ["apply"]


@pytest.mark.parametrize(
    ("from_", "only", "message"),
    [
        (
            "ciliumm",
            None,
            r"--from 'ciliumm': not a phase\. Phases, in order: config, wait-maintenance",
        ),
        (None, "etcd", r"--only 'etcd': not a phase"),
        ("apply", "cilium", r"--from and --only exclude each other"),
    ],
)
def test_bad_phase_options(from_: str | None, only: str | None, message: str) -> None:
    with pytest.raises(UserError, match=message):
        phases.selected(from_, only)


def test_schema_dir_falls_back_to_the_validate_settings(tmp_path: Path, spec: ClusterSpec) -> None:
    from invoke.config import Config
    from invoke.context import Context

    def settings_for(config: dict[str, object]) -> Settings:
        return Settings.from_context(Context(Config(overrides=config)), spec)

    from tasks.validate.settings import Settings as ValidateSettings

    # Unconfigured: where `inv validate --refresh-schemas` keeps it, and only used when there.
    unset = settings_for({})
    assert (unset.schema_dir, unset.schema_required) == (ValidateSettings().talos_dir, False)
    shared = settings_for({"validate": {"shared_schemas": str(tmp_path)}})
    assert (shared.schema_dir, shared.schema_required) == (tmp_path / "talos", False)
    own = settings_for(
        {"validate": {"talos_schema_dir": "/v"}, "talos": {"schema_dir": str(tmp_path)}}
    )
    assert (own.schema_dir, own.schema_required) == (tmp_path, True)
    derived = settings_for({"validate": {"talos_schema_dir": "/v"}})
    assert derived.schema_dir == Path("/v")
