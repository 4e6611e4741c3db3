"""Number conversions and tests (dtl-functions-numbers.rst)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dtl
from tests.functions.backends import ev
from dtl.values import URI




def fn(expr):
    e = dtl.compile_expression(expr)
    return lambda a: e({"a": a})


DECIMAL, FLOAT = fn(["decimal", "_S.a"]), fn(["float", "_S.a"])
INTEGER, HEX = fn(["integer", "_S.a"]), fn(["hex", "_S.a"])
STRING_OF = {"decimal": DECIMAL, "float": FLOAT, "integer": INTEGER}

decimals = st.builds(lambda c, e: Decimal(c).scaleb(e),
                     st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
                     st.integers(min_value=-40, max_value=40))
floats = st.floats(allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("expr, expected", [
    (["decimal", "1.0"], Decimal("1.0")),
    (["decimal", ["list", "1.0", "~rhttp://www.example.org/", 2.2, "one"]],
     [Decimal("1.0"), Decimal("2.2")]),
    (["float", "1.0"], 1.0),
    (["integer", ["list", "1", "~rhttp://www.example.org/", 124.4, 12345]], [1, 124, 12345]),
    (["integer", "0x00ff"], 255),
    (["integer", "0xff"], -1),
    (["hex", 1], "0x01"),
    (["hex", 255], "0x00ff"),
    (["hex", -1], "0xff"),
    (["hex", ["list", 1, "~rhttp://www.example.org/", 124.4, 12345]], ["0x01", "0x3039"]),
    (["is-decimal", ["list", ["decimal", "-1.0"], 1234]], True),
    (["is-float", ["list", 1.0, "12345"]], True),
    (["is-integer", ["list", "1", 2]], False),
])
def test_doc_examples(expr, expected):
    r = ev(expr)
    assert r == expected
    assert type(r) is type(expected)


def test_default_function_replaces_unparsable_values():
    assert ev(["integer", ["list", 0], ["list", "1", "x", None, "7"]]) == [1, [0], 7]
    # `_` is the value that did not parse
    assert ev(["decimal", "_.", ["list", "2.5", "~rhttp://a/"]]) == [Decimal("2.5"),
                                                                   URI("http://a/")]
    assert ev(["float", 0.0, "n/a"]) == 0.0


def test_strict_number_text():
    for bad in ("nan", "inf", "Infinity", "1_000", "0x", "", " ", "1.2.3", "10^2", "١٢"):
        assert DECIMAL(bad) is None, bad
        assert FLOAT(bad) is None, bad
        assert INTEGER(bad) is None, bad
    assert INTEGER("1.0") is None  # not an integer text
    assert INTEGER(" -12 ") == -12
    assert DECIMAL("1e3") == Decimal(1000)
    assert FLOAT("1e999") is None  # not representable
    assert INTEGER("0x8") == 8 and INTEGER("0x80") == -128 and INTEGER("0xfff") == 4095


def test_booleans_are_not_numbers():
    for f in (DECIMAL, FLOAT, INTEGER, HEX):
        assert f(True) is None
    assert ev(["is-integer", True]) is False
    assert ev(["is-integer", "_S.x"], {"x": []}) is False


def test_truncation_towards_zero():
    assert INTEGER(-1.9) == -1
    assert INTEGER(Decimal("-7.9")) == -7
    assert INTEGER(2.999) == 2


@settings(max_examples=200)
@given(st.integers(min_value=-(2 ** 200), max_value=2 ** 200))
def test_hex_round_trip_and_shape(n):
    h = HEX(n)
    assert h.startswith("0x") and len(h) % 2 == 0 and len(h) >= 4
    assert INTEGER(h) == n
    # shortest: dropping the first byte changes the value
    if len(h) > 4:
        assert INTEGER("0x" + h[4:]) != n


@settings(max_examples=200)
@given(st.integers(min_value=-(10 ** 60), max_value=10 ** 60))
def test_integer_round_trips(n):
    assert INTEGER(DECIMAL(n)) == n
    assert INTEGER(str(n)) == n
    assert type(DECIMAL(n)) is Decimal
    if abs(n) <= 2 ** 53:
        assert INTEGER(FLOAT(n)) == n


@settings(max_examples=200)
@given(decimals)
def test_decimal_round_trips(d):
    assert DECIMAL(str(d)) == d
    assert str(DECIMAL(str(d))) == str(d)  # digits kept
    assert DECIMAL(d) is d


@settings(max_examples=200)
@given(floats)
def test_float_round_trips(x):
    d = DECIMAL(x)
    assert type(d) is Decimal and d == Decimal(repr(x))
    assert FLOAT(d) == x
    assert FLOAT(repr(x)) == x
    if x.is_integer() and abs(x) < 2 ** 63:
        assert INTEGER(x) == int(x)


@settings(max_examples=100)
@given(st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=5), floats), max_size=10))
def test_lists_keep_order_and_drop_failures(xs):
    out = INTEGER(xs)
    assert out == [r for r in (INTEGER(x) for x in xs if x is not None) if r is not None]
