"""YAML reading with line numbers: documents, syntax errors, duplicate keys, lookups."""

from __future__ import annotations

from tasks.validate.yamlio import line_of, load_all


def test_documents_keep_their_first_line_and_skip_empty_ones() -> None:
    loaded = load_all("a: 1\n---\n---\n# only a comment\n---\nkind: X\nmetadata:\n  name: y\n")
    assert [(data, line) for data, _, line in loaded.docs] == [
        ({"a": 1}, 1),
        ({"kind": "X", "metadata": {"name": "y"}}, 6),
    ]
    assert loaded.errors == []


def test_syntax_error_has_line_and_column() -> None:
    loaded = load_all("a: 1\nb: [1, 2\nc: 3\n")
    assert len(loaded.errors) == 1
    line, col, message = loaded.errors[0]
    assert (line, col) == (3, 2)
    assert message.startswith("YAML syntax error:")


def test_duplicate_keys_are_reported_with_their_line() -> None:
    loaded = load_all("metadata:\n  name: a\n  name: b\n")
    assert loaded.duplicates == [(3, "name")]


def test_timestamps_stay_strings() -> None:
    loaded = load_all("created: 2026-01-02\n")
    assert loaded.docs[0][0] == {"created": "2026-01-02"}


def test_line_of_walks_mappings_and_sequences_and_falls_back_to_parent() -> None:
    text = "spec:\n  containers:\n    - name: a\n      image: x\n    - name: b\n"
    node = load_all(text).docs[0][1]
    assert line_of(node, ["spec", "containers", 1, "name"]) == 5
    assert line_of(node, ["spec", "containers", 0, "image"]) == 4
    assert line_of(node, ["spec", "containers", 0, "missing"]) == 3
    assert line_of(node, ["spec", "containers", 7]) == 2
    assert line_of(None, ["a"]) is None


def test_values_are_pyyamls_on_every_path_of_the_fast_constructor() -> None:
    import yaml

    from tasks.validate.yamlio import _Constructor

    texts = [
        "a: &x {b: 1}\nc: *x\n",  # anchors share one value
        "base: &b {a: 1}\nitem:\n  <<: *b\n  c: 2\n",  # merge keys: PyYAML's constructor
        "a: !!binary aGk=\n",
        "s: !!set {x, y}\n",
        "a: &a [*a]\n",  # a recursive structure
        "=: 1\n",
        "t: 2020-01-01\nf: 1.5\nn: ~\nb: yes\no: 0o17\nh: 0x1f\ni: -3\ne: 1e3\ns: '1'\n",
        "- 1\n- [2, {a: b}]\n---\nplain string\n---\n42\n",
        "1: a\n'1': b\ntrue: c\n",
    ]
    for text in texts:
        expected = []
        for node in yaml.compose_all(text, Loader=yaml.CSafeLoader):
            expected.append(_Constructor().construct_document(node))
        got = [data for data, _, _ in load_all(text).docs]
        assert repr(got) == repr(expected), text
    shared = load_all("a: &x {b: 1}\nc: *x\n").docs[0][0]
    assert shared["a"] is shared["c"]


def test_duplicates_are_found_whatever_the_key_tags() -> None:
    # The same text twice is a duplicate even when the values differ in type (PyYAML keeps one).
    assert load_all("1: a\n'1': b\n").duplicates == [(2, "1")]
    assert load_all("a:\n  x: 1\n  y: 2\n  x: 3\n").duplicates == [(4, "x")]
    assert load_all("1: a\n0x1: b\n").duplicates == []
