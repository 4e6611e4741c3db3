"""Conditionals (case, case-eq; expression and transform forms): the first branch whose test
holds, and nothing after it is evaluated."""

import pytest

import dtl
from tests.functions.backends import ev

# evaluating this fails at runtime: proves an argument was never evaluated
BOOM = ["hops", {"datasets": ["missing m"], "where": ["eq", "_S._id", "m._id"]}]


@pytest.mark.parametrize("expr,src,expected", [
    (["case", ["eq", "_S.a", 1], "one", ["eq", "_S.a", 2], "two", "other"], {"a": 2}, "two"),
    (["case", ["eq", "_S.a", 1], "one", "other"], {"a": 5}, "other"),
    (["case", ["eq", "_S.a", 1], "one"], {"a": 5}, None),
    (["case", ["list"], "empty is false", 0, "zero is true"], {}, "zero is true"),
    (["case", True, "x", BOOM, "y"], {}, "x"),
    (["case", False, BOOM, "z"], {}, "z"),
    (["case-eq", "_S.a", 1, "one", 2, "two", "other"], {"a": 1}, "one"),
    (["case-eq", "_S.a", 1, "one", 2, "two", "other"], {"a": 3}, "other"),
    (["case-eq", "_S.l", ["list", 1, 2], "same list", "no"], {"l": [1, 2]}, "same list"),
    (["case-eq", "_S.a", 1, "one"], {"a": "1"}, None),
    (["case-eq", 1, 1, "a", BOOM, "b"], {}, "a"),
])
def test_case_and_case_eq(expr, src, expected):
    assert ev(expr, src) == expected


def test_a_failing_test_before_the_match_fails():
    with pytest.raises(dtl.DTLError):
        ev(["case", BOOM, "x", True, "y"], {})


@pytest.mark.parametrize("a,expected", [(1, {"x": 1}), (2, {"x": 2, "y": 2}), (3, {"x": 0})])
def test_transform_forms(a, expected):
    t = dtl.compile({"default": [
        ["case-eq", "_S.a", 1, ["add", "x", 1], 2, [["add", "x", 2], ["add", "y", 2]],
         ["add", "x", 0]],
        ["case", ["eq", "_S.a", 9], ["add", "nine", True]]]})
    assert t.apply({"a": a}) == [expected]
