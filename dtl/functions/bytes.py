"""Bytes functions (dtl-functions-bytes.rst)."""

from __future__ import annotations

import base64
import binascii
import re

from dtl.functions._common import first_is
from dtl.functions.registry import expression

# Standard or URL-safe alphabet (not mixed), padding optional: what a base64 string may be.
_B64 = re.compile(r"(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)={0,2}")


def _only(values, fn, kind):
    """`fn` of a value of type `kind`, or of every such element of a list; others dropped."""
    if type(values) is list:
        out = []
        for v in values:
            if type(v) is kind:
                r = fn(v)
                if r is not None:
                    out.append(r)
        return out
    if type(values) is kind:
        return fn(values)
    return None


def _decode(s: str):
    if _B64.fullmatch(s) is None:
        return None
    body = s.rstrip("=")
    if len(body) % 4 == 1 or len(s) - len(body) > (-len(body)) % 4:
        return None  # impossible length, or more padding than needed
    body += "=" * (-len(body) % 4)
    try:
        if "-" in body or "_" in body:
            return base64.urlsafe_b64decode(body)
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


def _encode(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _utf8(s: str):
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates have no UTF-8 form
        return None


@expression("base64-decode", "VALUES(value-expression{1})", category="bytes",
            summary="Bytes from base64 strings; other values and invalid base64 are dropped.")
def base64_decode(values):
    return _only(values, _decode, str)


@expression("base64-encode", "VALUES(value-expression{1})", category="bytes",
            summary="Base64 text (standard alphabet, padded) of bytes values.")
def base64_encode(values):
    return _only(values, _encode, bytes)


@expression("bytes", "VALUES(value-expression{1})", category="bytes",
            summary="UTF-8 bytes of strings (bytes stay as they are).")
def bytes_(values):
    if type(values) is list:
        out = []
        for v in values:
            t = type(v)
            if t is bytes:
                out.append(v)
            elif t is str:
                b = _utf8(v)
                if b is not None:
                    out.append(b)
        return out
    if type(values) is bytes:
        return values
    if type(values) is str:
        return _utf8(values)
    return None


@expression("is-bytes", "VALUES(value-expression{1})", category="bytes",
            summary="Whether the value (or a list's first element) is bytes.")
def is_bytes(values):
    return first_is(values, bytes)
