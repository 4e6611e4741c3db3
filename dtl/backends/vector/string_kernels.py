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


def parts(arr: pa.Array, validity: bool = True):
    """(offsets int32[n+1], bytes uint8, validity bool[n] or None) of a string array, as views
    of its buffers honouring its slice offset (offsets index `bytes` directly)."""
    _, ob, db = arr.buffers()
    n = len(arr)
    offs = np.frombuffer(ob, np.int32, count=n + 1, offset=arr.offset * 4) \
        if ob is not None else np.zeros(n + 1, np.int32)
    data = np.frombuffer(db, np.uint8) if db is not None else np.zeros(0, np.uint8)
    valid = np.asarray(arr.is_valid()) if validity and arr.null_count else None
    return offs, data, valid


def build(offs: np.ndarray, data: np.ndarray, valid=None) -> pa.Array:
    """A string array from rebased int32 offsets (offs[0] == 0), bytes and a validity."""
    n = len(offs) - 1
    bitmap, nulls = None, 0
    if valid is not None and not valid.all():
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = int(n - valid.sum())
    return pa.StringArray.from_buffers(n, pa.py_buffer(offs.astype(np.int32, copy=False)),
                                       pa.py_buffer(data), bitmap, nulls)


# -- checks ----------------------------------------------------------------------------------

@_jit
def _any_starts_with(offs, data, valid, has_valid, byte):
    for i in range(offs.shape[0] - 1):
        if offs[i + 1] > offs[i] and data[offs[i]] == byte and (not has_valid or valid[i]):
            return True
    return False


def is_ascii(arr: pa.Array) -> bool:
    offs, data, _ = parts(arr, validity=False)
    a, b = int(offs[0]), int(offs[-1])
    return b == a or int(data[a:b].max()) < 128  # null slots' bytes (if any) only narrow it


def any_starts_with_tilde(arr: pa.Array) -> bool:
    """Whether some (non-null) string starts with '~' (numpy over the first bytes: no
    compiled kernel needed, whatever the size)."""
    offs, data, valid = parts(arr)
    starts = offs[:-1]
    hit = offs[1:] > starts
    if valid is not None:
        hit &= valid
    if not hit.any():
        return False
    return bool((data[starts[hit]] == 126).any())


# -- the part before a separator --------------------------------------------------------------

@_jit
def _before(offs, data, sep, out_offs, out):
    m = sep.shape[0]
    s0 = sep[0]
    k = 0
    out_offs[0] = 0
    for i in range(offs.shape[0] - 1):
        a, b = offs[i], offs[i + 1]
        end = b
        for j in range(a, b - m + 1):
            if data[j] == s0:
                hit = True
                for t in range(1, m):
                    if data[j + t] != sep[t]:
                        hit = False
                        break
                if hit:
                    end = j
                    break
        out[k:k + end - a] = data[a:end]
        k += end - a
        out_offs[i + 1] = k


def before_first(arr: pa.Array, sep: str) -> pa.Array:
    """Each string up to its first `sep` (the whole string when there is none); nulls stay."""
    offs, data, valid = parts(arr)
    out_offs = np.empty(len(offs), np.int32)
    out = np.empty(max(int(offs[-1]) - int(offs[0]), 0), np.uint8)
    _before(offs, data, np.frombuffer(sep.encode(), np.uint8), out_offs, out)
    return build(out_offs, out[:out_offs[-1]], valid)


# -- concatenation -----------------------------------------------------------------------------

@_jit
def _copy_in(offs, data, valid, has_valid, out, pos):
    for i in range(offs.shape[0] - 1):
        if has_valid and not valid[i]:
            continue
        a, b = offs[i], offs[i + 1]
        p = pos[i]
        out[p:p + b - a] = data[a:b]
        pos[i] = p + b - a


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
    lens = np.zeros(n, np.int32)
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
    if int(lens.sum(dtype=np.int64)) > _I32_MAX:
        return None
    out_offs = np.zeros(n + 1, np.int32)
    np.cumsum(lens, out=out_offs[1:])
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
