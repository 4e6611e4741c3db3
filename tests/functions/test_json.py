"""JSON functions (dtl-functions-json.rst): text format, parsing, defaults and round trips."""

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dtl
from tests.functions.backends import ev
from dtl.values import NI, URI, UUID, DateTime, deep_equal




DOC_LIST = ["list", "abc", ["list", 1, 2, 3], {"b": 2, "a": 1},
            ["uri", "http://www.example.org/"], 124.4, 12345]


def test_json_documented_examples():
    assert ev(["json", 1]) == "1"
    assert ev(["json", "hello"]) == '"hello"'
    # the docs show the URI without JSON quotes; it is a JSON string here
    assert ev(["json", DOC_LIST]) == ['"abc"', "[1, 2, 3]", '{"a": 1, "b": 2}',
                                      '"http://www.example.org/"', "124.4", "12345"]


def test_json_transit_documented_examples():
    assert ev(["json-transit", 1]) == "1"
    assert ev(["json-transit", "hello"]) == '"hello"'
    assert ev(["json-transit", DOC_LIST]) == ['"abc"', "[1, 2, 3]", '{"a": 1, "b": 2}',
                                              '"~rhttp://www.example.org/"', "124.4", "12345"]


@pytest.mark.parametrize("value, plain, transit", [
    (None, "null", "null"),
    (True, "true", "true"),
    (10**25, "1" + "0" * 25, "1" + "0" * 25),
    (float("inf"), "Infinity", "Infinity"),
    ("~x", '"~x"', '"~~x"'),  # transit escapes a leading ~
    ("å\n", '"\\u00e5\\n"', '"\\u00e5\\n"'),
    (Decimal("1.10"), "1.10", '"~f1.10"'),
    (DateTime.from_parts(2015, 7, 28, 9, 46), '"2015-07-28T09:46:00Z"',
     '"~t2015-07-28T09:46:00Z"'),
    (NI("foo:bar"), '"foo:bar"', '"~:foo:bar"'),
    (UUID("9f598f65-eea5-4906-a8f5-82f6d8e69726"), '"9f598f65-eea5-4906-a8f5-82f6d8e69726"',
     '"~u9f598f65-eea5-4906-a8f5-82f6d8e69726"'),
    (b"abc", '"YWJj"', '"~bYWJj"'),
    ({"b": [1, {"d": None, "c": 2}], "a": {}}, '{"a": {}, "b": [1, {"c": 2, "d": null}]}',
     '{"a": {}, "b": [1, {"c": 2, "d": null}]}'),
])
def test_json_text_of_every_type(value, plain, transit):
    src = {"v": value}
    assert ev(["json", "_S.v"], src) == plain
    assert ev(["json-transit", "_S.v"], src) == transit


def test_json_keeps_nulls_in_lists():
    assert ev(["json", ["list", 1, None]]) == ["1", "null"]


@pytest.mark.parametrize("expr, expected", [
    (["json-parse", "1"], 1),
    (["json-parse", '"hello"'], "hello"),
    (["json-parse", '{"a": 1, "b": 2}'], {"a": 1, "b": 2}),
    (["json-parse", "hello"], None),
    (["json-parse", "no-value", "hello"], "no-value"),
    (["json-parse", "no-value", "null"], None),
    (["json-parse", "no-value", 12], "no-value"),  # not a string: the default
    (["json-parse", "no-value", None], None),
    (["json-parse", ["concat", "bad:", "_."], ["list", "1", "x", 2]], [1, "bad:x", "bad:"]),
    (["json-parse", " [1, 2.5, true] "], [1, 2.5, True]),
    (["json-parse", "123456789012345678901234567890"], 123456789012345678901234567890),
    (["json-parse", "1 2"], None),
    (["json-parse", ""], None),
    (["json-parse", ["list", "hello", "123", "null", '"abc"', '"~rhttp://example.org/"']],
     [123, None, "abc", "~rhttp://example.org/"]),
    (["json-transit-parse", ["list", "hello", "123", "null", '"abc"',
                             '"~rhttp://example.org/"']],
     [123, None, "abc", URI("http://example.org/")]),
    (["json-transit-parse", '"~f1.5"'], Decimal("1.5")),
    (["json-transit-parse", '"~~x"'], "~x"),
    (["json-transit-parse", '"~tnot-a-date"'], None),  # invalid transit is invalid input
    (["json-transit-parse", "dflt", '"~tnot-a-date"'], "dflt"),
    (["json-transit-parse", "no-value", "~rhttp://example.org/"], "no-value"),
])
def test_parse(expr, expected):
    assert deep_equal(ev(expr), expected)


def test_parse_does_not_transit_decode():
    assert ev(["is-uri", ["json-parse", '"~rhttp://www.example.org/"']]) is False
    assert ev(["is-uri", ["json-transit-parse", '"~rhttp://www.example.org/"']]) is True
    assert ev(["is-uri", ["json-transit-parse", "no-value", '"~rhttp://example.org/"']]) is True


# -- round trips --------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)

instants = st.integers(min_value=-62135596800 * 10**9, max_value=253402300799 * 10**9 + 999999999)
dtl_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
    | st.decimals(allow_nan=False, allow_infinity=False) | instants.map(DateTime)
    | st.text(min_size=1).map(NI) | st.text(min_size=1).map(URI) | st.uuids() | st.binary(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


@settings(max_examples=200)
@given(json_values)
def test_json_parse_round_trip(v):
    assert deep_equal(ev(["json-parse", ["json", "_S.v"]], {"v": v}), v)


@settings(max_examples=200)
@given(json_values)
def test_json_matches_python_defaults_with_sorted_keys(v):
    text = ev(["json", ["list", "_S.v"]], {"v": v})  # wrapped: a list argument broadcasts
    assert text == [json.dumps(v, sort_keys=True)]


@settings(max_examples=200)
@given(dtl_values)
def test_json_transit_round_trip(v):
    assert deep_equal(ev(["json-transit-parse", ["json-transit", "_S.v"]], {"v": v}), v)


@settings(max_examples=200)
@given(dtl_values)
def test_json_text_is_valid_json(v):
    for fn in ("json", "json-transit"):
        json.loads(ev([fn, ["list", "_S.v"]], {"v": v})[0])
