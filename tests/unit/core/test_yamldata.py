"""The toolkit's one YAML module: one dialect for reads, edits that keep a file as it was."""

from __future__ import annotations

import pytest

from tasks.core import yamldata


def test_reads_are_yaml_1_2() -> None:
    assert yamldata.load("auto: off\nyes: no\n") == {"auto": "off", "yes": "no"}
    assert yamldata.load_all("a: 1\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]


def test_bulk_reads_go_through_libyaml() -> None:
    assert yamldata.fast_load_all("kind: Pod\n---\nkind: Service\n") == [
        {"kind": "Pod"},
        {"kind": "Service"},
    ]


def test_dumps_are_block_style() -> None:
    assert yamldata.dump({"a": {"b": [1, 2]}}) == "a:\n  b:\n  - 1\n  - 2\n"


def test_an_edit_keeps_comments_quotes_and_long_lines() -> None:
    text = '# why\nname: "quoted"  # kept\ntag: v1\nlong: ' + "x" * 150 + "\n"
    yaml = yamldata.editor()
    data = yaml.load(text)
    data["tag"] = "v2"
    out = yamldata.dump_with(yaml, data)
    assert out == text.replace("tag: v1", "tag: v2")


def test_house_style_indents_sequences_under_their_key() -> None:
    yaml = yamldata.editor(house_style=True)
    assert yamldata.dump_with(yaml, yaml.load("a:\n- b\n")) == "a:\n  - b\n"


def test_house_dumps_carry_a_header_and_separate_documents() -> None:
    text = yamldata.house_dump(
        {"a": {"b": [1, "x: y"]}},
        {"auto": yamldata.double_quoted("off"), "n": yamldata.double_quoted('say "hi"')},
        header="first line\n\nthird",
    )
    assert text == (
        "# first line\n#\n# third\n"
        "a:\n  b:\n    - 1\n    - 'x: y'\n"
        "---\n"
        'auto: "off"\nn: "say \\"hi\\""\n'
    )
    assert yamldata.load_all(text) == [{"a": {"b": [1, "x: y"]}}, {"auto": "off", "n": 'say "hi"'}]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [x, y]\n",
        "a: yes\nb: 010\nc: 0x1F\nd: 1e3\n",  # YAML 1.1 and 1.2 disagree: the exact loader decides
        "when: 2026-12-04\n",
        "a: &x {b: 1}\nc: *x\n",
        "---\na: 1\n---\nb: 2\n",
        "",
    ],
)
def test_the_fast_loader_reads_what_the_exact_one_reads(text: str) -> None:
    exact = [yamldata.plain(d) for d in yamldata.load_all(text)]
    assert yamldata.load_all_fast(text) == exact
    assert yamldata.load_fast(text) == (exact[0] if exact else None)
