"""List functions (dtl-functions-lists.rst): examples, edge cases and ordering laws.

Only list functions, paths and conditionals are used, so these tests do not depend on
other families.
"""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dtl
from tests.functions.backends import ev
from dtl.errors import DTLError
from dtl.values import NI, URI, DateTime, deep_equal, order_key




def same(a, b):
    return deep_equal(a, b)


# -- construction -----------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    (["list"], []),
    (["list", "a", ["list", "b"], "c"], ["a", ["b"], "c"]),
    (["list", None], [None]),
    (["combine", None], []),
    (["combine", 1], [1]),
    (["combine", 1, ["list", 2, 3, ["list", 4]]], [1, 2, 3, [4]]),
    (["combine", ["list", 1, 2], ["list", 3, 4], 5], [1, 2, 3, 4, 5]),
    (["combine", ["list", None], None, 1], [None, 1]),
    (["range", 0, 4], [0, 1, 2, 3]),
    (["range", 4, 0, -1], [4, 3, 2, 1]),
    (["range", 0, 10, 3], [0, 3, 6, 9]),
    (["range", 3, 3], []),
    (["range", 1, ["plus", None, 1]], None),   # null in, null out
    (["range", None, 4], None),
])
def test_construction(expr, expected):
    assert ev(expr) == expected


def test_list_result_is_fresh_each_time():
    f = dtl.compile_expression(["list", 1])
    a = f({})
    a.append(2)
    assert f({}) == [1]


@pytest.mark.parametrize("expr", [
    ["range", 0, 4, 0],
    ["range", 0, "_S.x"],
    ["range", "_S.s", 4],
])
def test_range_errors(expr):
    with pytest.raises(DTLError):
        ev(expr, {"x": 1.5, "s": "a"})


def test_range_rejects_float_literal_statically():
    with pytest.raises(DTLError):
        ev(["range", 0, 1.5])


# -- inspection -------------------------------------------------------------------------------

@pytest.mark.parametrize("value, n, empty", [
    ([2, 4, 6], 3, False),
    (None, 0, True),
    (123, 1, False),
    ([], 0, True),
    ({"a": 1}, 1, False),
    ("", 1, False),
    ([None], 1, False),
])
def test_count_and_emptiness(value, n, empty):
    src = {"v": value}
    assert ev(["count", "_S.v"], src) == n
    assert ev(["is-empty", "_S.v"], src) is empty
    assert ev(["is-not-empty", "_S.v"], src) is (not empty)


def test_is_list():
    assert ev(["is-list", ["list", "foo:bar"]]) is True
    assert ev(["is-list", "foo:bar"]) is False
    assert ev(["is-list", None]) is False
    assert ev(["is-list", {"a": [1]}]) is False


@pytest.mark.parametrize("values, items, expected", [
    ("a", ["a", "b", "c"], True),
    ("d", ["a", "b", "c"], False),
    ([10], 10, True),
    ([], 10, False),
    (None, [None], False),
    ([None], [1, None, 2], True),
    (["a", "c"], ["a", "b", "c"], True),
    (["a", "c", "d"], ["a", "b", "c"], False),
    # DTL equality: numbers of any type are equal by value, booleans never equal numbers
    (1, [1.0], True),
    (Decimal("2.0"), [2], True),
    (1, [True], False),
    (True, [1], False),
    ([{"a": [1]}], [{"a": [1.0]}], True),
    (list(range(20)), list(range(30)), True),
    ([30], list(range(30)), False),
])
def test_in(values, items, expected):
    assert ev(["in", "_S.v", "_S.i"], {"v": values, "i": items}) is expected


# -- access -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, first, last", [
    (["a", "b", "c"], "a", "c"),
    (123, 123, 123),
    ([], None, None),
    (None, None, None),
    ([[1, 2]], [1, 2], [1, 2]),
])
def test_first_last(value, first, last):
    assert ev(["first", "_S.v"], {"v": value}) == first
    assert ev(["last", "_S.v"], {"v": value}) == last


@pytest.mark.parametrize("index, value, expected", [
    (1, ["a", "b", "c"], "b"),
    (5, ["a", "b", "c"], None),
    (-1, ["a", "b", "c"], "c"),
    (-4, ["a", "b", "c"], None),
    (0, [], None),
    (0, "x", "x"),
    (1, "x", None),
    (0, None, None),
    (None, ["a"], None),
])
def test_nth(index, value, expected):
    assert ev(["nth", "_S.i", "_S.v"], {"i": index, "v": value}) == expected


