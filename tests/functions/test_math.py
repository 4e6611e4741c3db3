"""Math functions (dtl-functions-math.rst): operators, word forms, rounding, number types.

Expressions are compiled once and run on `_S` values, so Python numbers (big ints,
decimals) reach the functions unchanged through the whole compiler.
"""

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dtl
from tests.functions.backends import ev
from dtl.errors import DTLError




def fn(expr):
    """A compiled expression over _S.a and _S.b."""
    e = dtl.compile_expression(expr)
    return lambda a=None, b=None: e({"a": a, "b": b})


def exact(v, t=None):
    """Assert the type, return the value as a Fraction (exact comparisons)."""
    if t is not None:
        assert type(v) is t, (v, type(v))
    return Fraction(v)


PLUS, MINUS = fn(["+", "_S.a", "_S.b"]), fn(["-", "_S.a", "_S.b"])
TIMES, DIV = fn(["*", "_S.a", "_S.b"]), fn(["/", "_S.a", "_S.b"])
MOD, POW = fn(["%", "_S.a", "_S.b"]), fn(["^", "_S.a", "_S.b"])
ROUND, CEIL, FLOOR = fn(["round", "_S.a"]), fn(["ceil", "_S.a"]), fn(["floor", "_S.a"])
ROUND_D, CEIL_D, FLOOR_D = (fn(["round", "_S.b", "_S.a"]), fn(["ceil", "_S.b", "_S.a"]),
                            fn(["floor", "_S.b", "_S.a"]))

ints = st.integers(min_value=-(10 ** 40), max_value=10 ** 40)
decimals = st.builds(lambda c, e: Decimal(c).scaleb(e),
                     st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
                     st.integers(min_value=-40, max_value=40))
floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
numbers = st.one_of(ints, decimals, floats)


# -- documented behaviour -------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    (["+", 10, 3], 13),
    (["+", 10, ["list", 10, 20, 30]], 20),
    (["-", 1, ["list", 1, 2, 3]], 0),
    (["*", ["list", 2.3, 14], 2], 4.6),
    (["/", ["list", 3, 8], ["list", -2, 6]], -1.5),
    (["/", 5, 0], None),
    (["%", ["list", 5, 8, 9], ["list", 3, -2.3]], 2),
    (["^", ["list", 2, 8, 9], 3], 8),
    (["plus", 10, ["list", 1, 2, 3]], [11, 12, 13]),
    (["minus", 10, 12], 2),
    (["multiply", 2, ["list", 2, 4, 6]], [4, 8, 12]),
    (["divide", ["list", 2, 8], 3], 1.5),
    (["mod", 3, 5], 2),
    (["pow", 3, 10], 1000),
    (["abs", ["list", -2, 4, -6]], [2, 4, 6]),
    (["round", ["list", 2.2, 3.5, 4.5]], [2, 4, 4]),
    (["round", -4.5], -4),
    (["round", -3.5], -4),
    (["ceil", 1, ["list", 2.2, 4.778, 6]], [2.2, 4.8, 6]),
    (["floor", 1, ["list", 2.2, 4.778, 6]], [2.2, 4.7, 6]),
    (["sqrt", ["list", 4, 9, 16]], [2.0, 3.0, 4.0]),
    (["sqrt", -2], None),
    (["cos", 0.0], 1.0),
])
def test_doc_examples(expr, expected):
    assert ev(expr) == expected


def test_operators_null_and_non_numbers():
    for op in "+-*/%^":
        assert ev([op, None, 1]) is None
        assert ev([op, 1, ["list"]]) is None
        assert ev([op, 2, "a"]) is None
        assert ev([op, 2, True]) is None  # booleans are not numbers
        assert ev([op, 2, ["list", "1", 3]]) is None  # the first element counts


def test_word_forms_drop_non_numbers_and_need_a_numeric_operand():
    assert ev(["plus", 1, ["list", 1, "a", None, True, 2.5, ["list", 3]]]) == [2, 3.5]
    assert ev(["plus", 1, "a"]) is None
    assert ev(["plus", "_S.x", ["list", 1, 2]]) is None
    assert ev(["multiply", ["list", 3, 4], 2]) == 6  # a list operand: its first element


def test_division_by_zero_is_null():
    assert ev(["/", 5.0, 0]) is None
    assert ev(["/", "~f5", 0]) is None
    assert ev(["%", 5, 0]) is None
    assert ev(["divide", 0, ["list", 1, 2]]) == [None, None]
    assert ev(["^", 0, -1]) is None


