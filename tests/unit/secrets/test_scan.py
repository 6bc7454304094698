"""The plaintext scan: loud on secrets, quiet on references."""

from __future__ import annotations

from tasks.secrets.scan import scan_yaml


def test_a_plaintext_secret_object_is_reported_at_its_data_line() -> None:
    text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cf\nstringData:\n  token: abc\n"
    [leak] = scan_yaml(text)
    assert leak.line == 5
    assert "plaintext Secret 'cf'" in leak.message and "*.secret.yaml" in leak.message


def test_a_sops_encrypted_document_is_skipped() -> None:
    text = (
        "kind: Secret\nstringData:\n  token: ENC[AES256_GCM,data:x]\n"
        "sops:\n  mac: ENC[AES256_GCM,data:y]\n"
    )
    assert scan_yaml(text) == []


def test_random_looking_values_under_secret_keys_are_reported() -> None:
    text = "config:\n  apiKey: Zx81kLq0PpA9mN2b\n  adminPassword: 9f86d081884c7d659a2f\n"
    leaks = scan_yaml(text)
    assert [leak.line for leak in leaks] == [2, 3]
    assert "config.apiKey" in leaks[0].message


def test_references_and_placeholders_are_not_secrets() -> None:
    text = (
        "existingSecret: cnpg-app-credentials-v2\n"
        "password: <generate:alnum:32>\n"
        "token: ${CF_TOKEN}\n"
        "secret: secrets://secrets.yaml\n"
        "clientSecret: short\n"
        "passwordFile: /etc/secret/pass2word\n"
        "tokenSecretName: cloudflare-api-token-secret\n"
    )
    assert scan_yaml(text) == []


def test_private_keys_are_reported_anywhere() -> None:
    text = "notes: |\n  -----BEGIN OPENSSH PRIVATE KEY-----\n  abc\n"
    [leak] = scan_yaml(text)
    assert "private key" in leak.message


def test_unparsable_yaml_is_left_to_the_yaml_family() -> None:
    assert scan_yaml("a: [\n") == []
