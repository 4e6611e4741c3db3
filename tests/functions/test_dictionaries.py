"""dict, has-key, is-dict, items, key-values, keys, values, apply-ns, strip-ns, path."""

import pytest
from hypothesis import given, settings, strategies as st

import dtl
from tests.functions.backends import ev
from dtl.errors import DTLCompileError, DTLRuntimeError

FAST = settings(max_examples=200, deadline=None)

NS_OPTS = {"namespaced_identifiers": True, "namespaces": {"identity": "foo", "property": "bar"}}
NS_ENTITY = {"a": 1, "foo:a": 2, "bar:a": [3, 4]}

keys_ = st.text(alphabet="abc:", max_size=4)
scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3)
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3)
                      | st.dictionaries(keys_, c, max_size=3), max_leaves=8)
dicts = st.dictionaries(keys_, values, max_size=4)




@pytest.mark.parametrize("expr,expected", [
    (["dict"], {}),
    (["dict", ["list", ["list", "A", 1], ["list", "B", 2], ["list", "C", 3]]],
     {"A": 1, "B": 2, "C": 3}),
    (["dict", ["list", "X", 123, ["list", "A", 1]]], {"A": 1}),
    (["dict", ["list", ["list", "A", 1], ["list", "A", 2]]], {"A": 2}),  # last key wins
    (["dict", ["list", ["list", "A", 1, 2], ["list", 1, 2]]], {}),
    (["dict", "a", 1, "b", ["list", 2]], {"a": 1, "b": [2]}),
    (["dict", "a", 1, "a", 2], {"a": 2}),
    (["dict", None], {}),
    (["has-key", "a", {"a": 1}], True),
    (["has-key", "b", {"a": 1}], False),
    (["has-key", "a", ["list", {"a": 1}, 123]], True),
    (["has-key", "b", ["list", {"a": 1}, {"b": 1}]], False),
    (["has-key", "a", ["list", 123, {"a": 1}]], None),
    (["has-key", "a", None], None),
    (["is-dict", {"a": 1}], True),
    (["is-dict", ["list", {"a": 1}, 123]], True),
    (["is-dict", ["list", 123, {"a": 1}]], False),
    (["is-dict", "abc"], False),
    (["is-dict", ["list"]], False),
    (["items", ["list", {"A": 1, "B": 2}, {"C": 3}]], [["A", 1], ["B", 2], ["C", 3]]),
    (["items", ["list", "X", 123, {"A": 1}]], [["A", 1]]),
    (["items", {"A": 1}], [["A", 1]]),
    (["items", None], []),
    (["key-values", ["list", {"A": 1, "B": 2}, 123, {"C": 3, "A": 1}]],
     [{"key": "A", "value": 1}, {"key": "B", "value": 2}, {"key": "C", "value": 3},
      {"key": "A", "value": 1}]),
    (["key-values", {"hello": "world"}], {"key": "hello", "value": "world"}),
    (["key-values", {"a": 1, "b": 2}], [{"key": "a", "value": 1}, {"key": "b", "value": 2}]),
    (["keys", ["list", {"A": 1, "B": 2}, {"A": 1, "C": 3}]], ["A", "B", "A", "C"]),
    (["keys", ["list", "X", 123, {"A": 1}]], ["A"]),
    (["values", ["list", {"A": 1, "B": 2}, {"A": 1, "C": 3}]], [1, 2, 1, 3]),
    (["values", ["list", "X", 123, {"A": 1}]], [1]),
])
def test_examples(expr, expected):
    assert ev(expr) == expected


def test_dict_with_odd_argument_count_is_a_compile_error():
    with pytest.raises(DTLCompileError):
        dtl.compile_expression(["dict", "a", 1, "b"])


def test_dict_pairs_evaluate_expressions():
    assert ev(["dict", "_S.k", "_S.v", "x", "_S.k"], {"k": "name", "v": 7}) == \
        {"name": 7, "x": "name"}


# -- apply-ns / strip-ns ------------------------------------------------------------------------

@pytest.mark.parametrize("config,value,expected", [
    ("myns", {"_id": "123", "foo": 1, "$bar": {"baz": 2}},
     {"_id": "myns:123", "myns:foo": 1, "$bar": {"baz": 2}}),
    ({"property_namespace": "myns", "identity_namespace": "myns", "skip_underscore": False,
      "skip_dollar": False, "recursive": True},
     {"_id": "123", "foo": 1, "$bar": {"baz": 2}},
     {"myns:_id": "myns:123", "myns:foo": 1, "myns:$bar": {"myns:baz": 2}}),
    ({"property_namespace": "myns", "identity_namespace": None, "skip_underscore": False,
      "skip_dollar": False, "recursive": False},
     {"_id": "123", "myns:foo": 1, "$bar": {"baz": 2}},
     {"myns:_id": "123", "myns:foo": 1, "myns:$bar": {"baz": 2}}),
    ("ns", {"a": {"b": [{"c": 1}, 2]}, "x:y": {"z": 1}},
     {"ns:a": {"ns:b": [{"ns:c": 1}, 2]}, "x:y": {"ns:z": 1}}),
    ("ns", [{"a": 1}, 5], [{"ns:a": 1}, 5]),
    ("ns", "plain", "plain"),
])
def test_apply_ns(config, value, expected):
    assert ev(["apply-ns", config, "_S.v"], {"v": value}) == expected


