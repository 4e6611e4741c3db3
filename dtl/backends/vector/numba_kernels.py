"""Element-wise numeric kernels that pyarrow.compute lacks, compiled by numba with an on-disk
cache (`cache=True`) so a new process does not pay the compilation again. Without numba the
same loops run as plain Python (correct, slow), so the backend never depends on it for
semantics."""

from __future__ import annotations

import numpy as np

try:
    import numba
    _jit = numba.njit(cache=True, nogil=True)
    AVAILABLE = True
except ImportError:  # pragma: no cover - numba is a dependency; this keeps tests importable
    def _jit(f):
        return f
    AVAILABLE = False


@_jit
def round_fast(x, scale, out, ok):
    # DTL rounds a float's shortest decimal text; Python's round(x, d) agrees whenever x*10^d
    # is away from a tie, and there rint(y)/10^d is the double Python returns.
    for i in range(x.shape[0]):
        y = x[i] * scale
        if -1e8 < y < 1e8 and abs(y - np.floor(y) - 0.5) > 1e-6:
            out[i] = np.rint(y) / scale
            ok[i] = True
        else:
            ok[i] = False


@_jit
def segment_sum_float(offsets, values, valid, out, seen):
    # left to right, as Python's running total does (same rounding)
    for i in range(offsets.shape[0] - 1):
        s = 0.0
        k = 0
        for j in range(offsets[i], offsets[i + 1]):
            if valid[j]:
                s += values[j]
                k += 1
        out[i] = s
        seen[i] = k


@_jit
def segment_sum_int(offsets, values, valid, out, big):
    # flags lists whose exact sum might leave int64 (Python ints would grow)
    lim = 2 ** 62
    for i in range(offsets.shape[0] - 1):
        s = 0
        bad = False
        for j in range(offsets[i], offsets[i + 1]):
            if valid[j]:
                v = values[j]
                if v > lim or v < -lim or s > lim or s < -lim:
                    bad = True
                s += v
        out[i] = s
        big[i] = bad


@_jit
def segment_sort_desc(offsets, values, out):
    # stable insertion sort per list (lists are short): equal values keep their order
    for i in range(offsets.shape[0] - 1):
        a = offsets[i]
        for j in range(a, offsets[i + 1]):
            v = values[j]
            k = j
            while k > a and out[k - 1] < v:
                out[k] = out[k - 1]
                k -= 1
            out[k] = v
