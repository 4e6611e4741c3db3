"""URI functions (dtl-functions-uris.rst)."""

from __future__ import annotations

from urllib.parse import quote, unquote

from dtl.functions._common import first_is
from dtl.functions.registry import expression
from dtl.values import URI


def _strings(values, fn):
    """`fn` of a string, or of every string in a list; other values are dropped."""
    t = type(values)
    if t is str:
        return fn(values)
    if t is list:
        return [fn(v) for v in values if type(v) is str]
    return None


@expression("is-uri", "VALUES(value-expression{1})", category="uris",
            summary="Whether the value (or a list's first element) is a URI.")
def is_uri(values):
    return first_is(values, URI)


def _to_uri(v):
    t = type(v)
    if t is URI:
        return v
    # an empty URI has no transit form ("~r" alone is invalid), so "" is dropped too
    if t is str and v:
        return URI(v)
    return None


@expression("uri", "VALUES(value-expression{1})", category="uris",
            summary="URIs from strings, taken as they are (no escaping); other values dropped.")
def uri(values):
    if type(values) is list:
        out = []
        for v in values:
            u = _to_uri(v)
            if u is not None:
                out.append(u)
        return out
    return _to_uri(values)


@expression("url-quote", "SAFE_CHARS(string{0|1}), VALUES(value-expression{1})",
            category="uris",
            summary="Percent-encode strings (UTF-8); ASCII characters in SAFE_CHARS are kept.")
def url_quote(values=None, safe_chars=""):  # values first: positional 1-argument calls
    if safe_chars is None:
        safe_chars = ""
    elif type(safe_chars) is not str:
        return None
    return _strings(values, lambda s: quote(s, safe=safe_chars))


@expression("url-unquote", "VALUES(value-expression{1})", category="uris",
            summary="Decode %XX escapes of strings (UTF-8).")
def url_unquote(values):
    return _strings(values, unquote)
