"""Invoke config sections: declared once as dataclasses, registered as the collection's defaults,
validated with a message that names the key."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from invoke.config import Config
from invoke.context import Context

from tasks import ns
from tasks.core.errors import ConfigError
from tasks.core.sections import ClusterConfig, ImagesConfig, SecretsConfig, StateConfig
from tasks.core.settings import defaults_of, load_section
from tasks.infra.settings import InfraConfig, LibvirtConfig
from tasks.talos.settings import TalosConfig
from tasks.validate.settings import ValidateConfig

MODELS: dict[str, type[Any]] = {
    "cluster": ClusterConfig,
    "state": StateConfig,
    "libvirt": LibvirtConfig,
    "infra": InfraConfig,
    "images": ImagesConfig,
    "secrets": SecretsConfig,
    "talos": TalosConfig,
    "validate": ValidateConfig,
}


def context(**sections: Any) -> Context:
    config = Config(defaults=ns.configuration())
    config.load_overrides(sections)
    return Context(config)


@pytest.mark.parametrize("name", list(MODELS))
def test_the_collection_defaults_are_the_models_defaults(name: str) -> None:
    # talos registers its own on the talos collection; the rest on the root.
    registered = ns.collections["talos"].configuration() if name == "talos" else ns.configuration()
    assert registered[name] == defaults_of(MODELS[name])
    # And they validate as they are.
    assert load_section(context(), name, MODELS[name]) == MODELS[name]()


def test_every_key_is_documented_in_its_model() -> None:
    for model in MODELS.values():
        for f in dataclasses.fields(model):
            assert f.name in defaults_of(model)


def test_a_typo_names_the_key_and_the_section() -> None:
    with pytest.raises(ConfigError) as err:
        load_section(context(infra={"virt_typ": "qemu"}), "infra", InfraConfig)
    assert err.value.text.splitlines()[0] == "infra.virt_typ: not a setting (a typo?)"
    assert "INVOKE_INFRA_*" in err.value.text


def test_a_wrong_type_names_the_value_and_what_was_expected() -> None:
    with pytest.raises(ConfigError) as err:
        load_section(context(talos={"gitops_handover": "maybe"}), "talos", TalosConfig)
    assert "talos.gitops_handover 'maybe': expected true or false" in err.value.text
    with pytest.raises(ConfigError) as err:
        load_section(context(infra={"virt_type": "xen"}), "infra", InfraConfig)
    assert "infra.virt_type 'xen' is not one of kvm, qemu" in err.value.text


def test_values_are_coerced_and_nested_sections_merged() -> None:
    loaded = load_section(
        context(talos={"poll_interval": "0.5", "timeouts": {"apply": 3}}), "talos", TalosConfig
    )
    assert loaded.poll_interval == 0.5
    assert loaded.timeouts.apply == 3.0
    assert loaded.timeouts.maintenance == TalosConfig().timeouts.maintenance


def test_no_context_reads_the_defaults() -> None:
    assert load_section(None, "cluster", ClusterConfig).file == "deploy/local-cluster/cluster.yaml"
