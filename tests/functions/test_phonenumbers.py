"""Phone number functions (dtl-functions-phonenumbers.rst)."""

import phonenumbers as pn
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dtl
from tests.functions.backends import ev
from dtl.errors import DTLError
from dtl.values import URI




TEL = URI("tel:+47-22-22-22-22")


@pytest.mark.parametrize("expr, expected", [
    (["phonenumber-parse", "+4722222222"], TEL),
    (["phonenumber-parse", "NO", "22225555"], URI("tel:+47-22-22-55-55")),
    (["phonenumber-parse", "no", "22 22 22 22"], TEL),
    (["phonenumber-parse", "NO", ["list", "22222222", "22225555"]],
     [TEL, URI("tel:+47-22-22-55-55")]),
    (["phonenumber-parse", "NO", 22222222], TEL),
    (["phonenumber-parse", "US", "(650) 253-0000"], URI("tel:+1-650-253-0000")),
    (["phonenumber-parse", "NO", ["list", "22222222", "not a number", None, True, "123"]],
     [TEL]),
    (["phonenumber-parse", "22222222"], None),  # no country code and no region
    (["phonenumber-parse", None], None),
])
def test_parse(expr, expected):
    assert ev(expr) == expected


@pytest.mark.parametrize("fmt, expected", [
    ("e164", "4722222222"),
    ("national-e164", "22222222"),
    ("national", "22 22 22 22"),
    ("international", "+47 22 22 22 22"),
    ("rfc3966", "tel:+47-22-22-22-22"),
    ("isocode", "NO"),
    ("country-code", "47"),
])
def test_format(fmt, expected):
    assert ev(["phonenumber-format", fmt, "_S.t"], {"t": TEL}) == expected


def test_format_lists_and_ignored_values():
    src = {"t": [TEL, "22222222", None, 5, URI("tel:+47-22-22-55-55")]}
    assert ev(["phonenumber-format", "e164", "_S.t"], src) == ["4722222222", "4722225555"]
    assert ev(["phonenumber-format", "e164", "_S.t"], {"t": "hello"}) is None


def test_national_significant_number_keeps_italian_leading_zero():
    t = ev(["phonenumber-parse", "IT", "02 1234 5678"])
    assert ev(["phonenumber-format", "national-e164", "_S.t"], {"t": t}) == "0212345678"
    assert ev(["phonenumber-format", "isocode", "_S.t"], {"t": t}) == "IT"


def test_unknown_format_is_an_error():
    with pytest.raises(DTLError):
        ev(["phonenumber-format", "e.164", "_S.t"], {"t": TEL})


@settings(max_examples=100)
@given(st.one_of(st.integers(21_00_00_00, 23_99_99_99), st.integers(90_00_00_00, 99_99_99_99)))
def test_parse_format_round_trip(n):
    # Norwegian landlines 21-23 and mobiles 9x: every such 8-digit number is valid
    t = ev(["phonenumber-parse", "NO", "_S.n"], {"n": str(n)})
    assert type(t) is URI
    assert ev(["phonenumber-format", "national-e164", "_S.t"], {"t": t}) == str(n)
    for fmt in ("e164", "rfc3966", "international"):
        text = ev(["phonenumber-format", fmt, "_S.t"], {"t": t})
        again = ev(["phonenumber-parse", "_S.x"], {"x": text if fmt != "e164" else "+" + text})
        assert again == t


@settings(max_examples=100)
@given(st.sampled_from(["NO", "SE", "DE", "US", "GB"]), st.text("0123456789", min_size=1,
                                                                 max_size=12))
def test_parse_keeps_exactly_the_valid_numbers(region, digits):
    t = ev(["phonenumber-parse", region, "_S.d"], {"d": digits})
    try:
        valid = pn.is_valid_number(pn.parse(digits, region))
    except pn.NumberParseException:
        valid = False
    assert (type(t) is URI) == valid
