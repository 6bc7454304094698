"""Invoke config sections: null reads as empty, a scalar is a config error naming the key."""

from __future__ import annotations

import pytest
from invoke.config import Config
from invoke.context import Context

from tasks.core.errors import ConfigError
from tasks.core.settings import section


def context(**overrides: object) -> Context:
    return Context(config=Config(overrides=overrides))


def test_missing_and_null_sections_read_as_empty() -> None:
    assert section(context(), "images") == {}
    assert section(context(images=None), "images") == {}
    assert section(None, "images") == {}


def test_a_section_reads_its_keys() -> None:
    assert section(context(images={"registry": "r"}), "images")["registry"] == "r"


def test_a_scalar_section_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"`images` must be a mapping, not 'ghcr\.io'"):
        section(context(images="ghcr.io"), "images")
