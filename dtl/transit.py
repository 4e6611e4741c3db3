"""Transit encoding of entity values: ``"~t..."`` datetimes, ``"~f..."`` decimals and so on.

Two decoders share one definition of the syntax, `grammar/transit.lark`:

* `parse_literal` runs the grammar itself; the DTL compiler uses it for literals in documents.
* `decode_string` is the hot path for entity data. It dispatches on the tag and validates with
  the grammar's own terminal patterns (read from the grammar file), so both accept exactly the
  same strings; `tests/test_transit.py` checks that they agree on arbitrary text.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from decimal import Decimal, InvalidOperation

import orjson
from lark import Tree
from lark.exceptions import UnexpectedInput

from dtl.errors import TransitError
from dtl.syntax.grammars import parser
from dtl.values import NI, URI, UUID, DateTime

TAGS = "tf:bur~"


@functools.cache
def _terminal(name: str) -> re.Pattern:
    """A terminal's regex, taken from the grammar so the fast path cannot drift from it."""
    for t in parser("transit").terminals:
        if t.name == name:
            return re.compile(t.pattern.to_regexp())
    raise KeyError(name)  # pragma: no cover


def _datetime(date: str, time: str | None) -> DateTime:
    try:
        y, m, d = int(date[0:4]), int(date[5:7]), int(date[8:10])
        if time is None:
            return DateTime.from_parts(y, m, d)
        hh, mm, ss = int(time[0:2]), int(time[3:5]), int(time[6:8])
        frac = time[9:-1] if time[8] == "." else ""
        nanos = int(frac.ljust(9, "0")) if frac else 0
        return DateTime.from_parts(y, m, d, hh, mm, ss, nanos)
    except ValueError as e:
        raise TransitError(f"invalid datetime: {e}") from None


def _bytes(text: str) -> bytes:
    try:
        pad = "=" * (-len(text.rstrip("=")) % 4)
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text.rstrip("=") + pad)
        return base64.b64decode(text.rstrip("=") + pad, validate=True)
    except (binascii.Error, ValueError) as e:
        raise TransitError(f"invalid base64 in bytes value: {e}") from None


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the grammar only admits valid numbers
        raise TransitError(f"invalid decimal {text!r}") from None


def parse_literal(s: str):
    """Decode one transit string with the grammar; plain strings come back unchanged."""
    if len(s) < 2 or s[0] != "~" or s[1] not in TAGS:
        return s
    try:
        tree: Tree = parser("transit").parse(s)
    except UnexpectedInput:
        raise TransitError(f"invalid transit value {s!r}") from None
    kind = tree.data
    args = [str(c) if c is not None else None for c in tree.children]
    if kind == "datetime":
        return _datetime(args[0], args[1])
    if kind == "decimal":
        return _decimal(args[0])
    if kind == "ni":
        return NI(args[0])
    if kind == "bytes":
        return _bytes(args[0] or "")
    if kind == "uuid":
        return UUID(args[0])
    if kind == "uri":
        return URI(args[0])
    return "~" + (args[0] or "")  # escaped


def decode_string(s: str):
    """Fast transit decode of one string (same language as `parse_literal`)."""
    if len(s) < 2 or s[0] != "~":
        return s
    tag, body = s[1], s[2:]
    if tag == ":":
        if not body:
            raise TransitError("empty namespaced identifier '~:'")
        return NI(body)
    if tag == "t":
        if _terminal("DATE").fullmatch(body[:10]) is None:
            raise TransitError(f"invalid datetime {s!r}")
        if len(body) == 10:
            return _datetime(body, None)
        if body[10] != "T" or _terminal("TIME").fullmatch(body[11:]) is None:
            raise TransitError(f"invalid datetime {s!r}")
        return _datetime(body[:10], body[11:])
    if tag == "r":
        if not body:
            raise TransitError("empty uri '~r'")
        return URI(body)
    if tag == "f":
        if _terminal("DECIMAL").fullmatch(body) is None:
            raise TransitError(f"invalid decimal {s!r}")
        return _decimal(body)
    if tag == "u":
        if _terminal("UUID").fullmatch(body) is None:
            raise TransitError(f"invalid uuid {s!r}")
        return UUID(body)
    if tag == "b":
        if body and _terminal("BASE64").fullmatch(body) is None:
            raise TransitError(f"invalid bytes {s!r}")
        return _bytes(body)
    if tag == "~":
        return s[1:]
    return s


# Entities nested deeper than this are refused wherever they come from (receivers, uploads,
# `dtl dataset put`, sources): orjson writes at most 254 levels and every layer that wraps an
# entity (execution log events, API answers) adds a few.
MAX_DEPTH = 128


def pointer(path) -> str:
    """A JSON pointer (`/a/0/b`) for a path of keys and indexes."""
    return "".join("/" + str(k).replace("~", "~0").replace("/", "~1") for k in path) or "/"


class DepthError(TransitError):
    """A value nests deeper than the limit; `path` leads to the first container too deep."""

    def __init__(self, path, limit):
        self.path, self.limit = tuple(path), limit
        p = self.path
        where = pointer(p) if len(p) <= 8 else \
            f"{pointer(p[:5])}/\u2026{pointer(p[-2:])} ({len(p)} levels down)"
        super().__init__(f"nested deeper than {limit} levels at {where}")


