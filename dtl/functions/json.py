"""JSON functions (dtl-functions-json.rst): JSON text to and from values, plain or transit.

`json` and `json-transit` convert each value of a top-level list separately (a list argument
gives a list of JSON texts), with sorted keys and Python's default ", " / ": " separators.
The parsers take strings only; anything else, and any text that is not JSON, is left out
(or replaced by the default function's value when one is given). null stays null.
"""

from __future__ import annotations

import json as _json
import re

import orjson

from dtl.errors import TransitError
from dtl.functions._common import convert_each
from dtl.functions.registry import expression
from dtl.functions.strings import json_text
from dtl.transit import decode as transit_decode

_INVALID = object()
# orjson reads integers beyond 64 bits as floats: text with such a digit run goes to the stdlib
_LONG_DIGITS = re.compile(r"[0-9]{19}")


def _parse(text: str):
    """The value of a JSON text (stdlib grammar, exact big integers), or _INVALID."""
    if _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    # orjson rejects NaN/Infinity and lone surrogates, which the stdlib parser accepts
    try:
        return _json.loads(text)
    except (ValueError, RecursionError):
        return _INVALID


def _parse_transit(text: str):
    v = _parse(text)
    if v is _INVALID:
        return v
    try:
        return transit_decode(v)
    except TransitError:
        return _INVALID


def _parse_values(parse, default, values):
    def one(v):
        if type(v) is str:
            r = parse(v)
            if r is not _INVALID:
                return r
        if default is None:
            return _INVALID
        return default(v)

    return convert_each(values, one, _INVALID)


def _dump_values(values, transit: bool):
    if type(values) is list:
        return [json_text(v, transit) for v in values]
    return json_text(values, transit)


@expression("json", "VALUES(value-expression{1})", category="json",
            summary="JSON text of each value (sorted keys, no transit encoding).")
def json(values):
    return _dump_values(values, False)


@expression("json-transit", "VALUES(value-expression{1})", category="json",
            summary="Transit-encoded JSON text of each value (sorted keys).")
def json_transit(values):
    return _dump_values(values, True)


@expression("json-parse", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category="json",
            summary="Parse JSON strings (no transit decoding); invalid ones are dropped or "
                    "replaced by FUNCTION's value.")
def json_parse(values=None, function=None):
    return _parse_values(_parse, function, values)


@expression("json-transit-parse", "FUNCTION(function-expression{0|1}), "
            "VALUES(value-expression{1})", category="json",
            summary="Parse transit-encoded JSON strings; invalid ones are dropped or replaced "
                    "by FUNCTION's value.")
def json_transit_parse(values=None, function=None):
    return _parse_values(_parse_transit, function, values)
