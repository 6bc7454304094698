"""The generated .sops.yaml: rules, recipients, and the file's own round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.core.errors import ConfigError
from tasks.secrets import sopsconfig

A = "age1pdqssxeld5um2vyqn99a7np74dz5ylcy43p9n5y2j3p4ehvdm95s9myez4"
B = "age1evu7y3fcux82px4rhaceg3k5nv3x2vtg2lj69s8hpw2yrvkskdksp9cwpd"


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("deploy/local-cluster/talos/secrets.yaml", "talos"),
        ("deploy/infrastructure/cert-manager/secrets.yaml", "helm-values"),
        ("deploy/platform/zitadel/secrets.yaml", "helm-values"),
        ("deploy/infrastructure/cluster-issuers/cloudflare.secret.yaml", "secret-manifest"),
        ("deploy/x/token.secret.yml", "secret-manifest"),
        ("deploy/infrastructure/cert-manager/secrets.template.yaml", None),
        ("deploy/platform/x/mysecrets.yaml", None),
        ("secrets.yaml", None),
        ("apps/deploy/secrets.yaml", None),
    ],
)
def test_rule_for_each_kind_of_file(path: str, rule: str | None) -> None:
    found = sopsconfig.rule_for(path)
    assert (found.name if found else None) == rule


def test_render_is_a_pure_function_of_the_recipient_set() -> None:
    assert sopsconfig.render([B, A]) == sopsconfig.render([A, B, A])
    text = sopsconfig.render([A])
    assert text.count(f"      - {A}") == len(sopsconfig.RULES)
    assert "encrypted_regex: ^(data|stringData)$" in text
    assert "indent: 2" in text


def test_recipients_round_trip_through_the_file() -> None:
    assert sopsconfig.recipients_in(sopsconfig.render([B, A])) == sorted([A, B])
    assert sopsconfig.recipients_in(sopsconfig.render([])) == []


def test_recipients_in_accepts_sops_comma_separated_spelling() -> None:
    text = f"creation_rules:\n  - path_regex: x\n    age: {A},{B}\n"
    assert sopsconfig.recipients_in(text) == sorted([A, B])


def test_the_committed_file_is_what_the_toolkit_generates(repo_root: Path) -> None:
    text = (repo_root / ".sops.yaml").read_text()
    assert text == sopsconfig.render(sopsconfig.recipients_in(text))


def test_a_bad_recipient_says_what_one_looks_like() -> None:
    with pytest.raises(ConfigError, match=r"not an age recipient.*age-keygen -y"):
        sopsconfig.render(["age1short"])


def test_a_file_without_rules_says_how_to_regenerate() -> None:
    with pytest.raises(ConfigError, match=r"no creation_rules.*inv secrets.init"):
        sopsconfig.recipients_in("stores: {}\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        sopsconfig.recipients_in("creation_rules: [\n")