def _path(frame) -> list:
    out = []
    while frame is not None and frame[4] is not None:
        out.append(frame[3])
        frame = frame[4]
    return out[::-1]


def decode(value, max_depth: int = MAX_DEPTH):
    """Transit-decode every string in a JSON value, returning new containers.

    Iterative (an explicit stack), so no input can exhaust the interpreter's stack; containers
    deeper than `max_depth` raise DepthError, a bad transit string TransitError naming its
    place (`... at /a/0`)."""
    t = type(value)
    if t is str:
        return decode_string(value) if value[:1] == "~" else value
    if t is not dict and t is not list:
        return value
    out = {} if t is dict else []
    # a frame: (source container, its copy, depth, key in parent, parent frame)
    stack = [(value, out, 1, None, None)]
    pop, push = stack.pop, stack.append
    while stack:
        frame = pop()
        src, dst, depth = frame[0], frame[1], frame[2]
        items = src.items() if type(src) is dict else enumerate(src)
        is_dict = type(dst) is dict
        for k, v in items:
            tv = type(v)
            if tv is str:
                if v[:1] == "~":
                    try:
                        v = decode_string(v)
                    except TransitError as e:
                        raise TransitError(f"{e} at {pointer(_path(frame) + [k])}") from None
            elif tv is dict or tv is list:
                if depth >= max_depth:
                    raise DepthError(_path(frame) + [k], max_depth)
                c = {} if tv is dict else []
                push((v, c, depth + 1, k, frame))
                v = c
            if is_dict:
                dst[k] = v
            else:
                dst.append(v)
    return out


def depth_error(value, max_depth: int = MAX_DEPTH):
    """The DepthError for a plain JSON value nested deeper than `max_depth`, else None."""
    if type(value) is not dict and type(value) is not list:
        return None
    stack = [(value, 1, None, None)]
    while stack:
        frame = stack.pop()
        src, depth = frame[0], frame[1]
        for k, v in (src.items() if type(src) is dict else enumerate(src)):
            if type(v) is dict or type(v) is list:
                if depth >= max_depth:
                    path = [k]
                    f = frame
                    while f[3] is not None:
                        path.append(f[2])
                        f = f[3]
                    return DepthError(path[::-1], max_depth)
                stack.append((v, depth + 1, k, frame))
    return None


def encode_decimal(d: Decimal) -> str:
    if d.is_nan() or d.is_infinite():
        return str(d)
    text = format(d, "f")
    return text


def encode(value):
    """The JSON form of a DTL value: extension types become transit strings."""
    t = type(value)
    if t is str:
        return "~" + value if value[:1] == "~" else value
    if t is dict:
        return {k: encode(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [encode(v) for v in value]
    if value is None or t is bool or t is int or t is float:
        return value
    if t is DateTime:
        return "~t" + value.isoformat()
    if t is Decimal:
        return "~f" + encode_decimal(value)
    if t is NI:
        return "~:" + value.value
    if t is URI:
        return "~r" + value.value
    if t is UUID:
        return "~u" + str(value)
    if t is bytes or t is bytearray:
        return "~b" + base64.b64encode(value).decode("ascii")
    raise TypeError(f"not a DTL value: {type(value).__name__}")


def _default(v):
    raise TypeError


def dumps(value, *, sort_keys: bool = False) -> str:
    """Transit-encoded JSON text of a value (integers of any size)."""
    enc = encode(value)
    try:
        opt = orjson.OPT_SORT_KEYS if sort_keys else 0
        return orjson.dumps(enc, option=opt).decode()
    except TypeError:  # integers beyond 64 bits: the stdlib writes them exactly
        return json.dumps(enc, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys,
                          allow_nan=True)


# orjson reads integers beyond 64 bits as floats; text with such a digit run goes to the stdlib
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def parse_json(text: str | bytes, max_depth: int = MAX_DEPTH):
    """Plain JSON (no transit decoding) from outside, any size of integer: ValueError with
    orjson's position for bad text, DepthError beyond `max_depth`. Never recurses."""
    data = text.encode() if isinstance(text, str) else text
    # fewer brackets than the limit cannot nest that deep: most entities skip the walk
    shallow = data.count(b"[") + data.count(b"{") < max_depth
    try:
        raw = orjson.loads(data)  # iterative, and refuses nesting beyond 1024 levels
    except orjson.JSONDecodeError:
        if not shallow:
            raise
        try:                      # NaN and Infinity, as the stdlib writes them
            return json.loads(data)
        except (ValueError, UnicodeDecodeError):
            pass
        raise
    if not shallow:
        err = depth_error(raw, max_depth)
        if err is not None:       # before the stdlib parser, which recurses
            raise err
    if _LONG_DIGITS.search(data):
        raw = json.loads(data)
    return raw


def loads(text: str | bytes, max_depth: int = MAX_DEPTH):
    """Parse transit-encoded JSON text into DTL values (as `parse_json`, then decoded)."""
    data = text.encode() if isinstance(text, str) else text
    raw = parse_json(data, max_depth)
    if b'"~' not in data and b"\\u007" not in data:
        return raw  # no string can start with "~": nothing to decode
    return decode(raw, max_depth)
