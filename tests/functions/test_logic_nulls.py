"""Boolean logic (and, or, not, all, any) and nulls (coalesce, coalesce-args, if-null, is-null)."""

import pytest
from hypothesis import given, settings, strategies as st

import dtl
from tests.functions.backends import ev
from dtl.errors import DTLRuntimeError
from dtl.values import is_true

FAST = settings(max_examples=200, deadline=None)

scalars = (st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False)
           | st.text(max_size=3))
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3)
                      | st.dictionaries(st.text(max_size=2), c, max_size=2), max_leaves=6)

# evaluating this fails at runtime: proves an argument was never evaluated
BOOM = ["hops", {"datasets": ["missing m"], "where": ["eq", "_S._id", "m._id"]}]




# -- boolean logic ----------------------------------------------------------------------------

@pytest.mark.parametrize("expr,expected", [
    (["and", True], True),
    (["and", True, 1, "x", ["list", 0]], True),
    (["and", True, ["list"]], False),
    (["and", None, True], False),
    (["or", False, None, ["list"]], False),
    (["or", False, 0], True),
    (["or", None, True, False], True),
    (["not", True], False),
    (["not", None], True),
    (["not", ["list"]], True),
    (["not", True, True], False),  # like and, inverted
    (["not", True, False], True),
    (["all", ["list", 1, 2, 3]], True),
    (["all", ["list", 1, None]], False),
    (["all", ["list"]], True),
    (["all", ["gt", "_.", 2], ["list", 4, 5, 6]], True),
    (["all", ["lt", "_.", 2], ["list", 1, 3, 5]], False),
    (["any", ["list", False, None, 3]], True),
    (["any", ["list"]], False),
    (["any", ["gt", "_.", 5], ["list", 4, 6, 8]], True),
    (["any", ["lt", "_.", 2], ["list", 6, 7, 8]], False),
    (["all", True], True),  # a single value is a one-element list
    (["any", None], False),
])
def test_logic_examples(expr, expected):
    assert ev(expr) is expected


def test_and_or_not_short_circuit():
    assert ev(["and", False, BOOM]) is False
    assert ev(["or", True, BOOM]) is True
    assert ev(["not", None, BOOM]) is True
    with pytest.raises(DTLRuntimeError):
        ev(["and", True, BOOM])
    with pytest.raises(DTLRuntimeError):
        ev(["or", False, BOOM])


def test_and_or_read_the_source():
    rule = ["and", ["gt", "_S.age", 26], ["eq", "_S.gender", "male"]]
    assert ev(rule, {"age": 30, "gender": "male"}) is True
    assert ev(rule, {"age": 20, "gender": "male"}) is False
    assert ev(["or", ["eq", "_S.c", "A"], ["eq", "_S.c", "B"]], {"c": "B"}) is True


NOT_NOT = dtl.compile_expression(["not", ["not", "_S.x"]])
AND2 = dtl.compile_expression(["and", "_S.x", "_S.y"])
OR2 = dtl.compile_expression(["or", "_S.x", "_S.y"])
ALL = dtl.compile_expression(["all", "_S.xs"])
ANY = dtl.compile_expression(["any", "_S.xs"])
ALL_F = dtl.compile_expression(["all", ["not", "_."], "_S.xs"])
ANY_F = dtl.compile_expression(["any", ["not", "_."], "_S.xs"])


@FAST
@given(values)
def test_not_not_is_truthiness(x):
    assert NOT_NOT({"x": x}) is is_true(x)


@FAST
@given(values, values)
def test_and_or_are_boolean_connectives(x, y):
    s = {"x": x, "y": y}
    assert AND2(s) is (is_true(x) and is_true(y))
    assert OR2(s) is (is_true(x) or is_true(y))


@FAST
@given(st.lists(values, max_size=5))
def test_all_any_match_python(xs):
    s = {"xs": xs}
    assert ALL(s) is all(is_true(x) for x in xs)
    assert ANY(s) is any(is_true(x) for x in xs)
    # de Morgan through the function argument
    assert ANY_F(s) is (not ALL(s))
    assert ALL_F(s) is (not ANY(s))


# -- nulls ------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr,expected", [
    (["coalesce", ["list", None, "b", "c"]], "b"),
    (["coalesce", ["list", None, None]], None),
    (["coalesce", ["list"]], None),
    (["coalesce", 5], 5),
    (["coalesce", None], None),
    (["coalesce", ["list", None, ["list"], 1]], []),
    (["coalesce-args", None, None, 123, 236], 123),
    (["coalesce-args", None, ["list"], 123], []),
    (["coalesce-args", None, None], None),
    (["if-null", None, 2], 2),
    (["if-null", 1, 2], 1),
    (["if-null", ["list", None], 2], 2),
    (["if-null", ["list", None, 123], 2], 2),
    (["if-null", ["list"], 2], 2),
    (["if-null", ["list", 1, "12345"], 2], [1, "12345"]),
    (["if-null", False, 2], False),
    (["is-null", None], True),
    (["is-null", 1], False),
    (["is-null", ["list"]], True),
    (["is-null", ["list", None]], True),
    (["is-null", ["list", None, 123]], True),
    (["is-null", ["list", 1, None]], False),
    (["is-null", False], False),
    (["is-not-null", None], False),
    (["is-not-null", ["list", None, 123]], False),
    (["is-not-null", ["list", 1, "12345"]], True),
    (["is-not-null", 0], True),
])
def test_null_examples(expr, expected):
    assert ev(expr) == expected


def test_coalesce_with_function():
    src = {"hobbies": [{"name": "chess", "expenses": 100}, {"name": "sailing", "expenses": 5000},
                       {"name": "golf", "expenses": 3000}]}
    assert ev(["coalesce", ["gt", "_.expenses", 1000], "_S.hobbies"], src) == src["hobbies"][1]
    assert ev(["coalesce", ["gt", "_.expenses", 10**6], "_S.hobbies"], src) is None


def test_lazy_null_forms():
    assert ev(["coalesce-args", 1, BOOM]) == 1
    assert ev(["if-null", 1, BOOM]) == 1
    with pytest.raises(DTLRuntimeError):
        ev(["if-null", None, BOOM])


COALESCE = dtl.compile_expression(["coalesce", "_S.xs"])
COALESCE_ARGS = dtl.compile_expression(["coalesce-args", "_S.a", "_S.b", "_S.c"])
IS_NULL = dtl.compile_expression(["is-null", "_S.x"])
IS_NOT_NULL = dtl.compile_expression(["is-not-null", "_S.x"])


@FAST
@given(st.lists(values, max_size=6))
def test_coalesce_picks_the_first_non_null(xs):
    expected = next((x for x in xs if x is not None), None)
    assert COALESCE({"xs": xs}) == expected
    padded = (xs + [None, None, None])[:3]
    want = next((x for x in padded if x is not None), None)
    assert COALESCE_ARGS(dict(zip("abc", padded))) == want


@FAST
@given(values)
def test_is_null_looks_at_the_first_value(x):
    first = (x[0] if x else None) if isinstance(x, list) else x
    assert IS_NULL({"x": x}) is (first is None)
    assert IS_NOT_NULL({"x": x}) is (first is not None)
