"""Pure rules: image pinning, secret-looking keys and values, placeholders, JSON paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.validate.families.secrets import PLACEHOLDER, literal, secret_key, secret_values
from tasks.validate.families.workflows import json_path
from tasks.validate.policies.workloads import image_problem


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("ghcr.io/propertea/app:v1.2.3", None),
        ("registry:5000/team/app:1.0", None),
        ("nginx@sha256:" + "a" * 64, None),
        ("nginx:1.27@sha256:" + "b" * 64, None),
        ("nginx", "has no tag"),
        ("registry:5000/team/app", "has no tag"),
        ("nginx:latest", "uses the latest tag"),
        ("", "no image"),
        (None, "no image"),
    ],
)
def test_image_pinning(image: object, problem: str | None) -> None:
    found = image_problem(image)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("adminPassword", True),
        ("apiKey", True),
        ("api_key", True),
        ("clientSecret", True),
        ("token", True),
        ("secretKey", True),
        ("existingSecret", False),
        ("passwordSecretRef", False),
        ("secretName", False),
        ("passwordKey", False),
        ("usernameKey", False),
        ("tokenFile", False),
        ("serviceAccountName", False),
        ("name", False),
    ],
)
def test_secret_looking_keys(key: str, secret: bool) -> None:
    assert secret_key(key) is secret


@pytest.mark.parametrize(
    ("key", "value", "is_literal"),
    [
        ("password", "hunter2", True),
        ("password", "", False),
        ("password", "<generate:alnum:32>", False),
        ("password", "<prompt:Database password>", False),
        ("password", "${DB_PASSWORD}", False),
        ("connection", "host=x;password={{ .Values.auth.password }}", False),
        ("password", "ENC[AES256_GCM,data:abc,type:str]", False),
        ("password", "/run/secrets/password", False),
        ("tlsSecret", "zitadel-client-cert", False),
        ("jwtSecret", "Sup3rS3cret", True),
        ("clientSecret", "my-client-secret", True),
        ("password", 12345, False),
    ],
)
def test_literal_values(key: str, value: object, is_literal: bool) -> None:
    assert literal(value, key) is is_literal


def test_secret_values_finds_env_entries_and_nested_keys() -> None:
    data = {
        "env": [
            {"name": "DB_PASSWORD", "value": "hunter2"},
            {"name": "LOG_LEVEL", "value": "debug"},
            {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}},
        ],
        "auth": {"password": "<generate:hex:16>", "rootPassword": "root"},
    }
    assert sorted(secret_values(data)) == [
        (("auth", "rootPassword"), "rootPassword"),
        (("env", 0, "value"), "DB_PASSWORD"),
    ]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("<generate:alnum:32>", True),
        ("<generate:hex:16>", True),
        ("<generate:base64:48>", True),
        ("<prompt:Cloudflare API token (Zone.DNS Edit)>", True),
        ("<generate:alnum>", False),
        ("<generate:words:3>", False),
        ("<generate:hex:0>", False),
        ("<prompt:>", False),
    ],
)
def test_placeholders(text: str, ok: bool) -> None:
    assert bool(PLACEHOLDER.match(text)) is ok


def test_json_path_of_check_jsonschema() -> None:
    assert json_path("$.jobs.build.steps[0]") == ["jobs", "build", "steps", 0]
    assert json_path('$.jobs["a.b"].with') == ["jobs", "a.b", "with"]
    assert json_path("$") == []


def test_external_secrets_only_reference_values(tmp_path: Path) -> None:
    from tasks.core.runner import Runner
    from tasks.validate.engine import Workspace
    from tasks.validate.families.secrets import _check_values
    from tasks.validate.model import Doc, Result

    data = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "x"},
        "spec": {"data": [{"secretKey": "cloud", "remoteRef": {"key": "velero-creds"}}]},
    }
    result = Result()
    ws = Workspace(None, root=tmp_path, runner=Runner())
    _check_values(ws, Doc("a.yaml", 1, data), result)
    assert result.problems == []
    _check_values(ws, Doc("a.yaml", 1, {**data, "apiVersion": "example.com/v1"}), result)
    assert [p.check for p in result.problems] == ["secrets/secret-value"]