def test_nth_bad_index():
    with pytest.raises(DTLError):
        ev(["nth", "_S.i", ["list", 1]], {"i": "1"})


@pytest.mark.parametrize("expr, expected", [
    (["slice", 2, -2, 2, ["list", 0, 1, 2, 3, 4, 5, 6]], [2, 4]),
    (["slice", 2, ["list", 0, 1, 2, 3, 4, 5, 6]], [2, 3, 4, 5, 6]),
    (["slice", 1, 3, ["list", 0, 1, 2, 3, 4]], [1, 2]),
    (["slice", -2, ["list", 0, 1, 2, 3, 4]], [3, 4]),
    (["slice", 0, None, -1, ["list", 0, 1, 2]], [0]),
    (["slice", -1, None, -1, ["list", 0, 1, 2]], [2, 1, 0]),
    (["slice", 0, "x"], ["x"]),
    (["slice", 0, None], []),
])
def test_slice(expr, expected):
    assert ev(expr) == expected


def test_slice_zero_stride():
    with pytest.raises(DTLError):
        ev(["slice", 0, 3, 0, ["list", 1, 2, 3]])


@pytest.mark.parametrize("expr, expected", [
    (["insert", 1, 2, 3], [2, 3]),
    (["insert", 1, ["list", 1, 2], ["list", 3, 4]], [1, [3, 4], 2]),
    (["insert", -2, ["list", 1, 2, 3], 4], [1, 4, 2, 3]),
    (["insert", 0, None, "a"], ["a"]),
    (["insert", 10, ["list", 1], 2], [1, 2]),
    (["insert", 0, ["list", 1], None], [None, 1]),
])
def test_insert(expr, expected):
    assert ev(expr) == expected


def test_insert_does_not_mutate_the_source():
    src = {"v": [1, 2]}
    assert ev(["insert", 0, "_S.v", 0], src) == [0, 1, 2]
    assert src["v"] == [1, 2]


# -- reshaping --------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ([1, 2, [3, 4]], [1, 2, 3, 4]),
    ([[1, 2], [3, [4], 5]], [1, 2, 3, [4], 5]),
    ([None, [None]], [None, None]),
    (None, []),
    (7, [7]),
])
def test_flatten(value, expected):
    assert ev(["flatten", "_S.v"], {"v": value}) == expected


def test_flatten_of_paths():
    src = {"sisters": ["Anna", "Berit"], "brothers": ["Carl", "David"]}
    assert ev(["flatten", ["list", "_S.sisters", "_S.brothers"]], src) == [
        "Anna", "Berit", "Carl", "David"]


def test_reversed():
    src = {"v": [1, 3, 2]}
    assert ev(["reversed", "_S.v"], src) == [2, 3, 1]
    assert src["v"] == [1, 3, 2]
    assert ev(["reversed", "a"]) == "a"
    assert ev(["reversed", None]) is None


@pytest.mark.parametrize("expr, expected", [
    (["enumerate", "a"], {"key": 0, "value": "a"}),
    (["enumerate", 1, "a"], {"key": 1, "value": "a"}),
    (["enumerate", ["list", 17, 32]], [{"key": 0, "value": 17}, {"key": 1, "value": 32}]),
    (["enumerate", 2, ["list", 17, 32]], [{"key": 2, "value": 17}, {"key": 3, "value": 32}]),
    (["enumerate", -1, ["list", "x"]], [{"key": -1, "value": "x"}]),
    (["enumerate", ["list"]], []),
    (["enumerate", None], None),
])
def test_enumerate(expr, expected):
    assert ev(expr) == expected


# -- higher-order -----------------------------------------------------------------------------

def test_map_and_filter():
    people = [{"n": "a", "ok": True}, {"n": "b", "ok": False}, {"n": "c", "ok": [1]},
              {"n": "d", "ok": []}, {"n": "e"}, {"n": "f", "ok": 0}]
    src = {"p": people}
    assert ev(["map", "_.n", "_S.p"], src) == ["a", "b", "c", "d", "e", "f"]
    # truthiness: only false, null and [] are false (0 is true)
    assert [p["n"] for p in ev(["filter", "_.ok", "_S.p"], src)] == ["a", "c", "f"]
    assert ev(["map", "_.", None]) == []
    assert ev(["map", ["list", "_."], "x"]) == [["x"]]
    # a single value stays single (a real node's map-dict output shows it), null stays a list
    assert ev(["filter", "_.", "x"]) == "x"
    assert ev(["filter", ["eq", "_.", "y"], "x"]) is None
    assert ev(["filter", ["eq", "_.", "y"], {"a": 1}]) is None
    assert ev(["filter", "_.", None]) == []
    assert ev(["map-dict", ["filter", ["not", ["matches", "_*", "_."]], "_."], "_.",
               {"a": 1, "_b": 2}]) == {"a": 1}


