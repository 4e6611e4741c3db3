"""eq, neq, gt, gte, lt, lte: list coercion, first-value ordering, mixed-type ordering laws."""

import copy
import uuid
from decimal import Decimal

import pytest

from dtl.functions._common import first_value
from hypothesis import given, settings, strategies as st

import dtl
from tests.functions.backends import ev
from dtl.functions.comparisons import eq, gt, gte, lt, lte, neq
from dtl.values import NI, URI, DateTime, as_list, deep_equal, order_key

FAST = settings(max_examples=200, deadline=None)

scalars = (st.none() | st.booleans() | st.integers(-10**20, 10**20)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.decimals(allow_nan=False, allow_infinity=False, places=3)
           | st.text(max_size=5)
           | st.integers(0, 10**18).map(DateTime)
           | st.uuids() | st.binary(max_size=4)
           | st.text(max_size=4).map(NI) | st.text(max_size=4).map(URI))
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3)
                      | st.dictionaries(st.text(max_size=3), c, max_size=3), max_leaves=8)
# non-list values: the ordering functions look at the first value of a list only
orderables = st.recursive(scalars, lambda c: st.dictionaries(st.text(max_size=3), c,
                                                             max_size=3), max_leaves=6)

EQ = dtl.compile_expression(["eq", "_S.a", "_S.b"])
LT = dtl.compile_expression(["lt", "_S.a", "_S.b"])




# -- documented examples and edge cases -------------------------------------------------------

@pytest.mark.parametrize("expr,expected", [
    (["eq", "_S.age", 42], True),
    (["eq", "_S.hobbies", ["list", "soccer", "tennis"]], True),
    (["eq", "_S.hobbies", ["list", "tennis", "soccer"]], False),
    (["eq", 1, ["list", 1]], True),  # both sides are coerced to lists
    (["eq", None, ["list"]], True),
    (["eq", None, ["list", None]], False),
    (["eq", None, None], True),
    (["eq", True, 1], False),  # booleans are never numbers
    (["eq", 1, 1.0], True),
    (["eq", 1, "~f1.0"], True),
    (["eq", "1", 1], False),
    (["eq", {"a": [1, 2]}, {"a": [1, 2]}], True),
    (["eq", "~:a:b", "a:b"], False),
    (["eq", "~t2020-01-01T00:00:00Z", "~t2020-01-01T00:00:00.000Z"], True),
    (["neq", "_S.age", 42], False),
    (["neq", "_S.age", 41], True),
    (["gt", "_S.age", 41], True),
    (["gt", "_S.age", 42], False),
    (["gte", "_S.age", 42], True),
    (["lt", "_S.age", 43], True),
    (["lte", "_S.age", 42], True),
    (["lte", "_S.age", 41], False),
    (["gt", ["list", 50, 1], 42], True),  # only the first value counts
    (["lt", ["list", 50, 1], 42], False),
    (["gte", None, 18], False),
    (["gte", ["list"], 18], False),
    (["gte", ["list", None], 18], False),
    (["lt", None, 1], False),  # an ordering with null is false (as a node gives it)
    (["gt", "~t2020-03-16T00:00:00Z", None], False),
    (["gte", None, None], False),
    (["gt", "a", 10**9], True),  # strings sort after numbers
    (["lt", 1, "~f1.5"], True),
    (["lt", 1.5, 2], True),
    (["gt", "~t2020-01-02T00:00:00Z", "~t2020-01-01T00:00:00Z"], True),
    (["lt", "~t2020-01-01T00:00:00Z", "~:a"], True),
    (["lt", "~:z", "~rhttp://a"], True),  # NI < URI < string
    (["lt", "~rhttp://z", "a"], True),
    (["lt", "zzz", {"a": 1}], True),
    (["lt", {"a": 1}, {"a": 2}], True),
    (["lt", {"a": 9}, {"b": 1}], True),
    (["lt", True, 0], True),  # booleans before numbers
    (["lt", False, True], True),
])
def test_examples(expr, expected):
    assert ev(expr, {"age": 42, "hobbies": ["soccer", "tennis"]}) is expected


def test_eq_against_bytes_and_uuids():
    u = uuid.uuid4()
    assert EQ({"a": u, "b": uuid.UUID(str(u))}) is True
    assert EQ({"a": b"x", "b": b"x"}) is True
    assert EQ({"a": b"x", "b": "x"}) is False
    assert LT({"a": u, "b": NI("a")}) is True
    assert LT({"a": "z", "b": b""}) is True


def test_fast_path_agrees_with_general_path():
    # same-type scalars skip order_key; results must match the general rule
    for a, b in [(1, 2), ("a", "b"), (1.5, 1.5), ("b", "a"), (-1, -1)]:
        assert lt(a, b) == (order_key(a) < order_key(b))
        assert lte(a, b) == (order_key(a) <= order_key(b))
        assert gt(a, b) == (order_key(a) > order_key(b))
        assert gte(a, b) == (order_key(a) >= order_key(b))
        assert eq(a, b) == deep_equal(a, b)


# -- laws -------------------------------------------------------------------------------------

@FAST
@given(values)
def test_eq_is_reflexive(x):
    assert EQ({"a": x, "b": copy.deepcopy(x)}) is True
    assert neq(x, copy.deepcopy(x)) is False


@FAST
@given(values, values)
def test_eq_is_symmetric_and_neq_is_its_inverse(x, y):
    assert eq(x, y) == eq(y, x)
    assert neq(x, y) is (not eq(x, y))


@FAST
@given(values, values)
def test_eq_compares_values_as_lists(x, y):
    assert eq(x, y) == deep_equal(as_list(x), as_list(y))


@FAST
@given(orderables, orderables)
def test_ordering_is_antisymmetric_and_total(x, y):
    assert lt(x, y) == gt(y, x)
    assert lte(x, y) == gte(y, x)
    assert not (lt(x, y) and lt(y, x))
    if first_value(x) is None or first_value(y) is None:   # nothing to order: all false
        assert not (lt(x, y) or gt(x, y) or lte(x, y) or gte(x, y))
        return
    assert gte(x, y) is (not lt(x, y))
    assert lte(x, y) is (not gt(x, y))
    assert lt(x, y) or gt(x, y) or (lte(x, y) and gte(x, y))


@FAST
@given(orderables, orderables)
def test_ordering_looks_at_first_value_only(x, y):
    assert lt([x, "tail"], y) == lt(x, y)
    assert gt(x, [y, 1, 2]) == gt(x, y)
    assert lt([], y) == lt(None, y)


@FAST
@given(st.lists(orderables, max_size=8))
def test_ordering_agrees_with_sorted(xs):
    ordered = sorted(xs, key=order_key)
    for a, b in zip(ordered, ordered[1:]):
        assert lte(a, b) or first_value(a) is None   # null sorts first, compares false
        assert not gt(a, b)


@FAST
@given(st.integers(), st.integers())
def test_numbers_of_different_types_compare_by_value(a, b):
    assert lt(a, Decimal(b)) == (a < b)
    assert eq(a, Decimal(a)) is True
    assert gte(float(a), float(b)) == (float(a) >= float(b))
