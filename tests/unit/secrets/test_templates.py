"""Secret templates: placeholders, generated values, prompts and their non-interactive sources."""

from __future__ import annotations

import base64
import itertools
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tasks.core.errors import ConfigError, UserError
from tasks.secrets.templates import Template, answer_prompts, env_name, generate, load_values_file


def counting(n: int) -> bytes:
    """Deterministic 'random' bytes: 0, 1, 2, ... (wrapping)."""
    return bytes(itertools.islice(itertools.cycle(range(256)), n))


def test_generated_values_have_the_asked_size_and_alphabet() -> None:
    alnum = generate("alnum:40")
    assert len(alnum) == 40 and alnum.isalnum() and alnum.isascii()
    assert len(generate("hex:16")) == 32 and int(generate("hex:16"), 16) >= 0
    assert len(base64.b64decode(generate("base64:24"))) == 24
    assert generate("alnum:12") != generate("alnum:12")


def test_alnum_rejects_bytes_that_would_bias_the_alphabet() -> None:
    # 250 and 251 are >= 248 (4 * 62) and skipped; 0 -> 'a', 61 -> '9', 5 -> 'f'.
    assert generate("alnum:3", lambda n: bytes([250, 251, 0, 61, 5])) == "a9f"


def test_render_fills_every_placeholder_and_keeps_comments() -> None:
    template = Template(
        Path("deploy/p/x/secrets.template.yaml"),
        "# header comment\n"
        "auth:\n"
        "  password: <generate:alnum:16>  # why\n"
        "  cookie: <generate:hex:4>\n"
        "  url: amqp://u:<generate:alnum:8>@host:5672\n"
        "token: <prompt:API token (scope)>\n"
        "again: <prompt:API token (scope)>\n"
        "plain: keep\n",
    )
    assert template.prompts == ["API token (scope)"]
    text, values = template.render({"API token (scope)": "tok-123"}, rand=counting)
    data = YAML(typ="safe").load(text)
    assert "# header comment" in text and "# why" in text
    assert len(data["auth"]["password"]) == 16
    assert data["auth"]["cookie"] == "00010203"
    assert data["auth"]["url"].startswith("amqp://u:") and data["auth"]["url"].endswith(
        "@host:5672"
    )
    assert data["token"] == data["again"] == "tok-123"
    assert data["plain"] == "keep"
    assert "tok-123" in values and "00010203" in values


def test_a_generated_value_that_looks_like_a_number_stays_a_string() -> None:
    template = Template(Path("t.yaml"), "pin: <generate:hex:2>\n")
    text, _ = template.render({}, rand=lambda n: bytes([0x12, 0x34][:n]))
    assert YAML(typ="safe").load(text) == {"pin": "1234"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("a: <generate:words:4>", r"t\.yaml:2: <generate:words:4> is not a placeholder"),
        ("a: <generate:hex:0>", r"t\.yaml:2: .*N must be between 1 and 4096"),
        ("a: <generate:alnum:5000>", "N must be between 1 and 4096"),
        ('a: "<prompt: >"', "needs a label"),
    ],
)
def test_bad_placeholders_name_file_and_line(line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Template(Path("t.yaml"), f"ok: 1\n{line}\n")


def test_a_template_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        Template(Path("t.yaml"), "- a\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        Template(Path("t.yaml"), "a: [\n")


def test_render_refuses_a_missing_answer() -> None:
    with pytest.raises(UserError, match="no value for Token"):
        Template(Path("t.yaml"), "a: <prompt:Token>\n").render({})


def test_env_name_leaves_out_parenthesised_hints() -> None:
    assert (
        env_name("Cloudflare API token (Zone.DNS Edit)") == "PROPERTEA_SECRET_CLOUDFLARE_API_TOKEN"
    )
    assert (
        env_name("ZITADEL first admin password") == "PROPERTEA_SECRET_ZITADEL_FIRST_ADMIN_PASSWORD"
    )


def test_answers_come_from_values_file_then_environment_then_the_prompt() -> None:
    asked: list[str] = []

    def ask(label: str) -> str:
        asked.append(label)
        return " typed "

    answers = answer_prompts(
        ["A", "B (hint)", "C"],
        values={"A": "from-file"},
        env={"PROPERTEA_SECRET_B": "from-env"},
        ask=ask,
    )
    assert answers == {"A": "from-file", "B (hint)": "from-env", "C": "typed"}
    assert asked == ["C"]


def test_without_a_terminal_every_missing_value_is_listed_with_its_variable() -> None:
    with pytest.raises(UserError) as err:
        answer_prompts(["Cloudflare API token (x)", "Other"], values={}, env={}, ask=None)
    text = err.value.text
    assert "--values-file" in text
    assert "PROPERTEA_SECRET_CLOUDFLARE_API_TOKEN" in text and "PROPERTEA_SECRET_OTHER" in text


def test_an_empty_typed_answer_is_refused() -> None:
    with pytest.raises(UserError, match="No value entered for 'A'"):
        answer_prompts(["A"], values={}, env={}, ask=lambda _: "  ")


def test_values_file_must_map_labels_to_values(tmp_path: Path) -> None:
    good = tmp_path / "v.yaml"
    good.write_text("Cloudflare API token: abc\nPin: 1234\n")
    assert load_values_file(good) == {"Cloudflare API token": "abc", "Pin": "1234"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n")
    with pytest.raises(UserError, match="expected a mapping of prompt label to value"):
        load_values_file(bad)
    with pytest.raises(UserError, match="no such file"):
        load_values_file(tmp_path / "missing.yaml")
