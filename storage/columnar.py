"""Canonical bodies of a columnar batch without an entity dict per row.

`encode` renders, for each row, exactly the bytes `hashing.canonical(hashing.strip(e))` gives
the entity the columns describe: keys sorted, `_deleted` only when true, orjson's rendering of
every value. Arrow columns of strings, int64, bool and float64 are rendered by Arrow kernels
(floats through one orjson call per column, so their text is orjson's); other columns per
value with orjson under the very conditions `hashing.canonical` accepts orjson's output.
Anything else - a string starting with `~` (transit escapes it), an extension value (DateTime,
Decimal, ...), a non-finite float, an integer beyond 64 bits - raises NotColumnar: the caller
encodes that batch entity by entity.
"""

from __future__ import annotations

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from xxhash import xxh3_128_digest

from storage.hashing import _SORT, _UUIDISH, _finite

_BIN = pa.binary()
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'


class NotColumnar(Exception):
    """The batch holds a value the columnar encoder does not render exactly."""


def _null(n):
    return pa.array([b"null"] * n, _BIN) if n else pa.array([], _BIN)


def _per_value(vals) -> pa.Array:
    out = []
    dumps = orjson.dumps
    for v in vals:
        if v is None:
            out.append(b"null")
            continue
        try:
            b = dumps(v, option=_SORT)
        except TypeError:
            raise NotColumnar("a value orjson cannot render") from None
        if b'"~' in b or (b.count(b"-") >= 4 and _UUIDISH.search(b)):
            raise NotColumnar("a value transit renders differently")
        if b"null" in b and type(v) in (list, dict) and not _finite(v):
            raise NotColumnar("a non-finite float")
        if type(v) is float and v - v != 0.0:
            raise NotColumnar("a non-finite float")
        out.append(b)
    return pa.array(out, _BIN)


def json_column(values, n: int) -> pa.Array:
    """The JSON text of every value (binary; "null" for nulls)."""
    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        return _per_value(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    t = values.type
    if n == 0:
        return pa.array([], _BIN)
    if t == pa.null():
        return _null(n)
    if t == pa.string() or t == pa.large_string():
        if pc.any(pc.starts_with(values, "~")).as_py():
            raise NotColumnar("a string starting with '~'")
        if pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPE)).as_py():
            return _per_value(values.to_pylist())
        q = pa.scalar(b'"', _BIN)
        out = pc.binary_join_element_wise(q, values.cast(_BIN), q, pa.scalar(b"", _BIN))
        return pc.fill_null(out, pa.scalar(b"null", _BIN))
    if t == pa.int64():
        return pc.fill_null(values.cast(pa.string()).cast(_BIN), pa.scalar(b"null", _BIN))
    if t == pa.bool_():
        out = pc.if_else(values, pa.scalar(b"true", _BIN), pa.scalar(b"false", _BIN))
        return pc.fill_null(out, pa.scalar(b"null", _BIN))
    if t == pa.float64():
        x = values.to_numpy(zero_copy_only=False)
        if values.null_count:
            x = x[values.is_valid().to_numpy(zero_copy_only=False)]
        if not np.isfinite(x).all():
            raise NotColumnar("a non-finite float")
        return pa.array(orjson.dumps(values.to_pylist())[1:-1].split(b","), _BIN)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _list_column(values)
    if pa.types.is_struct(t) and t.num_fields:
        return _struct_column(values, n)
    return _per_value(values.to_pylist())


def _list_column(values) -> pa.Array:
    """`[a,b,...]` of every list: its items rendered as one column, joined per list."""
    offs = np.asarray(values.offsets)
    lo, hi = int(offs[0]), int(offs[-1])
    items = json_column(values.values.slice(lo, hi - lo), hi - lo)
    valid = values.is_valid() if values.null_count else None
    lists = pa.ListArray.from_arrays(pa.array(offs - lo, pa.int32()), items,
                                     mask=None if valid is None else pc.invert(valid))
    joined = pc.binary_join(lists, pa.scalar(b",", _BIN))
    out = pc.binary_join_element_wise(pa.scalar(b"[", _BIN), joined, pa.scalar(b"]", _BIN),
                                      pa.scalar(b"", _BIN))
    return pc.fill_null(out, pa.scalar(b"null", _BIN))


def _struct_column(values, n) -> pa.Array:
    """`{"k":v,...}` with keys sorted: every field rendered as a column, joined per row (a
    struct column holds every key in every non-null row, see storage.segments)."""
    t = values.type
    fields = sorted(range(t.num_fields), key=lambda i: t.field(i).name)
    pieces = []
    for j, i in enumerate(fields):
        key = orjson.dumps(t.field(i).name)
        pieces.append(pa.scalar((b"{" if j == 0 else b",") + key + b":", _BIN))
        pieces.append(json_column(pc.struct_field(values, [i]), n))
    pieces.append(pa.scalar(b"}", _BIN))
    out = pc.binary_join_element_wise(*pieces, pa.scalar(b"", _BIN))
    if values.null_count:
        out = pc.if_else(values.is_valid(), out, pa.scalar(b"null", _BIN))
    return out


def encode(cols: dict, n: int, deleted=None) -> tuple[list, list]:
    """(canonical bodies, their digests) of n rows.

    `cols` maps each key the body holds - `_id` and the properties not starting with `_` -
    to (values, absent): values a pyarrow Array or a list of DTL values, absent None or a
    sequence of bools (True: the row has no such key). `deleted` (bools or None) adds
    `"_deleted": true` to the rows where it is true."""
    if n == 0:
        return [], []
    frags = []
    items = dict(cols)
    if deleted is not None and np.asarray(deleted, bool).any():
        d = np.asarray(deleted, bool)
        items["_deleted"] = ([True] * n, ~d)
    keys = sorted(items)
    vals, masks = [], []
    for k in keys:
        values, absent = items[k]
        vals.append(pa.array([b"true"] * n, _BIN) if k == "_deleted" else json_column(values, n))
        a = None if absent is None else np.asarray(absent, bool)
        masks.append(a if a is not None and a.any() else None)
    empty = pa.scalar(b"", _BIN)
    if not any(m is not None for m in masks):
        # every row has every key: one join of literal key text and value columns
        pieces = []
        for i, (k, j) in enumerate(zip(keys, vals)):
            pieces.append(pa.scalar((b"{" if i == 0 else b",") + orjson.dumps(k) + b":", _BIN))
            pieces.append(j)
        pieces.append(pa.scalar(b"}", _BIN))
        body = pc.binary_join_element_wise(*pieces, empty)
    else:
        for k, j, a in zip(keys, vals, masks):
            f = pc.binary_join_element_wise(pa.scalar(orjson.dumps(k) + b":", _BIN), j, empty)
            if a is not None:
                f = pc.if_else(pa.array(a), pa.scalar(None, _BIN), f)
            frags.append(f)
        inner = pc.binary_join_element_wise(*frags, pa.scalar(b",", _BIN), null_handling="skip")
        body = pc.binary_join_element_wise(pa.scalar(b"{", _BIN), inner, pa.scalar(b"}", _BIN),
                                           empty)
    bodies = body.to_pylist()
    return bodies, [xxh3_128_digest(b) for b in bodies]
