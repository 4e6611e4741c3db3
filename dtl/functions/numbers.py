"""Number conversions and tests (dtl-functions-numbers.rst): decimal, float, integer, hex.

The conversions share one shape: a single value or each element of a list is converted;
nulls are left out; a value that cannot be converted is left out too, unless a default
function-expression is given, whose result (evaluated with ``_`` bound to that value)
takes its place.
"""

from __future__ import annotations

import re
from decimal import Decimal

from dtl.functions.math import to_decimal
from dtl.functions._common import convert_each, first_value
from dtl.functions.registry import expression

# Number text accepted by the parsers: optional sign, digits with an optional fraction, an
# optional exponent. Stricter than Python's own parsers, which also take "nan", "inf" and
# "1_000".
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_HEX = re.compile(r"0x([0-9a-fA-F]+)")
_MAX_EXPONENT_TEXT = 10_000_000  # "1e999999999" as an int or float is refused, not built


def _convert(convert, values, default):
    """Convert a value or each list element; `convert` returns None when it cannot."""
    def one(v):
        r = convert(v)
        if r is None and default is not None:
            return default(v)
        return r
    return convert_each(values, one)


def parse_hex(text: str) -> int | None:
    """A "0x..." string read as two's complement over whole bytes ("0xff" is -1).

    An odd number of digits gets a leading zero digit, as if written in full bytes.
    """
    m = _HEX.fullmatch(text)
    if m is None:
        return None
    digits = m.group(1)
    bits = 4 * (len(digits) + len(digits) % 2)
    n = int(digits, 16)
    return n - (1 << bits) if n >> (bits - 1) else n


def parse_integer(text: str) -> int | None:
    s = text.strip()
    if _INTEGER.fullmatch(s):
        # int() refuses more than 4300 digits (sys.int_info); Decimal has no such limit
        return int(s) if len(s) < 4000 else int(Decimal(s))
    return parse_hex(s)


def _text_decimal(text: str) -> Decimal | None:
    s = text.strip()
    if not _NUMBER.fullmatch(s):
        return None
    return Decimal(s)


def _to_decimal(v):
    t = type(v)
    if t is int or t is float or t is Decimal:
        return to_decimal(v)
    if t is str:
        return _text_decimal(v)
    return None


def _to_float(v):
    t = type(v)
    if t is float:
        return v
    if t is str:
        s = v.strip()
        if not _NUMBER.fullmatch(s):
            return None
        v = s
    elif t is not int and t is not Decimal:
        return None
    try:
        r = float(v)
    except OverflowError:
        return None
    return r if r - r == 0 else None  # "1e999" overflows to inf: not representable


def _to_integer(v):
    t = type(v)
    if t is int:
        return v
    if t is float:
        return int(v)  # towards zero, like truncating a fraction
    if t is Decimal:
        if v.adjusted() > _MAX_EXPONENT_TEXT:
            return None
        return int(v)
    if t is str:
        return parse_integer(v)
    return None


@expression("decimal", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category="numbers",
            summary="Values as decimals; others dropped or replaced by FUNCTION(_).")
def decimal_(values, function=None):
    return _convert(_to_decimal, values, function)


@expression("float", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category="numbers",
            summary="Values as floats; others dropped or replaced by FUNCTION(_).")
def float_(values, function=None):
    return _convert(_to_float, values, function)


@expression("integer", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category="numbers",
            summary="Values as integers (\"0x..\" is two's complement hex); others dropped "
                    "or replaced by FUNCTION(_).")
def integer(values, function=None):
    return _convert(_to_integer, values, function)


def to_hex(n: int) -> str:
    """The shortest whole-byte two's complement text: 1 -> 0x01, 255 -> 0x00ff, -1 -> 0xff."""
    nbytes = (n.bit_length() + 8) // 8 if n >= 0 else ((~n).bit_length() + 8) // 8
    return "0x" + format(n & ((1 << (8 * nbytes)) - 1), f"0{2 * nbytes}x")


def _hex(v):
    t = type(v)
    if t is str:
        v = parse_integer(v)
    elif t is not int:
        return None
    return None if v is None else to_hex(v)


@expression("hex", "VALUES(value-expression{1})", category="numbers",
            summary="Integers as two's complement hexadecimal strings (\"0x01\", \"0xff\").")
def hex_(values):
    return _convert(_hex, values, None)


@expression("is-decimal", "VALUES(value-expression{1})", category="numbers",
            summary="Whether the value (or a list's first element) is a decimal.")
def is_decimal(values):
    return type(first_value(values)) is Decimal


@expression("is-float", "VALUES(value-expression{1})", category="numbers",
            summary="Whether the value (or a list's first element) is a float.")
def is_float(values):
    return type(first_value(values)) is float


@expression("is-integer", "VALUES(value-expression{1})", category="numbers",
            summary="Whether the value (or a list's first element) is an integer.")
def is_integer(values):
    return type(first_value(values)) is int