def test_map_sees_outer_scope():
    assert ev(["map", ["list", "_.", "_S.k"], ["list", 1, 2]], {"k": "K"}) == [[1, "K"], [2, "K"]]


def test_nested_function_expressions():
    expr = ["map", ["distinct", "_."], ["list", ["list", "A", "A"], ["list", "B", "C"]]]
    assert ev(expr) == [["A"], ["B", "C"]]


@pytest.mark.parametrize("expr, expected", [
    (["distinct", ["list", 4, 2, 5, 4, 3]], [4, 2, 5, 3]),
    (["distinct", ["list", 1, 1.0, True, "1", None, None]], [1, True, "1", None]),
    (["distinct", ["list", {"a": 1}, {"a": 1}, ["list", 1], ["list", 1]]], [{"a": 1}, [1]]),
    (["distinct", "x"], "x"),                    # a single value stays single
    (["distinct", "_.k", {"k": 1}], {"k": 1}),
    (["distinct", None], []),
    (["distinct", "_.k", ["list", {"k": 1, "i": 0}, {"k": 2, "i": 1}, {"k": 1, "i": 2}]],
     [{"k": 1, "i": 0}, {"k": 2, "i": 1}]),
])
def test_distinct(expr, expected):
    assert same(ev(expr), expected)


def test_distinct_through_a_path():
    src = {"orders": [{"line_item": {"ean": "111", "qty": 1}},
                      {"line_item": {"ean": "222", "qty": 2}},
                      {"line_item": {"ean": "111", "qty": 3}}]}
    assert ev(["distinct", "_.ean", "_S.orders.line_item"], src) == [
        {"ean": "111", "qty": 1}, {"ean": "222", "qty": 2}]


def test_group():
    rows = [["Adresse1", "A"], ["Adresse2", "B"], ["Adresse2", "C"]]
    assert ev(["group", ["first", "_."], ["nth", 1, "_."], "_S.r"], {"r": rows}) == [
        ["Adresse1", ["A"]], ["Adresse2", ["B", "C"]]]
    assert ev(["group", "_.", ["list", "_."], "Hello"]) == [["Hello", [["Hello"]]]]
    assert ev(["group", "_.", "_.", None]) == []
    # keys are grouped by DTL equality: 1 and 1.0 together, true apart
    assert same(ev(["group", "_.", "_.", ["list", 1, True, 1.0]]), [[1, [1, 1.0]], [True, [True]]])


def test_group_by_transit_keys():
    assert ev(["group-by", ["count", "_."], ["list", ["list", 1, 2, 3], ["list", 1], ["list", 4, 5, 6]]]) == {
        "3": [[1, 2, 3], [4, 5, 6]], "1": [[1]]}
    assert ev(["group-by", "_.g", ["list", {"g": "f"}, {"g": "m"}, {"g": "f", "x": 1}]]) == {
        '"f"': [{"g": "f"}, {"g": "f", "x": 1}], '"m"': [{"g": "m"}]}
    keys = list(ev(["group-by", "_.k", "_S.v"], {"v": [
        {"k": None}, {"k": True}, {"k": 1.5}, {"k": Decimal("1.50")}, {"k": [1, "a"]},
        {"k": {"b": 1, "a": 2}}, {"k": URI("http://x/")}, {"k": NI("a:b")},
        {"k": DateTime.from_parts(2015, 7, 28, 9, 46)}]}))
    assert keys == ["null", "true", "1.5", '"~f1.50"', '[1, "a"]', '{"a": 2, "b": 1}',
                    '"~rhttp://x/"', '"~:a:b"', '"~t2015-07-28T09:46:00Z"']


def test_group_by_keys_match_json_transit():
    # the docs define group-by keys as json-transit text: ASCII-only, "~" strings escaped
    assert list(ev(["group-by", ["list", "\u00e9", "~x"]])) == ['"\\u00e9"', '"~~x"']


