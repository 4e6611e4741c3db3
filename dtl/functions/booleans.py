"""Boolean functions (dtl-functions-booleans.rst)."""

from __future__ import annotations

from dtl.functions._common import convert_each, first_is
from dtl.functions.registry import expression

_WORDS = {"true": True, "false": False}
_SKIP = object()


@expression("boolean", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category="booleans",
            summary="Booleans from booleans and the strings \"true\"/\"false\" (any case); other "
                    "values are dropped or replaced by FUNCTION's value.")
def boolean(values=None, function=None):  # values first: see strings.py
    def one(v):
        t = type(v)
        if t is bool:
            return v
        if t is str and len(v) in (4, 5):
            b = _WORDS.get(v.lower())
            if b is not None:
                return b
        return _SKIP if function is None else function(v)

    return convert_each(values, one, _SKIP)  # null is not converted, so never replaced either


@expression("is-boolean", "VALUES(value-expression{1})", category="booleans",
            summary="Whether the value (or a list's first element) is a boolean.")
def is_boolean(values):
    return first_is(values, bool)