def test_result_types():
    assert type(ev(["/", 10, 5])) is int  # exact integer quotient stays an integer
    assert type(ev(["/", 10, 4])) is float
    assert ev(["+", 1, "~f0.5"]) == Decimal("1.5") and type(ev(["+", 1, "~f0.5"])) is Decimal
    # a float meets a decimal as its shortest text: 0.1 is one tenth, not 0.1000000000000000055
    assert ev(["+", 0.1, "~f0.2"]) == Decimal("0.3")
    assert type(ev(["*", 1, 2.0])) is float
    assert ev(["^", 2, -2]) == 0.25
    assert ev(["^", -8, 0.5]) is None  # not a real number
    assert ev(["^", 10.0, 400]) is None  # overflow
    assert ev(["*", 1e300, 1e300]) is None  # infinite
    assert type(ev(["sqrt", "~f2"])) is Decimal
    assert ev(["abs", "~f-1.23456789012345678901234567890123456789"]) == \
        Decimal("1.23456789012345678901234567890123456789")


def test_mod_takes_the_sign_of_the_divisor():
    assert ev(["%", -5, 3]) == 1
    assert ev(["%", 5, -3]) == -1
    assert ev(["%", "~f-5", 3]) == Decimal(1)
    assert ev(["%", "~f5.5", "~f-2"]) == Decimal("-0.5")


def test_rounding_types_and_digits():
    assert type(ev(["round", 2.5])) is int and ev(["round", 2.5]) == 2
    assert ev(["round", "~f2.5"]) == 2 and type(ev(["round", "~f2.5"])) is int
    assert ev(["round", 2, 2.675]) == 2.68  # by the decimal text, not the binary value
    assert ev(["round", 2, "~f2.675"]) == Decimal("2.68")
    assert ev(["round", 2, "~f2.665"]) == Decimal("2.66")
    assert ev(["ceil", 2, "~f2.299"]) == Decimal("2.30")
    assert str(ev(["ceil", 2, "~f2.299"])) == "2.30"
    assert ev(["ceil", 1, 2.2]) == 2.2  # 2.2 * 10 is 22.000000000000004 in binary
    assert ev(["floor", 1, -2.21]) == -2.3
    assert ev(["round", -2, 1250]) == 1200
    assert ev(["round", 1.0, 2.25]) == 2.2
    assert ev(["round", "_S.d", 2.25], {"d": 1.5}) is None  # non-integral DIGITS


def test_huge_decimal_spans_are_refused_not_rounded():
    with pytest.raises(DTLError):
        ev(["+", "~f1e999999999", 1])


# -- properties -----------------------------------------------------------------------------

@settings(max_examples=200)
@given(decimals, decimals)
def test_decimal_add_sub_is_exact(a, b):
    s = PLUS(a, b)
    assert type(s) is Decimal
    assert exact(s) == exact(a) + exact(b)
    assert MINUS(s, b) == a


@settings(max_examples=50)
@given(st.lists(decimals, min_size=1, max_size=200))
def test_sum_of_many_decimals_is_exact(xs):
    total = xs[0]
    for x in xs[1:]:
        total = PLUS(total, x)
    assert exact(total, Decimal) == sum(map(Fraction, xs))


@settings(max_examples=200)
@given(decimals, decimals)
def test_decimal_multiply_and_divide(a, b):
    p = TIMES(a, b)
    assert exact(p, Decimal) == exact(a) * exact(b)
    if b:
        assert DIV(p, b) == a  # a terminating quotient is exact
        q = DIV(a, b)
        assert type(q) is Decimal
        true = exact(a) / exact(b)
        assert abs(exact(q) - true) <= abs(true) * Fraction(1, 10 ** 33)
    else:
        assert DIV(a, b) is None


@settings(max_examples=200)
@given(ints, ints)
def test_integer_arithmetic_is_unbounded(a, b):
    assert exact(PLUS(a, b), int) == a + b
    assert exact(MINUS(a, b), int) == a - b
    assert exact(TIMES(a, b), int) == a * b
    if b:
        assert exact(MOD(a, b), int) == a % b
        q = DIV(a, b)
        if a % b == 0:
            assert type(q) is int and q == a // b
        else:
            assert type(q) is float and q == a / b  # Python divides big ints correctly rounded


@settings(max_examples=100)
@given(st.integers(min_value=-(10 ** 6), max_value=10 ** 6), st.integers(0, 40))
def test_integer_power_is_exact(a, n):
    assert exact(POW(a, n), int) == a ** n
    assert POW(Decimal(a), n) == Decimal(a ** n)
    assert type(POW(Decimal(a), n)) is Decimal


