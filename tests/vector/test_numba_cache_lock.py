"""numba's on-disk cache shared by processes compiling at once (dask workers, parallel runs):
with `numba_kernels._lock_cache` every signature each process compiled is in the index, names
its own data file, and a new process loads it from the cache and computes the right result.
Without the lock two writers can pick the same data file number and leave an index entry
naming the other signature's machine code."""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("numba")

KERNEL = textwrap.dedent('''
    import sys
    import numpy as np
    import numba
    from dtl.backends.vector import numba_kernels as NB

    def twice_plus_one(x, out):
        for i in range(len(x)):
            out[i] = x[i] * 2 + 1

    def run(dtype, lock, expect_hit):
        d = numba.njit(cache=True)(twice_plus_one)
        if lock:
            d = NB._lock_cache(d)
        x = np.arange(1, 6).astype(dtype)
        out = np.zeros(5, dtype=dtype)
        d(x, out)
        assert out.tolist() == [3, 5, 7, 9, 11], (dtype, out.tolist())
        if expect_hit:
            hits = sum(d.stats.cache_hits.values())
            assert hits == 1, (dtype, dict(d.stats.cache_hits), dict(d.stats.cache_misses))

    if __name__ == "__main__":
        run(sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1")
''')

DTYPES = ["int64", "int32", "int16", "float64", "float32", "uint32"]


def _round(tmp_path, n, lock=True):
    """Every dtype compiled by its own process at once into a fresh cache, then each loaded
    by a new process; returns the failures of the loading processes."""
    mod = tmp_path / f"kern{n}.py"
    mod.write_text(KERNEL)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / f"cache{n}"),
               PYTHONPATH=os.pathsep.join([str(tmp_path), os.getcwd()]))
    flag = "1" if lock else "0"
    procs = [subprocess.Popen([sys.executable, str(mod), dt, flag, "0"], env=env,
                              stderr=subprocess.PIPE) for dt in DTYPES]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    failures = []
    for dt in DTYPES:
        r = subprocess.run([sys.executable, str(mod), dt, flag, "1"], env=env,
                           capture_output=True, timeout=120)
        if r.returncode != 0:
            failures.append((dt, r.returncode, r.stderr.decode()[-300:]))
    return failures


def test_concurrent_compiles_share_the_cache(tmp_path):
    for n in range(3):
        assert _round(tmp_path, n) == []
