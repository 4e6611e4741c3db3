"""Element-wise numeric kernels that pyarrow.compute lacks, compiled by numba with an on-disk
cache (`cache=True`) so a new process does not pay the compilation again. Without numba the
same loops run as plain Python (correct, slow), so the backend never depends on it for
semantics.

numba is loaded on demand: importing it and loading the first kernel from the cache costs
about a second per process, more than small batches (an incremental run's) take in plain
Python. Kernels run as plain Python until JIT_AFTER input rows (the length of each call's
first array) have gone through them in this process, then every kernel is compiled (loaded
from the cache) at once; hash-table kernels (`_jit_always`) compile on their first call, and
`expect` compiles them up front for a caller that knows it will pass the threshold.
DTL_JIT_AFTER sets the threshold (0: always compiled).

numba's on-disk cache is not safe across processes (dask workers, parallel `dtl` runs): a
writer saves the index before the data file and picks the data file's number from the index
it read, so two processes compiling different signatures at once can leave an index entry
naming the other's machine code, which a later process loads and runs with the wrong types
(memory corruption). Every dispatcher's cache loads under a shared and saves under an
exclusive `flock` on one lock file in its cache directory (`_lock_cache`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os

import numpy as np

AVAILABLE = importlib.util.find_spec("numba") is not None
JIT_AFTER = int(os.environ.get("DTL_JIT_AFTER", 1 << 18))
_FUNCS = []                       # (module globals, name, plain function)
_STATE = {"rows": 0, "on": False}


def activate() -> None:
    """Compile every kernel now (module attributes become numba dispatchers)."""
    if _STATE["on"] or not AVAILABLE:
        return
    import numba
    jit = numba.njit(cache=True, nogil=True)
    for g, name, f in _FUNCS:
        g[name] = _lock_cache(jit(f))
    _STATE["on"] = True


def _lock_cache(dispatcher):
    """Wrap the dispatcher's cache load and save in a lock shared by every process using the
    same cache directory (see the module docstring). A numba without the attributes this
    relies on is left as it is."""
    cache = getattr(dispatcher, "_cache", None)
    path = getattr(cache, "cache_path", None)
    load, save = getattr(cache, "load_overload", None), getattr(cache, "save_overload", None)
    if not path or load is None or save is None:
        return dispatcher
    lock_file = os.path.join(path, "dtlhub.lock")

    def load_locked(*a, **kw):
        with _flock(lock_file, shared=True):
            return load(*a, **kw)

    def save_locked(*a, **kw):
        with _flock(lock_file, shared=False):
            return save(*a, **kw)
    cache.load_overload, cache.save_overload = load_locked, save_locked
    return dispatcher


@contextlib.contextmanager
def _flock(path: str, shared: bool):
    import fcntl
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:             # a read-only cache directory: numba itself skips saving there
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)            # closing releases the lock


def expect(rows: int) -> None:
    """A caller about to send `rows` rows through the kernels (a full pipe run) compiles
    them now when that passes JIT_AFTER, rather than running the first ones as plain Python."""
    if rows > JIT_AFTER:
        activate()


def _jit(f, always: bool = False):
    if not AVAILABLE:  # pragma: no cover - numba is a dependency
        return f
    g, name = f.__globals__, f.__name__

    def kernel(*args):
        if not _STATE["on"]:
            n = next((len(a) for a in args if isinstance(a, np.ndarray)), 0)
            if always or JIT_AFTER == 0 or _STATE["rows"] + n > JIT_AFTER:
                activate()
            else:
                _STATE["rows"] += n
                return f(*args)
        return g[name](*args)
    kernel.__name__, kernel.__doc__, kernel.python = name, f.__doc__, f
    _FUNCS.append((g, name, f))
    return kernel


def _jit_always(f):
    return _jit(f, always=True)


@_jit
def round_fast(x, scale, out, ok):
    # DTL rounds a float's shortest decimal text half to even; this is
    # dtl.functions.math._round_float_half_even (see its proof) element-wise: away from a tie
    # rint(y)/10^d is the double Python's round(x, d) returns; near one the correctly rounded
    # tie (2k+1)/(2*10^d) decides. ok[i] is False only where |x*10^d| >= 1e8 or x is not finite.
    for i in range(x.shape[0]):
        v = x[i]
        y = v * scale
        if not (-1e8 < y < 1e8):
            ok[i] = False
            continue
        ok[i] = True
        k = np.floor(y)
        if abs(y - k - 0.5) > 1e-6:
            out[i] = np.rint(y) / scale
            continue
        tie = (2.0 * k + 1.0) / (2.0 * scale)
        if v > tie or (v == tie and k % 2.0 != 0.0):
            k += 1.0
        out[i] = k / scale if k != 0.0 else np.copysign(0.0, v)


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


@_jit
def join_gather(row_offs, row_valid, kidx, koffs, kpos, out_offs, out):
    # positions of the entities each row joins: its keys' index entries concatenated; a row
    # with several keys gets them sorted and deduplicated (the provider's `_id` order, no
    # entity twice), as InMemoryProvider.lookup returns them
    w = 0
    out_offs[0] = 0
    for i in range(row_offs.shape[0] - 1):
        start = w
        if row_valid[i]:
            for j in range(row_offs[i], row_offs[i + 1]):
                k = kidx[j]
                if k >= 0:
                    for p in range(koffs[k], koffs[k + 1]):
                        out[w] = kpos[p]
                        w += 1
            if row_offs[i + 1] - row_offs[i] > 1 and w - start > 1:
                seg = np.sort(out[start:w])
                m = start
                for q in range(seg.shape[0]):
                    if q == 0 or seg[q] != seg[q - 1]:
                        out[m] = seg[q]
                        m += 1
                w = m
        out_offs[i + 1] = w


# -- an open-addressing hash table of join keys (built once per index, probed per batch:
# pyarrow's index_in would rebuild its table of every distinct key for each batch) --------

@_jit_always
def _str_hash(offs, data, i):
    h = np.uint64(14695981039346656037)  # FNV-1a over the UTF-8 bytes
    for p in range(offs[i], offs[i + 1]):
        h = (h ^ np.uint64(data[p])) * np.uint64(1099511628211)
    h ^= h >> np.uint64(33)  # spread the high bits down: ids differ in their last bytes
    h *= np.uint64(0xFF51AFD7ED558CCD)
    return h ^ (h >> np.uint64(33))


@_jit_always
def _str_eq(ao, ad, i, bo, bd, j):
    n = ao[i + 1] - ao[i]
    if n != bo[j + 1] - bo[j]:
        return False
    for q in range(n):
        if ad[ao[i] + q] != bd[bo[j] + q]:
            return False
    return True


@_jit_always
def str_table(offs, data, table):
    # keys are distinct; `table` is -1 filled, its size a power of two above 2x the keys
    mask = np.uint64(table.shape[0] - 1)
    for i in range(offs.shape[0] - 1):
        s = np.int64(_str_hash(offs, data, i) & mask)
        while table[s] >= 0:
            s = (s + 1) & (table.shape[0] - 1)
        table[s] = i


@_jit_always
def str_probe(table, koffs, kdata, offs, data, valid, out):
    mask = np.uint64(table.shape[0] - 1)
    for j in range(offs.shape[0] - 1):
        out[j] = -1
        if not valid[j]:
            continue
        s = np.int64(_str_hash(offs, data, j) & mask)
        while table[s] >= 0:
            k = table[s]
            if _str_eq(koffs, kdata, k, offs, data, j):
                out[j] = k
                break
            s = (s + 1) & (table.shape[0] - 1)


@_jit_always
def _int_slot(v, mask):
    h = np.uint64(v) * np.uint64(11400714819323198485)  # Fibonacci hashing
    return np.int64((h ^ (h >> np.uint64(29))) & mask)


@_jit_always
def int_table(keys, table):
    mask = np.uint64(table.shape[0] - 1)
    for i in range(keys.shape[0]):
        s = _int_slot(keys[i], mask)
        while table[s] >= 0:
            s = (s + 1) & (table.shape[0] - 1)
        table[s] = i


@_jit_always
def int_probe(table, keys, vals, valid, out):
    mask = np.uint64(table.shape[0] - 1)
    for j in range(vals.shape[0]):
        out[j] = -1
        if not valid[j]:
            continue
        s = _int_slot(vals[j], mask)
        while table[s] >= 0:
            k = table[s]
            if keys[k] == vals[j]:
                out[j] = k
                break
            s = (s + 1) & (table.shape[0] - 1)
