"""Transit codec: the fast decoder agrees with the grammar; every type round-trips."""

import base64
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from dtl import transit
from dtl.errors import TransitError
from dtl.values import NI, URI, DateTime

TAGS = st.sampled_from(["~t", "~f", "~:", "~b", "~u", "~r", "~~", "~x", "~", ""])


def _decode_either(fn, s):
    try:
        return ("ok", fn(s))
    except TransitError:
        return ("error", None)


@given(TAGS, st.text(max_size=40))
def test_fast_decoder_agrees_with_grammar(tag, body):
    s = tag + body
    assert _decode_either(transit.decode_string, s) == _decode_either(transit.parse_literal, s)


@given(st.sampled_from(["~t", "~f", "~u", "~b"]),
       st.from_regex(r"[0-9T:.Z\-+eE]{0,30}", fullmatch=True))
def test_fast_decoder_agrees_on_number_like_text(tag, body):
    s = tag + body
    assert _decode_either(transit.decode_string, s) == _decode_either(transit.parse_literal, s)


instants = st.integers(min_value=-62135596800 * 10**9, max_value=253402300799 * 10**9 + 999999999)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False) | instants.map(DateTime)
    | st.text(min_size=1).map(NI) | st.text(min_size=1).map(URI) | st.uuids() | st.binary(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


@given(values)
def test_encode_decode_round_trip(v):
    assert transit.decode(transit.encode(v)) == v
    assert transit.loads(transit.dumps(v)) == v


@given(values)
def test_dumps_text_is_stable(v):
    once = transit.dumps(v)
    assert transit.dumps(transit.loads(once)) == once


def test_canonical_forms():
    assert transit.encode(DateTime.from_parts(2015, 7, 28, 9, 46, 0, 123450000)) == \
        "~t2015-07-28T09:46:00.12345Z"
    assert transit.encode(DateTime.from_parts(2015, 7, 28, 9, 46)) == "~t2015-07-28T09:46:00Z"
    assert transit.encode(Decimal("1.0")) == "~f1.0"
    assert transit.encode(Decimal("1E+2")) == "~f100"
    assert transit.encode(uuid.UUID("9F598F65-EEA5-4906-A8F5-82F6D8E69726")) == \
        "~u9f598f65-eea5-4906-a8f5-82f6d8e69726"
    assert transit.encode("~x") == "~~x"
    assert transit.encode(b"abc") == "~b" + base64.b64encode(b"abc").decode()


def test_nanoseconds_survive():
    d = transit.decode("~t2015-01-02T03:04:05.123456789Z")
    assert d.ns % 10**9 == 123456789
    assert transit.encode(d) == "~t2015-01-02T03:04:05.123456789Z"


def test_date_only_is_midnight():
    assert transit.decode("~t2015-12-31") == DateTime.from_parts(2015, 12, 31)


@pytest.mark.parametrize("bad", ["~t2015-13-01T00:00:00Z", "~t2015-01-01T00:00:00",
                                 "~tfoo", "~f1.2.3", "~uxyz", "~b@@@", "~:", "~r"])
def test_malformed_values_are_errors(bad):
    with pytest.raises(TransitError):
        transit.decode_string(bad)
    with pytest.raises(TransitError):
        transit.parse_literal(bad)


def test_unknown_tags_are_plain_strings():
    assert transit.decode("~xyz") == "~xyz"
    assert transit.decode("~") == "~"


def test_big_integers_round_trip():
    big = 2**100 + 7
    assert transit.loads(transit.dumps({"n": big})) == {"n": big}
