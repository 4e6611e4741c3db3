"""Misc (hash128, is-changed, literal, tuples, completeness) and namespaced identifiers."""

import itertools

import mmh3
import pytest
from hypothesis import given, settings, strategies as st

import dtl
from tests.functions.backends import ev
from dtl.errors import DTLRuntimeError
from dtl.values import NI, URI, DateTime

FAST = settings(max_examples=200, deadline=None)




# -- hash128 ----------------------------------------------------------------------------------

def test_hash128_documented_values():
    assert ev(["hash128", "murmur3", "abc"]) == 79267961763742113019008347020647561319
    assert ev(["hash128", "murmur3", ["list", "abc", 123, "def"]]) == [
        79267961763742113019008347020647561319, 114697464648834432121201791580882983835]


def test_hash128_bytes_seed_and_ignored_values():
    assert ev(["hash128", "murmur3", "~bYWJj"]) == ev(["hash128", "murmur3", "abc"])
    seeded = ev(["hash128", "murmur3", 42, "abc"])
    assert seeded == mmh3.hash128(b"abc", 42, True, signed=False)
    assert seeded != ev(["hash128", "murmur3", "abc"])
    assert ev(["hash128", "murmur3", 123]) is None
    assert ev(["hash128", "murmur3", None]) is None


def test_hash128_rejects_other_algorithms():
    with pytest.raises(DTLRuntimeError):
        ev(["hash128", "md5", "abc"])


@FAST
@given(st.text())
def test_hash128_is_an_unsigned_128_bit_integer(s):
    h = ev(["hash128", "murmur3", "_S.s"], {"s": s})
    assert 0 <= h < 2**128
    assert h == mmh3.hash128(s.encode("utf-8"), 0, True, signed=False)


# -- is-changed -------------------------------------------------------------------------------

def changed(expr, source, previous_versions=None):
    f = dtl.compile_expression(expr)
    if previous_versions is not None:
        f.ctx.services["previous_version"] = lambda e: previous_versions.get(e.get("_id"))
    return f(source)


def test_is_changed_is_null_without_a_previous_version():
    assert changed(["is-changed", "_.name"], {"_id": "e1", "name": "Ann"}) is None
    assert changed(["is-changed", "_.name"], {"_id": "e1", "name": "Ann"}, {}) is None


def test_is_changed_compares_the_function_on_both_versions():
    prev = {"e1": {"_id": "e1", "name": "Ann", "height": 1, "width": 2, "start": 1, "end": 5}}
    cur = {"_id": "e1", "name": "Ann", "height": 1, "width": 3, "start": 2, "end": 6}
    assert changed(["is-changed", "_.name"], cur, prev) is False
    assert changed(["is-changed", ["list", "_.height", "_.width"]], cur, prev) is True
    assert changed(["is-changed", ["list", "_.height", "_.start"]], {**cur, "start": 1},
                   prev) is False


def test_is_changed_is_true_for_deletions():
    prev = {"e1": {"_id": "e1", "name": "Ann"}}
    assert changed(["is-changed", "_.name"], {"_id": "e1", "name": "Ann", "_deleted": True},
                   prev) is True
    prev = {"e1": {"_id": "e1", "name": "Ann", "_deleted": True}}
    assert changed(["is-changed", "_.name"], {"_id": "e1", "name": "Ann"}, prev) is True


# -- literal ----------------------------------------------------------------------------------

@pytest.mark.parametrize("arg", ["_S.foo", {"foo": 1, "bar": 2}, ["upper", "hello"], None, 1,
                                 ["list", "_S.x"]])
def test_literal_is_not_evaluated(arg):
    assert ev(["literal", arg], {"foo": "not this", "x": 1}) == arg


def test_literal_decodes_transit():
    assert ev(["literal", "~:a:b"]) == NI("a:b")
    assert ev(["literal", {"t": "~t2020-01-01T00:00:00Z"}]) == \
        {"t": DateTime.from_parts(2020, 1, 1)}


# -- tuples -----------------------------------------------------------------------------------

@pytest.mark.parametrize("expr,expected", [
    (["tuples"], []),
    (["tuples", "a", "b", "c"], [["a", "b", "c"]]),
    (["tuples", ["list", 1, 2], 3], [[1, 3], [2, 3]]),
    (["tuples", ["list", 1, 2], ["list", 3, None, 4, 5]],
     [[1, 3], [1, 4], [1, 5], [2, 3], [2, 4], [2, 5]]),
    (["tuples", 1, None], []),
    (["tuples", 1, ["list"]], []),
])
def test_tuples(expr, expected):
    assert ev(expr) == expected