def test_apply_ns_defaults_to_the_pipe_namespaces():
    out = ev(["apply-ns", {}, {"_id": "1", "a": 1}], options=NS_OPTS)
    assert out == {"_id": "foo:1", "bar:a": 1}


def test_apply_ns_rejects_unknown_settings():
    with pytest.raises(DTLRuntimeError):
        ev(["apply-ns", {"property_ns": "x"}, {"a": 1}])


def test_strip_ns():
    assert ev(["strip-ns", {"ns1:b": 1, "ns2:c": 2}]) == {"b": 1, "c": 2}
    assert ev(["strip-ns", "_S.v"], {"v": [{"a:b": {"c:d": 1}}, 3]}) == [{"b": {"d": 1}}, 3]


@FAST
@given(dicts, st.text(alphabet="xyz", min_size=1, max_size=3))
def test_strip_ns_undoes_apply_ns(d, ns):
    plain = ev(["strip-ns", "_S.d"], {"d": d})
    cfg = {"property_namespace": ns, "identity_namespace": None, "skip_underscore": False,
           "skip_dollar": False}
    added = ev(["apply-ns", cfg, "_S.d"], {"d": plain})
    assert ev(["strip-ns", "_S.d"], {"d": added}) == plain
    assert all(k.startswith(ns + ":") for k in added)


# -- projections ------------------------------------------------------------------------------

KEYS = dtl.compile_expression(["keys", "_S.ds"])
VALUES = dtl.compile_expression(["values", "_S.ds"])
ITEMS = dtl.compile_expression(["items", "_S.ds"])
DICT = dtl.compile_expression(["dict", ["items", "_S.d"]])


@FAST
@given(st.lists(dicts | scalars, max_size=4))
def test_items_are_keys_zipped_with_values(ds):
    s = {"ds": ds}
    assert ITEMS(s) == [list(p) for p in zip(KEYS(s), VALUES(s))]


@FAST
@given(dicts)
def test_dict_of_items_round_trips(d):
    assert DICT({"d": d}) == d


# -- path -------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr,expected", [
    (["path", "age", ["list", {"age": 23}, {"age": 24}]], [23, 24]),
    (["path", "age", {"age": 24}], 24),
    (["path", ["list", 1], {"age": 24}], {"age": 24}),
    (["path", ["list"], {"age": 24}], {"age": 24}),
    (["path", ["list", 1, "age", None], {"age": 24}], 24),
    (["path", "foo", {"bar": 123}], None),
    (["path", ["list", "a", "b"], ["list", {"a": {"b": 1}}, {"a": [{"b": 2}, {"b": 3}]}]],
     [1, 2, 3]),
    (["path", "a", 5], None),
    (["path", "a:b", {"a:b": 1}], 1),  # without namespaced identifiers names are exact
    (["path", "b", {"a:b": 1}], None),
])
def test_path(expr, expected):
    assert ev(expr) == expected


def test_path_through_the_source():
    src = {"orders": [{"order_lines": [{"item_name": "apple"}, {"item_name": "pear"}]},
                      {"order_lines": [{"item_name": "plum"}]}]}
    assert ev(["path", ["list", "order_lines", "item_name"], "_S.orders"], src) == \
        ["apple", "pear", "plum"]


@pytest.mark.parametrize("element,expected", [
    ("foo:a", 2),
    ("::a", 1),
    (":a", [3, 4]),
    ("::bar:a", [3, 4]),
    ("zzz:a", None),
])
def test_path_with_namespaced_identifiers(element, expected):
    assert ev(["path", element, "_S."], NS_ENTITY, options=NS_OPTS) == expected


def test_path_unqualified_element_is_the_union_over_namespaces():
    out = ev(["path", "a", "_S."], NS_ENTITY, options=NS_OPTS)
    assert sorted(out) == [1, 2, 3, 4]
    # a single match is returned as it is
    assert ev(["path", "b", {"x:b": {"c": 1}}], options=NS_OPTS) == {"c": 1}
    assert ev(["path", ["list", "b", "c"], {"x:b": {"y:c": 1}}], options=NS_OPTS) == 1
