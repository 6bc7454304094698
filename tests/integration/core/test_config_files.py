"""Invoke config as an operator writes it: a typo in invoke.yaml is named, env overrides land."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Inv

pytestmark = pytest.mark.integration


def test_a_typo_in_the_config_file_is_named_without_a_traceback(tmp_path: Path, inv: Inv) -> None:
    config = tmp_path / "invoke.yaml"
    config.write_text("images:\n  registy: ghcr.io/someone\n")
    result = inv("-f", str(config), "images.tags", "-c", "company")
    assert result.returncode == 1, result.output
    assert "images.registy: not a setting (a typo?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_env_override_reaches_the_typed_setting(inv: Inv) -> None:
    result = inv(
        "images.tags", "-c", "company", "--json", env={"INVOKE_IMAGES_REGISTRY": "registry.test/x"}
    )
    assert result.returncode == 0, result.output
    assert "registry.test/x/propertea-company" in result.stdout