@settings(max_examples=200)
@given(decimals, decimals)
def test_decimal_mod_is_floored(a, b):
    if not b:
        assert MOD(a, b) is None
        return
    r = MOD(a, b)
    fa, fb, fr = exact(a), exact(b), exact(r, Decimal)
    assert fr == fa - fb * math.floor(fa / fb)


@settings(max_examples=200)
@given(st.integers(-10 ** 12, 10 ** 12))
def test_round_half_to_even(n):
    x = Decimal(n) + Decimal("0.5")
    r = ROUND(x)
    assert type(r) is int
    assert r % 2 == 0 and abs(Fraction(r) - exact(x)) == Fraction(1, 2)
    if abs(n) < 2 ** 50:
        assert ROUND(float(x)) == r


@settings(max_examples=200)
@given(numbers)
def test_round_ceil_floor_to_integer(x):
    for f in (ROUND, CEIL, FLOOR):
        assert type(f(x)) is int
    fx = Fraction(x) if type(x) is not float else Fraction(Decimal(repr(x)))
    assert CEIL(x) - 1 < fx <= CEIL(x)
    assert FLOOR(x) <= fx < FLOOR(x) + 1
    assert abs(ROUND(x) - fx) <= Fraction(1, 2)


@settings(max_examples=200)
@given(st.one_of(decimals, floats), st.integers(1, 6))
def test_rounding_with_digits_matches_decimal_quantize(x, d):
    text = Decimal(repr(x)) if type(x) is float else x
    q = Decimal(1).scaleb(-d)
    for f, mode in ((ROUND_D, "ROUND_HALF_EVEN"), (CEIL_D, "ROUND_CEILING"),
                    (FLOOR_D, "ROUND_FLOOR")):
        r = f(x, d)
        assert type(r) is type(x)
        if text.as_tuple().exponent >= -d:
            assert r == x
        else:
            want = text.quantize(q, rounding=mode)
            assert r == (float(want) if type(x) is float else want)


@settings(max_examples=200)
@given(floats, floats)
def test_float_arithmetic_matches_python(a, b):
    assert PLUS(a, b) == a + b and type(PLUS(a, b)) is float
    assert TIMES(a, b) == a * b
    q = a / b if b else None
    assert DIV(a, b) == (q if q is not None and math.isfinite(q) else None)


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(1, 9))
def test_round_fast_path_agrees_with_decimal_text_rounding(x, digits):
    from decimal import ROUND_HALF_EVEN, Decimal
    expected = float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN))
    assert dtl.evaluate(["round", digits, x]) == expected


def _decimal_text_round(x, digits):
    from decimal import ROUND_HALF_EVEN, Decimal
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN))


# values at and a few ulps around decimal ties k + 0.5 (e.g. 0.055 at 2 digits): where the
# exact binary value and the decimal text can round differently
near_ties = st.builds(
    lambda k, d, ulps: (_nudge((2 * k + 1) / (2 * 10.0 ** d), ulps), d),
    st.integers(-10**8, 10**8 - 1), st.integers(1, 9), st.integers(-3, 3))


def _nudge(x, ulps):
    for _ in range(abs(ulps)):
        x = math.nextafter(x, math.inf if ulps > 0 else -math.inf)
    return x


@settings(max_examples=500)
@given(near_ties)
def test_round_near_ties_agrees_with_decimal_text_rounding(xd):
    x, digits = xd
    r = dtl.evaluate(["round", digits, x])
    want = _decimal_text_round(x, digits)
    assert r == want and math.copysign(1, r) == math.copysign(1, want)


@settings(max_examples=100)
@given(st.lists(st.one_of(near_ties, st.tuples(st.floats(-1e7, 1e7), st.just(2))),
                min_size=1, max_size=30), st.integers(1, 9))
def test_numba_round_kernel_equals_the_registry_function(pairs, digits):
    import numpy as np
    from dtl.backends.vector import numba_kernels as NB
    from dtl.functions.math import round_
    x = np.array([p[0] for p in pairs], np.float64)
    out, ok = np.empty_like(x), np.empty(len(x), bool)
    NB.round_fast(x, 10.0 ** digits, out, ok)
    for v, r, good in zip(x.tolist(), out.tolist(), ok.tolist()):
        if good:
            want = round_(v, digits)
            assert r == want and math.copysign(1, r) == math.copysign(1, want), v