TUPLES = dtl.compile_expression(["tuples", "_S.a", "_S.b"])
COUNT_OK = st.lists(st.none() | st.integers(0, 9), max_size=4)


@FAST
@given(COUNT_OK, COUNT_OK)
def test_tuples_is_the_product_without_nulls(a, b):
    out = TUPLES({"a": a, "b": b})
    want = [list(t) for t in itertools.product([x for x in a if x is not None],
                                               [y for y in b if y is not None])]
    assert out == want


# -- completeness -----------------------------------------------------------------------------

def test_completeness_is_null_when_unknown():
    assert ev(["completeness", "a", "b"]) is None


def test_completeness_asks_the_runtime_hook():
    f = dtl.compile_expression(["completeness", "via", "pipe1"])
    stamp = DateTime.from_parts(2015, 7, 28, 7, 46)
    f.ctx.services["completeness"] = lambda via, ds: stamp if (via, ds) == ("via", "pipe1") \
        else None
    assert f({}) == stamp
    g = dtl.compile_expression(["completeness", "other", "pipe1"])
    g.ctx.services["completeness"] = f.ctx.services["completeness"]
    assert g({}) is None


# -- namespaced identifiers -------------------------------------------------------------------

@pytest.mark.parametrize("expr,expected", [
    (["is-ni", ["ni", "foo:bar"]], True),
    (["is-ni", "foo:bar"], False),
    (["is-ni", ["list", ["ni", "foo:bar"], 12345]], True),
    (["is-ni", ["list", 1, ["ni", "foo:bar"]]], False),
    (["is-ni", "~:x"], True),
    (["ni", "foo", "bar"], NI("foo:bar")),
    (["ni", "bar"], NI("bar")),
    (["ni", "foo", ["list", "bar", "x:y"]], [NI("foo:bar"), NI("foo:x:y")]),
    (["ni", "foo", ["list", "bar", 1, None]], [NI("foo:bar")]),
    (["ni", "foo", "~rhttp://example.org/"], None),  # no URIs with a NAMESPACE
    (["ni", "~rhttp://example.org/bar"], NI("_:bar")),
    (["ni", 5], None),
    (["ni-id", "~:foo:bar"], "bar"),
    (["ni-id", "foo:bar"], "bar"),
    (["ni-id", "bar"], "bar"),
    (["ni-id", "~:foo:x:y"], "x:y"),
    (["ni-id", ["list", "~:foo:bar", "~:bar:baz"]], ["bar", "baz"]),
    (["ni-id", ["list", "foo:bar", 1, "bar:baz"]], ["bar", "baz"]),
    (["ni-id", 1], None),
    (["ni-ns", "~:foo:bar"], "foo"),
    (["ni-ns", "foo:bar"], "foo"),
    (["ni-ns", "foo"], ""),
    (["ni-ns", "~:foo"], ""),
    (["ni-ns", ["list", "~:foo:bar", "~:bar:baz"]], ["foo", "bar"]),
    (["ni-ns", ["list", "foo:bar", "bar:baz"]], ["foo", "bar"]),
])
def test_namespaced_identifiers(expr, expected):
    assert ev(expr) == expected


def test_ni_collapses_undeclared_uri_prefixes_to_generated_namespaces():
    f = dtl.compile_expression(["ni", "_S.u"])
    f.ctx.services["pipe_id"] = "your-pipe"
    a = f({"u": URI("http://unknown.org/something/baz")})
    b = f({"u": URI("http://unknown.org/something/qux")})
    c = f({"u": URI("http://other.org/x#y")})
    assert a == NI("your-pipe-1:baz") and b == NI("your-pipe-1:qux")
    assert c == NI("your-pipe-2:y")
    f.ctx.services["uri_namespaces"] = {"http://known.org/": "known"}
    assert f({"u": URI("http://known.org/z")}) == NI("known:z")


NI_PARTS = dtl.compile_expression(["ni", "_S.ns", "_S.id"])
NI_ID = dtl.compile_expression(["ni-id", "_S.v"])
NI_NS = dtl.compile_expression(["ni-ns", "_S.v"])


@FAST
@given(st.text(alphabet="abc_-", min_size=1, max_size=5), st.text(alphabet="ab:c", max_size=5))
def test_ni_parts_round_trip(ns, ident):
    v = NI_PARTS({"ns": ns, "id": ident})
    assert NI_NS({"v": v}) == ns
    assert NI_ID({"v": v}) == ident
