"""String functions (dtl-functions-strings.rst).

Common rule of this page: a single string gives a single result, a list gives a list with one
result per string element, and non-string values are ignored (null for a single value, left
out of a list).
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal

from dtl.functions._common import as_list, first_is, wildcard
from dtl.functions.registry import expression
from dtl.transit import encode as transit_encode, encode_decimal
from dtl.values import NI, URI, UUID, DateTime

_str = str
_list = list


def _strings(values, fn):
    """`fn` of a string, or of every string in a list; other values are dropped."""
    t = type(values)
    if t is _str:
        return fn(values)
    if t is _list:
        return [fn(v) for v in values if type(v) is _str]
    return None


# -- JSON text shared with the json family ---------------------------------------------------
# Python's json.dumps defaults: ", " and ": " separators, ASCII-only output, and here dict keys
# sorted. Written by hand so decimals stay exact numbers and extension types get a text form.

_quote = json.encoder.encode_basestring_ascii


def _float_text(f: float) -> str:
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "Infinity" if f > 0 else "-Infinity"
    return float.__repr__(f)


def json_text(v, transit: bool = False) -> str:
    """JSON text of a DTL value; `transit` encodes extension types as transit strings."""
    t = type(v)
    if t is _str:
        if transit and v[:1] == "~":
            return _quote("~" + v)
        return _quote(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return int.__repr__(v)
    if t is float:
        return _float_text(v)
    if t is _list or t is tuple:
        return "[" + ", ".join([json_text(x, transit) for x in v]) + "]"
    if t is dict:
        return "{" + ", ".join([_quote(k) + ": " + json_text(v[k], transit)
                                for k in sorted(v)]) + "}"
    if transit:
        return _quote(transit_encode(v))
    if t is Decimal:
        return encode_decimal(v)  # an exact JSON number
    if t is DateTime:
        return _quote(v.isoformat())
    if t is URI or t is NI:
        return _quote(v.value)
    if t is UUID:
        return _quote(_str(v))
    if t is bytes:
        return _quote(base64.b64encode(v).decode("ascii"))
    raise TypeError(f"not a DTL value: {t.__name__}")


def to_string(v):
    """The `string` conversion of one value; None if it has no string form."""
    t = type(v)
    if t is _str:
        return v
    if v is None:
        return None
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return int.__repr__(v)
    if t is float:
        return float.__repr__(v)
    if t is Decimal:
        return encode_decimal(v)
    if t is DateTime:
        return v.isoformat()
    if t is URI or t is NI:
        return v.value  # the bare text, like URIs in the docs' example
    if t is UUID:
        return _str(v)
    if t is bytes:
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return json_text(v)  # lists and dicts: JSON without transit


# -- functions ---------------------------------------------------------------------------------

def _concat_inliner(g, call, impl):
    """Strings and nulls joined with +, literal strings as they are; else the function."""
    parts, checks, names = [], [], []
    for node in call.args:
        c = g.known(node)
        if type(c) is _str:
            parts.append(g.const(c))
            names.append(parts[-1])
            continue
        a = g.temp()
        checks.append(f"((type({a} := {g.expr(node)}) is not str) and ({a} is not None))")
        parts.append(f"({a} or '')")
        names.append(a)
    if not checks:
        return None  # all literal: folded
    # `|`, not `or`: every argument is evaluated (and bound) before the function may need it
    return (f"({g.func(impl)}({', '.join(names)}) if {' | '.join(checks)} else "
            f"{' + '.join(parts)})")


@expression("concat", "VALUES(value-expression{>=1})", category="strings",
            inline=(_concat_inliner, None),
            summary="Concatenate the strings among the arguments (lists are spliced in).",
            native=("vector",))
def concat(*values):
    parts = []
    for v in values:
        t = type(v)
        if t is _str:
            parts.append(v)
        elif t is _list:
            parts.extend([x for x in v if type(x) is _str])
    return "".join(parts)


@expression("is-string", "VALUES(value-expression{1})", category="strings",
            summary="Whether the value (or a list's first element) is a string.")
def is_string(values):
    return first_is(values, _str)


@expression("join", "SEPARATOR(string{1}), VALUES(value-expression{1})", category="strings",
            summary="The strings among VALUES joined by SEPARATOR.")
def join(separator, values):
    if type(separator) is not _str:
        return None
    t = type(values)
    if t is _str:
        return values
    if t is _list:
        return separator.join([v for v in values if type(v) is _str])
    # null stays null (a real node's output of ["join", ",", "_T.missing"]); other single
    # values are not strings and are ignored
    return None if values is None else ""


@expression("length", "VALUES(value-expression{1})", category="strings",
            summary="Number of characters of a string, or of every string in a list.")
def length(values):
    return _strings(values, len)


def _justify(width, fill, values, method):
    if type(width) is not int or type(fill) is not _str or len(fill) != 1:
        return None
    return _strings(values, lambda s: method(s, width, fill))


@expression("ljust", "WIDTH(integer-expression{1}), FILL_CHARACTER(character-expression{1}), "
            "VALUES(value-expression{1})", category="strings",
            summary="Pad strings on the right with FILL_CHARACTER up to WIDTH.")
def ljust(width, fill_character, values):
    return _justify(width, fill_character, values, _str.ljust)


@expression("rjust", "WIDTH(integer-expression{1}), FILL_CHARACTER(character-expression{1}), "
            "VALUES(value-expression{1})", category="strings",
            summary="Pad strings on the left with FILL_CHARACTER up to WIDTH.")
def rjust(width, fill_character, values):
    return _justify(width, fill_character, values, _str.rjust)


@expression("lower", "VALUES(value-expression{1})", category="strings",
            inline='({a}.lower() if type({a} := {0}) is str else (None if {a} is None else {f}({a})))',
            summary="Lower-case a string, or every string in a list.",
            native=("vector",))
def lower(values):
    if type(values) is _str:
        return values.lower()
    return _strings(values, _str.lower)


@expression("upper", "VALUES(value-expression{1})", category="strings",
            inline='({a}.upper() if type({a} := {0}) is str else (None if {a} is None else {f}({a})))',
            summary="Upper-case a string, or every string in a list.",
            native=("vector",))
def upper(values):
    if type(values) is _str:
        return values.upper()
    return _strings(values, _str.upper)


def _strip(characters, values, method):
    # characters None = not given: Python's default strips whitespace
    if type(values) is _str:
        if characters is None or type(characters) is _str:
            return method(values, characters)
        return None
    if characters is not None and type(characters) is not _str:
        return None
    return _strings(values, lambda s: method(s, characters))


# The optional first argument comes last in the Python signatures of this page: the compiler
# then calls the common one-argument form positionally (cheaper than by keyword).


@expression("lstrip", "CHARACTERS(string{0|1}), VALUES(value-expression{1})",
            category="strings", summary="Remove CHARACTERS (default whitespace) on the left.")
def lstrip(values=None, characters=None):
    return _strip(characters, values, _str.lstrip)


@expression("rstrip", "CHARACTERS(string{0|1}), VALUES(value-expression{1})",
            category="strings", summary="Remove CHARACTERS (default whitespace) on the right.")
def rstrip(values=None, characters=None):
    return _strip(characters, values, _str.rstrip)


@expression("strip", "CHARACTERS(string{0|1}), VALUES(value-expression{1})",
            category="strings", summary="Remove CHARACTERS (default whitespace) on both sides.")
def strip(values=None, characters=None):
    return _strip(characters, values, _str.strip)


@expression("matches", "PATTERN(string{1}), VALUES(value-expression{1})", category="strings",
            summary="Whether VALUES is non-empty and every value is a string matching the "
                    "* / ? wildcard PATTERN.")
def matches(pattern, values):
    if type(pattern) is _list:  # only the first pattern counts
        pattern = pattern[0] if pattern else None
    if type(pattern) is not _str:
        return False
    vals = as_list(values)
    if not vals:
        return False
    full = wildcard(pattern).fullmatch
    for v in vals:
        if type(v) is not _str or full(v) is None:
            return False
    return True


def _replace_all(s: str, pairs) -> str:
    for old, new in pairs:
        s = s.replace(old, new)
    return s


@expression("replace", "OLD_STRING(value-expression{1}), NEW_STRING(string{0|1}), "
            "VALUES(value-expression{1})", category="strings",
            summary="Replace OLD_STRING by NEW_STRING, or each key of a REPLACEMENTS dict "
                    "(given in place of OLD_STRING and NEW_STRING) by its value.")
def replace(old_string=None, new_string=None, values=None):
    if type(old_string) is dict:
        if new_string is not None:
            return None
        # applied one after the other, in the dict's order; non-string pairs are ignored
        pairs = [(k, v) for k, v in old_string.items() if type(v) is _str]
        return _strings(values, lambda s: _replace_all(s, pairs))
    if type(old_string) is not _str or type(new_string) is not _str:
        return None
    return _strings(values, lambda s: s.replace(old_string, new_string))


@expression("split", "SEPARATOR(string{0|1}), VALUES(value-expression{1})", category="strings",
            inline='({b}.split({a}) if (type({a} := {0}) is str) & (type({b} := {1}) is str) and {a} != "" else {f}({a}, {b}))',
            summary="Split strings by SEPARATOR (\"\" = into characters, default whitespace); "
                    "a list's results are concatenated.", native=("vector",))
def split(separator=None, values=None):
    if separator is None:
        cut = _str.split  # runs of whitespace
    elif type(separator) is not _str:
        return None
    elif separator == "":
        cut = _list
    else:
        def cut(s):
            return s.split(separator)
    t = type(values)
    if t is _str:
        return cut(values)
    if t is _list:
        out = []
        for v in values:
            if type(v) is _str:
                out.extend(cut(v))
        return out
    return None


@expression("string", "VALUES(value-expression{1})", category="strings",
            summary="Convert every non-null value to a string (lists and dicts as JSON).")
def string(values):
    if type(values) is _str:
        return values
    if type(values) is _list:
        out = []
        for v in values:
            s = to_string(v)
            if s is not None:
                out.append(s)
        return out
    return to_string(values)


@expression("substring", "START_INDEX(integer{1}), END_INDEX(integer{0|1}), "
            "VALUES(value-expression{1})", category="strings",
            summary="The characters from START_INDEX up to END_INDEX (negative: from the end).")
def substring(start_index, end_index=None, values=None):
    if type(start_index) is not int or (end_index is not None and type(end_index) is not int):
        return None
    return _strings(values, lambda s: s[start_index:end_index])
