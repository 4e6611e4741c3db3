"""Set functions (dtl-functions-sets.rst): examples, DTL equality and set-algebra laws."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dtl
from tests.functions.backends import ev
from dtl.values import NI, deep_equal




@pytest.mark.parametrize("expr, expected", [
    (["difference", ["list", "A", "B"], ["list", "B"]], ["A"]),
    (["difference", "A", ["list", "B", "C"]], ["A"]),
    (["difference", ["list", "A", "B", "C", "D"], ["list", "A", "B", "E"]], ["C", "D"]),
    (["difference", ["list", "D", "A", "D", "E", "B"], ["list", "A", "F", "F", "B", "C"]],
     ["D", "D", "E"]),
    (["difference", None, ["list", "A"]], []),
    (["difference", ["list", "A", None], None], ["A", None]),
    (["intersection", ["list", "A", "B"], ["list", "B", "C"]], ["B"]),
    (["intersection", "B", ["list", "B", "C"]], ["B"]),
    (["intersection", "A", ["list", "B", "C"]], []),
    (["intersection", ["list", "B", "C", "B", "D", "A"],
      ["list", "A", "F", "F", "B", "E", "B", "C"]], ["B", "C", "B", "A"]),
    (["intersection", ["list", None, 1], ["list", None]], [None]),
    (["intersection", ["list", None, 1], None], []),
    (["intersects", ["list", "A", "B"], ["list", "B", "C"]], True),
    (["intersects", "B", ["list", "B", "C"]], True),
    (["intersects", "A", ["list", "B", "C"]], False),
    (["intersects", None, None], False),
    (["union", ["list", "A", "B"], ["list", "B", "C"]], ["A", "B", "C"]),
    (["union", "A", ["list", "B", "C"]], ["A", "B", "C"]),
    (["union", ["list", "B", "C", "B", "D", "A"], ["list", "A", "F", "F", "B", "E", "B", "C"]],
     ["B", "C", "D", "A", "F", "E"]),
    (["union", None, None], []),
    (["union", "A", None], ["A"]),
])
def test_examples(expr, expected):
    assert ev(expr) == expected


def test_dtl_equality():
    src = {"a": [1, True, {"k": [1]}, "~x", NI("x"), Decimal("2.50")],
           "b": [1.0, {"k": [Decimal(1)]}, "x", 2.5]}
    assert deep_equal(ev(["intersection", "_S.a", "_S.b"], src),
                      [1, {"k": [1]}, Decimal("2.50")])
    assert deep_equal(ev(["difference", "_S.a", "_S.b"], src), [True, "~x", NI("x")])
    assert deep_equal(ev(["union", "_S.a", "_S.b"], src), src["a"] + ["x"])
    assert ev(["intersects", ["list", True], ["list", 1]]) is False
    assert ev(["intersects", ["list", ["list", 1, 2]], ["list", ["list", 1, 2.0]]]) is True


def test_inputs_are_not_mutated():
    src = {"a": [1, 2, 2], "b": [2, 3]}
    ev(["union", "_S.a", "_S.b"], src)
    ev(["difference", "_S.a", "_S.b"], src)
    assert src == {"a": [1, 2, 2], "b": [2, 3]}


# -- set algebra ------------------------------------------------------------------------------

_elems = st.one_of(st.none(), st.booleans(), st.integers(-3, 3),
                   st.sampled_from([1.0, 2.5, -0.0]), st.sampled_from([Decimal("1"), Decimal("2.5")]),
                   st.sampled_from(["a", "b", "c", "1"]),
                   st.lists(st.integers(0, 2), max_size=2),
                   st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 1), max_size=2))
_sets = st.lists(_elems, max_size=7)

_U = dtl.compile_expression(["union", "_S.a", "_S.b"])
_I = dtl.compile_expression(["intersection", "_S.a", "_S.b"])
_D = dtl.compile_expression(["difference", "_S.a", "_S.b"])
_X = dtl.compile_expression(["intersects", "_S.a", "_S.b"])
_DISTINCT = dtl.compile_expression(["distinct", "_S.a"])


def U(a, b):
    return _U({"a": a, "b": b})


def I(a, b):  # noqa: E743
    return _I({"a": a, "b": b})


def D(a, b):
    return _D({"a": a, "b": b})


def X(a, b):
    return _X({"a": a, "b": b})


def member(x, xs):
    return any(deep_equal(x, y) for y in xs)


def eq(a, b):
    return deep_equal(a, b)


@settings(max_examples=200)
@given(_sets, _sets, _sets)
def test_union_laws(a, b, c):
    u = U(a, b)
    assert eq(u, _DISTINCT({"a": a + b}))  # first occurrences of a, then of b
    assert all(member(x, u) for x in a + b) and all(member(x, a + b) for x in u)
    assert eq(U(U(a, b), c), U(a, U(b, c)))
    assert eq(U(a, []), _DISTINCT({"a": a}))
    assert eq(U(a, a), U(a, []))
    # commutative as sets
    ba = U(b, a)
    assert len(u) == len(ba) and all(member(x, ba) for x in u)


@settings(max_examples=200)
@given(_sets, _sets)
def test_intersection_difference_partition(a, b):
    i, d = I(a, b), D(a, b)
    assert eq(i, [x for x in a if member(x, b)])
    assert eq(d, [x for x in a if not member(x, b)])
    assert len(i) + len(d) == len(a)
    assert eq(I(a, []), []) and eq(D(a, []), a) and eq(D(a, a), [])
    assert eq(I(a, a), a)
    # intersection through difference: a - (a - b) == a & b
    assert eq(D(a, D(a, b)), i)
    # a & b and b & a hold the same values
    ib = I(b, a)
    assert all(member(x, ib) for x in i) and all(member(x, i) for x in ib)


@settings(max_examples=200)
@given(_sets, _sets)
def test_intersects(a, b):
    assert X(a, b) is X(b, a)
    assert X(a, b) is bool(I(a, b))
    assert X(a, b) is (len(D(a, b)) < len(a))
