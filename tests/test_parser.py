"""The JSON front end: values and positions, for text and for Python objects."""

import json

from hypothesis import given, strategies as st

from dtl.syntax.jsontree import JList, JObject, JScalar, from_python, parse_json_text, to_python

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
    max_leaves=20)


def _nodes(node):
    yield node
    if isinstance(node, JList):
        for c in node.items:
            yield from _nodes(c)
    elif isinstance(node, JObject):
        for _, _, v in node.items:
            yield from _nodes(v)


def _offset(text, line, col):
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + col - 1


@given(json_values, st.sampled_from([None, 0, 1, 2, 4]))
def test_parse_matches_json_and_positions_point_at_values(value, indent):
    text = json.dumps(value, indent=indent, ensure_ascii=bool(indent))
    tree = parse_json_text(text, "x.json")
    assert to_python(tree) == json.loads(text)
    for node in _nodes(tree):
        span = node.span
        assert span.file == "x.json" and span.line >= 1 and span.column >= 1
        start = _offset(text, span.line, span.column)
        end = _offset(text, span.end_line, span.end_column)
        # the span covers exactly the JSON text of the value
        assert json.loads(text[start:end]) == to_python(node)


@given(json_values)
def test_pointers_resolve_to_the_value(value):
    tree = parse_json_text(json.dumps(value))
    for node in _nodes(tree):
        assert _resolve(value, node.span.pointer) == to_python(node)
    for node in _nodes(from_python(value)):
        assert _resolve(value, node.span.pointer) == to_python(node)


def _resolve(doc, pointer):
    if pointer == "":
        return doc
    for part in pointer[1:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def test_big_integers_are_exact():
    assert to_python(parse_json_text("123456789012345678901234567890")) == \
        123456789012345678901234567890


def test_scalars_keep_their_types():
    tree = parse_json_text('[1, 1.0, 1e3, true, null, "s"]')
    kinds = [type(n.value) for n in tree.items]
    assert kinds == [int, float, float, bool, type(None), str]
    assert isinstance(tree.items[0], JScalar)


def test_control_characters_in_strings_are_positioned_syntax_errors():
    import pytest

    from dtl.errors import DTLSyntaxError
    with pytest.raises(DTLSyntaxError) as info:
        parse_json_text('{"a":\n  "x\ty"}', "c.json")
    d = info.value.diagnostics[0]
    assert (d.span.file, d.span.line, d.code) == ("c.json", 2, "json-syntax")
