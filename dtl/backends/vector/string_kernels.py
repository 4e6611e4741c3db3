"""String kernels over Arrow's own buffers (int32 offsets + UTF-8 bytes), compiled by numba.

pyarrow.compute builds a list<string> for `split` and runs its general join machinery for
`concat`; the shapes DTL programs use most (the part before a separator, concatenation with
nulls skipped) are single passes over the bytes. Byte-level work is exact on UTF-8: a valid
separator only ever matches at a character boundary, and copying bytes copies characters.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dtl.backends.vector.numba_kernels import _jit

STR = pa.string()
_I32_MAX = 2 ** 31 - 1
_NO_MASK = np.ones(0, bool)  # stands in for "no nulls" (numba wants one array type)


def parts(arr: pa.Array):
    """(offsets int64[n+1], bytes uint8, validity bool[n] or None) of a string array,
    honouring its slice offset (offsets are not rebased: they index `bytes` directly)."""
    _, ob, db = arr.buffers()
    n = len(arr)
    offs = np.frombuffer(ob, np.int32, count=n + 1, offset=arr.offset * 4).astype(np.int64) \
        if ob is not None else np.zeros(n + 1, np.int64)
    data = np.frombuffer(db, np.uint8) if db is not None else np.zeros(0, np.uint8)
    valid = np.asarray(arr.is_valid()) if arr.null_count else None
    return offs, data, valid


def build(offs: np.ndarray, data: np.ndarray, valid=None) -> pa.Array:
    """A string array from rebased offsets (offs[0] == 0), bytes and an optional validity."""
    n = len(offs) - 1
    bitmap, nulls = None, 0
    if valid is not None and not valid.all():
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = int(n - valid.sum())
    return pa.StringArray.from_buffers(n, pa.py_buffer(offs.astype(np.int32)),
                                       pa.py_buffer(data), bitmap, nulls)


# -- checks ----------------------------------------------------------------------------------

@_jit
def _any_high_byte(data, start, stop):
    for i in range(start, stop):
        if data[i] >= 128:
            return True
    return False


@_jit
def _any_starts_with(offs, data, valid, has_valid, byte):
    for i in range(offs.shape[0] - 1):
        if offs[i + 1] > offs[i] and data[offs[i]] == byte and (not has_valid or valid[i]):
            return True
    return False


def is_ascii(arr: pa.Array) -> bool:
    offs, data, _ = parts(arr)
    return not _any_high_byte(data, offs[0], offs[-1])


def any_starts_with_tilde(arr: pa.Array) -> bool:
    """Whether some (non-null) string starts with '~'."""
    offs, data, valid = parts(arr)
    return bool(_any_starts_with(offs, data, valid if valid is not None else _NO_MASK,
                                 valid is not None, 126))


# -- the part before a separator --------------------------------------------------------------

@_jit
def _before(offs, data, sep, out_offs, out):
    m = sep.shape[0]
    k = 0
    out_offs[0] = 0
    for i in range(offs.shape[0] - 1):
        a, b = offs[i], offs[i + 1]
        end = b
        j = a
        while j + m <= b:
            hit = True
            for t in range(m):
                if data[j + t] != sep[t]:
                    hit = False
                    break
            if hit:
                end = j
                break
            j += 1
        for j in range(a, end):
            out[k] = data[j]
            k += 1
        out_offs[i + 1] = k


def before_first(arr: pa.Array, sep: str) -> pa.Array:
    """Each string up to its first `sep` (the whole string when there is none); nulls stay."""
    offs, data, valid = parts(arr)
    out_offs = np.empty(len(offs), np.int64)
    out = np.empty(max(int(offs[-1] - offs[0]), 0), np.uint8)
    _before(offs, data, np.frombuffer(sep.encode(), np.uint8), out_offs, out)
    return build(out_offs, out[:out_offs[-1]], valid)


# -- concatenation -----------------------------------------------------------------------------

@_jit
def _copy_in(offs, data, valid, has_valid, out, pos):
    for i in range(offs.shape[0] - 1):
        if has_valid and not valid[i]:
            continue
        p = pos[i]
        for j in range(offs[i], offs[i + 1]):
            out[p] = data[j]
            p += 1
        pos[i] = p


@_jit
def _fill_in(const, out, pos):
    m = const.shape[0]
    for i in range(pos.shape[0]):
        p = pos[i]
        for t in range(m):
            out[p + t] = const[t]
        pos[i] = p + m


def concat(n: int, pieces: list) -> pa.Array | None:
    """Row-wise concatenation of string arrays and str constants, a null adding nothing;
    never null. None when the result would not fit int32 offsets."""
    lens = np.zeros(n, np.int64)
    prepared = []
    for p in pieces:
        if isinstance(p, str):
            b = np.frombuffer(p.encode(), np.uint8)
            lens += len(b)
            prepared.append(b)
        else:
            offs, data, valid = parts(p)
            d = np.diff(offs)
            lens += d if valid is None else d * valid
            prepared.append((offs, data, valid))
    out_offs = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=out_offs[1:])
    if out_offs[-1] > _I32_MAX:
        return None
    out = np.empty(int(out_offs[-1]), np.uint8)
    pos = out_offs[:-1].copy()
    for p in prepared:
        if isinstance(p, np.ndarray):
            _fill_in(p, out, pos)
        else:
            offs, data, valid = p
            _copy_in(offs, data, valid if valid is not None else _NO_MASK, valid is not None,
                     out, pos)
    return build(out_offs, out)
