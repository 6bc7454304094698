"""Settings from Invoke config and INVOKE_VALIDATE_* variables; bad values are usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from invoke.config import Config
from invoke.context import Context

from tasks.core.errors import UserError
from tasks.validate import settings


def ctx(**validate: object) -> Context:
    """A task's context: the collection's defaults, INVOKE_* applied by Invoke, then config."""
    from tasks import ns

    config = Config(defaults=ns.configuration(), overrides={"validate": validate}, lazy=True)
    config.load_shell_env()
    return Context(config)


def test_defaults_point_at_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for key in ("SCHEMA_DIR", "SHARED_SCHEMAS", "CACHE_DIR"):
        monkeypatch.delenv(f"INVOKE_VALIDATE_{key}", raising=False)
    s = settings.load(ctx())
    assert s.cache_dir == tmp_path / "propertea"
    assert s.crd_dir == tmp_path / "propertea" / "schemas" / settings.CRD_CATALOG_COMMIT
    assert s.talos_dir == tmp_path / "propertea" / "schemas" / "talos"
    assert s.values_schema("cilium", "1.18.6") == (
        tmp_path / "propertea" / "schemas" / "cilium" / "values.schema.1.18.6.json"
    )
    assert s.values_schema("redis", "1.0.0") is None


def test_environment_fills_keys_config_does_not_declare(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INVOKE_VALIDATE_TALOS_SCHEMA_DIR", str(tmp_path / "talos"))
    monkeypatch.setenv("INVOKE_VALIDATE_VALUES_SCHEMAS", '{"cilium": "/x/cilium.json"}')
    monkeypatch.setenv("INVOKE_VALIDATE_ALLOW_UNKNOWN_KINDS", '{"Widget": "made up"}')
    s = settings.load(ctx())
    assert s.talos_dir == tmp_path / "talos"
    assert s.values_schemas == {"cilium": Path("/x/cilium.json")}
    assert s.allow_unknown_kinds == {"Widget": "made up"}


def test_config_wins_over_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INVOKE_VALIDATE_SCHEMA_DIR", "/from/env")
    assert settings.load(ctx(schema_dir=str(tmp_path))).crd_dir == tmp_path


def test_shared_schemas_layout_sets_all_three(tmp_path: Path) -> None:
    for sub in ("crds", "talos", "cilium"):
        (tmp_path / sub).mkdir()
    (tmp_path / "cilium" / "values.schema.1.9.0.json").write_text("{}")
    (tmp_path / "cilium" / "values.schema.1.20.0-dev.json").write_text("{}")
    s = settings.load(ctx(shared_schemas=str(tmp_path)))
    assert s.crd_dir == tmp_path / "crds"
    assert s.talos_dir == tmp_path / "talos"
    # No exact match for the pinned version: the newest one there.
    assert s.values_schema("cilium", "1.18.6") == tmp_path / "cilium/values.schema.1.20.0-dev.json"
    (tmp_path / "cilium" / "values.schema.1.18.6.json").write_text("{}")
    assert s.values_schema("cilium", "1.18.6") == tmp_path / "cilium/values.schema.1.18.6.json"


def test_missing_shared_schemas_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        settings.load(ctx(shared_schemas=str(tmp_path / "nope")))
    assert err.value.code == 2
    assert "is not a directory" in err.value.text


def test_skip_rule_without_reason_is_a_usage_error() -> None:
    with pytest.raises(UserError) as err:
        settings.load(ctx(skip=[{"check": "policy/probes", "match": "Deployment/*/demo"}]))
    assert err.value.code == 2
    assert "a reason is mandatory" in err.value.text


def test_skip_rules_and_malformed_mappings() -> None:
    s = settings.load(
        ctx(skip=[{"check": "policy/probes", "match": "Deployment/*/x", "reason": "no endpoint"}])
    )
    assert s.skip == (settings.SkipRule("policy/probes", "Deployment/*/x", "no endpoint"),)
    with pytest.raises(UserError) as err:
        # A bare config: with the collection's {} default Invoke itself refuses to merge a list.
        bare = Config(overrides={"validate": {"allow_unknown_kinds": ["Widget"]}})
        settings.load(Context(bare))
    assert err.value.code == 2
    assert "validate.allow_unknown_kinds ['Widget']: expected a mapping" in err.value.text


def test_environment_json_that_does_not_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOKE_VALIDATE_VALUES_SCHEMAS", "{cilium: x")
    with pytest.raises(UserError) as err:
        settings.load(ctx())
    assert err.value.code == 2
    assert "INVOKE_VALIDATE_VALUES_SCHEMAS: not valid JSON" in err.value.text


def test_remote_crds_come_from_config_and_must_be_lists() -> None:
    pattern = "https://example.com/releases/download/*/crds.yaml"
    s = settings.load(ctx(remote_crds={pattern: ["example.com", "other.io/Thing"]}))
    assert s.remote_crds == {pattern: ["example.com", "other.io/Thing"]}
    with pytest.raises(
        UserError, match=r"remote_crds\.https://.*'example.com': expected a list"
    ) as info:
        settings.load(ctx(remote_crds={pattern: "example.com"}))
    assert info.value.code == 2
