"""The cluster spec: the committed one is valid, every invalid fixture fails with its message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tasks.core.config import load_spec, problems_in
from tasks.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]
SPEC = REPO / "deploy/local-cluster/cluster.yaml"
INVALID = sorted((REPO / "tests/fixtures/cluster/invalid").glob("*.yaml"))


def expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} lacks its '# expect:' header"
    return first.removeprefix("# expect: ")


def test_committed_spec_is_valid() -> None:
    spec = load_spec(SPEC).spec
    assert [n.name for n in spec.control_planes] == ["talos-cp-01"]
    assert [n.name for n in spec.workers] == ["talos-worker-01", "talos-worker-02"]
    assert spec.network.bridge == "virbr-talos"
    assert spec.network.cidr == "192.168.50.0/24"
    assert spec.cluster.endpoint == "https://192.168.50.10:6443"
    assert spec.image_factory.extensions == [
        "siderolabs/iscsi-tools",
        "siderolabs/util-linux-tools",
    ]
    assert spec.load_balancer.cidrs == [
        "192.168.50.200/29",
        "192.168.50.208/28",
        "192.168.50.224/30",
        "192.168.50.228/31",
        "192.168.50.230/32",
    ]


def test_there_are_at_least_twenty_invalid_fixtures() -> None:
    assert len(INVALID) >= 20


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_fails_with_its_message(fixture: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_spec(fixture)
    message = excinfo.value.text
    assert expected(fixture) in message
    # Every problem names the file, and a line wherever the document has one.
    assert str(fixture) in message
    if fixture.stem not in {"empty", "not-a-mapping", "missing-section"}:
        assert re.search(re.escape(str(fixture)) + r":\d+", message), message


def test_problem_points_at_the_offending_line() -> None:
    fixture = REPO / "tests/fixtures/cluster/invalid/bad-mac.yaml"
    _, problems = problems_in(fixture)
    [problem] = problems
    line = fixture.read_text().splitlines()[problem.line - 1]  # type: ignore[operator]
    assert "mac:" in line and "52:54:00:50:00" in line


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = SPEC.read_text().replace('"52:54:00:50:00:12"', '"zz"')
    text = text.replace("talos: 1.13.9", "talos: x")
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    _, problems = problems_in(path)
    fields = {p.field for p in problems}
    assert {"nodes[2].mac", "versions.talos"} <= fields


def test_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="INVOKE_CLUSTER_FILE"):
        load_spec(tmp_path / "nope.yaml")


def test_vip_endpoint_inside_subnet_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        SPEC.read_text().replace("https://192.168.50.10:6443", "https://192.168.50.5:6443")
    )
    assert load_spec(path).spec.endpoint_host == "192.168.50.5"


def test_node_lookup_names_known_nodes() -> None:
    spec = load_spec(SPEC).spec
    assert spec.node("talos-worker-02").ip == "192.168.50.12"
    with pytest.raises(ConfigError, match="known: talos-cp-01, talos-worker-01, talos-worker-02"):
        spec.node("talos-worker-09")


# -- hostile input: refused before anything is built, with the file and line ---------------------

ALIAS_BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def _bytes_case(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "cluster.yaml"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "mutate", "message"),
    [
        (
            "alias-bomb",
            lambda spec: b"a: &a [x, x, x, x, x, x, x, x, x]\n" + ALIAS_BOMB.encode(),
            ":1: YAML anchors and aliases are not allowed in the cluster spec",
        ),
        (
            "anchor",
            lambda spec: spec.replace(b"cluster:\n", b"cluster: &c\n", 1),
            "YAML anchors and aliases are not allowed",
        ),
        (
            "huge-integer",
            lambda spec: spec + b"bogus: " + b"9" * 5000 + b"\n",
            "a number with 5000 digits: no field of the spec takes one that large",
        ),
        (
            "deep-nesting",
            lambda spec: spec + b"extra: " + b"[" * 3000 + b"]" * 3000 + b"\n",
            "",
        ),
        (
            "invalid-utf8",
            lambda spec: spec[:100] + b"\xff\xfe" + spec[100:],
            "not UTF-8 (byte 0xff): save the file as UTF-8",
        ),
        (
            "utf16",
            lambda spec: spec.decode().encode("utf-16"),
            ":1: the file is UTF-16/32 encoded: save it as UTF-8",
        ),
        (
            "nul-byte",
            lambda spec: spec[:200] + b"\x00" + spec[200:],
            "a NUL byte: the spec must be UTF-8 text",
        ),
    ],
)
def test_hostile_specs_are_refused_with_a_location(
    tmp_path: Path, name: str, mutate: object, message: str
) -> None:
    path = _bytes_case(tmp_path, mutate(SPEC.read_bytes()))  # type: ignore[operator]
    with pytest.raises(ConfigError) as caught:
        problems_in(path)
    text = str(caught.value)
    assert text.startswith(f"{path}:"), text
    assert re.match(rf"{re.escape(str(path))}:\d+", text), text
    assert message in text, text


def test_an_http_endpoint_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    text = SPEC.read_text().replace("endpoint: https://", "endpoint: http://", 1)
    path = _bytes_case(tmp_path, text.encode())
    _, problems = problems_in(path)
    assert [p.field for p in problems] == ["cluster.endpoint"]
    assert problems[0].line is not None