def test_group_by_without_key_function_and_with_string_function():
    assert ev(["group-by", ["list", "a", "b", "a"]]) == {'"a"': ["a", "a"], '"b"': ["b"]}
    # STRING_FUNCTION receives the group key, not the value
    assert ev(["group-by", "_.k", "_.", ["list", {"k": "A"}, {"k": "B"}]]) == {
        "A": [{"k": "A"}], "B": [{"k": "B"}]}
    # a non-string from STRING_FUNCTION falls back to the transit JSON key
    assert ev(["group-by", "_.", ["list", "_."], ["list", 1]]) == {"[1]": [1]}
    assert ev(["group-by", "_.", None]) == {}


def test_map_dict():
    assert ev(["map-dict", ["list", "_."], "_.", {"a": 1}]) is None  # non-string keys dropped
    assert ev(["map-dict", "_.", ["list", "_."], {"A": 1, "B": 2}]) == {"A": [1], "B": [2]}
    expr = ["map-dict", ["case-eq", "_.", "ab", None, "_."], "_.", ["list", {"abc": 1, "ab": 2}, {"ab": 4}, "skip", None, {"c": 5}]]
    assert ev(expr) == [{"abc": 1}, {"c": 5}]
    assert ev(["map-dict", "_.", "_.", None]) == []
    assert ev(["map-dict", "_.", "_.", "x"]) == []
    assert ev(["map-dict", "_.", "_.", {}]) is None


def test_map_values():
    assert ev(["map-values", ["list", "_."], {"key1": "A", "key2": "B"}]) == [["A"], ["B"]]
    expr = ["map-values", "_.", ["list", {"k1": "A", "k2": "B"}, 100, {"k1": "B", "k3": "C"}]]
    assert ev(expr) == ["A", "B", "B", "C"]
    assert ev(["map-values", "_.", None]) == []
    assert ev(["map-values", "_.", 5]) == []


# -- ordering ---------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    (["sorted", ["list", 4, 2, 5, 4, 3]], [2, 3, 4, 4, 5]),
    (["sorted", ["list", "b", 2, {"x": 1}, "a", 4]], [2, 4, "a", "b", {"x": 1}]),
    (["sorted", ["list", {"x": 1}, {"x": "abc"}, {"x": 2}]], [{"x": 1}, {"x": 2}, {"x": "abc"}]),
    (["sorted", "_.age", ["list", {"age": 30}, {"age": 50}, {"age": 20}]],
     [{"age": 20}, {"age": 30}, {"age": 50}]),
    (["sorted", ["list", 1.5, "b", 1, "a", 2]], [1, 1.5, 2, "a", "b"]),
    # null < boolean < number < NI < string < list
    (["sorted", ["list", "b", None, True, 1, "~:a:b", ["list", 1]]],
     [None, True, 1, NI("a:b"), "b", [1]]),
    (["sorted-descending", ["list", 4, 2, 5, 4, 3]], [5, 4, 4, 3, 2]),
    (["sorted-descending", ["list", "b", 2, {"x": 1}, "a", 4]], [{"x": 1}, "b", "a", 4, 2]),
    (["sorted-descending", "_.age", ["list", {"age": 30}, {"age": 50}, {"age": 20}]],
     [{"age": 50}, {"age": 30}, {"age": 20}]),
    (["sorted", "x"], "x"),
    (["sorted", None], None),
    (["sorted-descending", 3], 3),
])
def test_sorted(expr, expected):
    assert same(ev(expr), expected)


def test_sorted_is_stable_and_does_not_mutate():
    src = {"v": [{"k": 1, "i": 0}, {"k": 0, "i": 1}, {"k": 1, "i": 2}, {"k": 0, "i": 3}]}
    assert [x["i"] for x in ev(["sorted", "_.k", "_S.v"], src)] == [1, 3, 0, 2]
    assert [x["i"] for x in ev(["sorted-descending", "_.k", "_S.v"], src)] == [0, 2, 1, 3]
    assert [x["i"] for x in src["v"]] == [0, 1, 2, 3]


