"""The vector kernels give the same results as plain Python (what runs before numba is loaded,
see numba_kernels.JIT_AFTER) and compiled; and a process that only runs small batches never
imports numba."""

import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
from hypothesis import given, settings, strategies as st

from dtl.backends.vector import numba_kernels as NB
from dtl.backends.vector import string_kernels as SK

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _both(name, module, *args):
    """Run kernel `name` of `module` as plain Python and compiled on copies of the arrays."""
    NB.activate()
    outs = []
    for fn in (getattr(module, name).py_func, getattr(module, name)):
        a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
        r = fn(*a)
        outs.append((r, [x for x in a if isinstance(x, np.ndarray)]))
    (r1, a1), (r2, a2) = outs
    assert r1 == r2
    for x, y in zip(a1, a2):
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)


lists = st.lists(st.lists(st.one_of(st.floats(-1e9, 1e9), st.integers(-2**40, 2**40)),
                          max_size=4), max_size=12)


@settings(max_examples=60, deadline=None)
@given(lists, st.integers(1, 6))
def test_numeric_kernels_agree(ls, digits):
    offs = np.array([0] + list(np.cumsum([len(x) for x in ls])), np.int64)
    flat = [v for x in ls for v in x]
    f = np.array([float(v) for v in flat], np.float64)
    i = np.array([int(v) for v in flat], np.int64)
    valid = np.array([k % 3 != 0 for k in range(len(flat))], bool)
    n = len(ls)
    _both("round_fast", NB, f, 10.0 ** digits, np.zeros(len(f)), np.zeros(len(f), bool))
    _both("segment_sum_float", NB, offs, f, valid, np.zeros(n), np.zeros(n, np.int64))
    _both("segment_sum_int", NB, offs, i, valid, np.zeros(n, np.int64), np.zeros(n, bool))
    _both("segment_sort_desc", NB, offs, f, np.zeros(len(f)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text("ab@~-é", max_size=6)), min_size=1, max_size=12))
def test_string_kernels_agree(vals):
    arr = pa.array(vals, pa.string())
    offs, data, valid = SK.parts(arr)
    v = valid if valid is not None else SK._NO_MASK
    _both("_any_starts_with", SK, offs, data, v, valid is not None, 126)
    sep = np.frombuffer(b"@", np.uint8)
    _both("_before", SK, offs, data, sep, np.zeros(len(offs), np.int32),
          np.zeros(max(int(offs[-1]), 1), np.uint8))
    pos = np.zeros(len(vals), np.int32)
    out = np.zeros(int(offs[-1]) + 3 * len(vals) + 1, np.uint8)
    _both("_copy_in", SK, offs, data, v, valid is not None, out, pos)
    _both("_fill_in", SK, np.frombuffer(b"-x-", np.uint8), out, pos)


def test_small_batches_do_not_load_numba():
    code = ("import sys, dtl; t = dtl.compile({'default': [['copy', '_id'], "
            "['add', 'h', ['first', ['split', '@', '_S.e']]], ['add', 'r', ['round', 2, '_S.x']]]}, "
            "backend='vector'); "
            "out = t.apply_batch([{'_id': str(i), 'e': 'a@b', 'x': i / 3} for i in range(500)]); "
            "assert out[3] == {'_id': '3', 'h': 'a', 'r': 1.0}, out[3]; "
            "print('numba' in sys.modules)")
    env = dict(os.environ, DTL_JIT_AFTER=str(1 << 18))
    got = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True)
    assert got.stdout.strip() == "False"
    env["DTL_JIT_AFTER"] = "0"
    got = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True)
    assert got.stdout.strip() == "True"


def test_expect_compiles_only_past_the_threshold(monkeypatch):
    """A full pipe run says how many rows are coming (runtime.columnar): past JIT_AFTER the
    kernels compile up front instead of running the first rows as plain Python."""
    from dtl.backends.vector import numba_kernels as NB
    monkeypatch.setattr(NB, "JIT_AFTER", 1000)
    monkeypatch.setitem(NB._STATE, "on", False)
    calls = []
    monkeypatch.setattr(NB, "activate", lambda: calls.append(1))
    NB.expect(1000)
    assert calls == []
    NB.expect(1001)
    assert calls == [1]