@pytest.mark.parametrize("expr, expected", [
    (["max", ["list", 4, 2, 5, 3]], 5),
    (["max", ["list", "b", 2, "a", 3]], "b"),
    (["max", ["list", {"x": 1}, "b", 2, "a"]], {"x": 1}),
    (["min", ["list", 4, 2, 5, 3]], 2),
    (["min", ["list", "b", 2, "a", 3]], 2),
    (["min", ["list", {"x": 1}, "b", "a"]], "a"),
    (["min", ["list", "B", "b", "A", "a"]], "A"),
    (["min", ["list", 2, 1.5, "~f1.25"]], Decimal("1.25")),
    (["min", ["list", 1, None]], None),
    (["max", ["list", 1, True]], 1),
    (["max", ["list"]], None),
    (["min", None], None),
    (["min", 7], 7),
    (["max", "_.a", ["list", {"a": 10, "i": 0}, {"a": 30, "i": 1}, {"a": 30, "i": 2}]],
     {"a": 30, "i": 1}),
    (["min", "_.a", ["list", {"a": 10, "i": 0}, {"a": 30, "i": 1}, {"a": 10, "i": 2}]],
     {"a": 10, "i": 0}),
    (["max", ["list", "~t2015-07-28T09:46:00Z", "~t2016-01-01T00:00:00Z"]],
     DateTime.from_parts(2016, 1, 1)),
])
def test_min_max(expr, expected):
    assert same(ev(expr), expected)


# -- arithmetic -------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ([2, 4, 6], 12),
    ([], 0),
    (None, 0),
    (5, 5),
    ([1, "2", None, True, [3], {"a": 4}], 1),
    ([1, 0.5], 1.5),
    ([10**30, 1], 10**30 + 1),
])
def test_sum(value, expected):
    assert same(ev(["sum", "_S.v"], {"v": value}), expected)


def test_sum_decimals_are_exact():
    got = ev(["sum", "_S.v"], {"v": [Decimal("0.1"), Decimal("0.2"), 1,
                                     Decimal("1" + "0" * 40)]})
    assert type(got) is Decimal and got == Decimal("1" + "0" * 39 + "1.3")
    # floats make the sum inexact whichever comes first
    assert type(ev(["sum", "_S.v"], {"v": [Decimal("0.5"), 0.25, 1]})) is float
    assert ev(["sum", "_S.v"], {"v": [0.25, Decimal("0.5"), 1]}) == 1.75


# -- properties -------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=False, width=64),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**6,
                max_value=10**6),
    st.text(max_size=4), st.uuids(),
    st.builds(DateTime, st.integers(-10**18, 10**18)),
    st.builds(NI, st.text(max_size=3)), st.builds(URI, st.text(max_size=3)),
    st.binary(max_size=3),
)
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=2), inner, max_size=3)),
    max_leaves=8)
_lists = st.lists(_values, max_size=8)

_sorted_f = dtl.compile_expression(["sorted", "_S.v"])
_sorted_by_id = dtl.compile_expression(["sorted", "_.", "_S.v"])
_sorted_desc = dtl.compile_expression(["sorted-descending", "_S.v"])
_min = dtl.compile_expression(["min", "_S.v"])
_max = dtl.compile_expression(["max", "_S.v"])


def _keys(xs):
    return [order_key(x) for x in xs]


@settings(max_examples=200)
@given(_lists)
def test_sorted_laws(xs):
    s = _sorted_f({"v": xs})
    assert [id(x) for x in sorted(s, key=id)] == [id(x) for x in sorted(xs, key=id)]  # permutation
    ks = _keys(s)
    assert ks == sorted(ks)
    assert [id(x) for x in _sorted_f({"v": s})] == [id(x) for x in s]  # idempotent
    assert [id(x) for x in _sorted_by_id({"v": xs})] == [id(x) for x in s]
    assert _keys(_sorted_desc({"v": xs})) == ks[::-1]


@settings(max_examples=200)
@given(_lists)
def test_min_max_agree_with_sorted(xs):
    s = _sorted_f({"v": xs})
    lo, hi = _min({"v": xs}), _max({"v": xs})
    if not xs:
        assert lo is None and hi is None
        return
    assert lo is s[0]  # stable sort: the first least element is the one min returns
    assert order_key(hi) == order_key(s[-1])
    assert all(order_key(lo) <= order_key(x) <= order_key(hi) for x in xs)


@settings(max_examples=200)
@given(st.lists(st.integers(-5, 5) | st.text(max_size=1) | st.booleans(), max_size=10))
def test_homogeneous_fast_path_matches_order_key(xs):
    assert _keys(_sorted_f({"v": xs})) == sorted(_keys(xs))


@settings(max_examples=200)
@given(_lists)
def test_distinct_laws(xs):
    d = ev(["distinct", "_S.v"], {"v": xs})
    assert all(not deep_equal(a, b) for i, a in enumerate(d) for b in d[i + 1:])
    assert all(any(deep_equal(x, y) for y in d) for x in xs)
    assert ev(["distinct", "_S.v"], {"v": d}) == d
