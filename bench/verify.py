#!/usr/bin/env python3
"""Check bench/transforms/t{1,2,3}.json against the hand-written Python of shared/bench/impls.py.

Runs on bench/data/n10000 (make it with gen.py, see run.sh). Rows are matched by _id (so T3
is order-independent); floats are compared with a tolerance (0.01 for salary, 1e-6 for sums),
everything else exactly, and bool/int/float/None types must agree as well. Exit status 1 on any
difference. Run it before benchmarking: run.sh does.
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import impls  # noqa: E402

FLOAT_TOL = {"salary": 0.0100001, "order_total": 1e-6}


def _kind(v):
    # JSON-level type: what a consumer of the output would see
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    return type(v).__name__


def same(k, a, b):
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=FLOAT_TOL.get(k, 1e-9))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(k, x, y) for x, y in zip(a, b))
    return a == b


def compare(ref_rows, rows, max_shown=5):
    errs = []
    ref = {r["_id"]: r for r in ref_rows}
    got = {}
    for r in rows:
        if r.get("_id") in got:
            errs.append(f"duplicate output _id {r.get('_id')!r}")
        got[r.get("_id")] = r
    if len(rows) != len(ref_rows):
        errs.append(f"row count {len(rows)} != {len(ref_rows)}")
    missing, extra = ref.keys() - got.keys(), got.keys() - ref.keys()
    if missing:
        errs.append(f"{len(missing)} _ids missing, e.g. {sorted(missing)[:3]}")
    if extra:
        errs.append(f"{len(extra)} unexpected _ids, e.g. {sorted(extra, key=str)[:3]}")
    bad = 0
    for _id, r in ref.items():
        g = got.get(_id)
        if g is None:
            continue
        if set(g) != set(r):
            bad += 1
            if bad <= max_shown:
                errs.append(f"{_id}: keys {sorted(g)} != {sorted(r)}")
            continue
        for k in r:
            if not same(k, r[k], g[k]):
                bad += 1
                if bad <= max_shown:
                    errs.append(f"{_id}.{k}: expected {r[k]!r} got {g[k]!r}")
    if bad:
        errs.append(f"{bad} differing rows/values")
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    d = common.data_dir(args.n)
    if not os.path.exists(os.path.join(d, "persons.ndjson")):
        sys.exit(f"no data in {d}: run  python {common.SHARED}/gen.py --n {args.n} --out {d}")
    failures = 0
    for t in ("t1", "t2", "t3"):
        ref = impls.COMPETITORS["python"].e2e(t, d)
        persons = impls.read_ndjson(os.path.join(d, "persons.ndjson"))
        prov = None
        if t == "t3":
            prov, _, _ = common.build_provider(impls.read_ndjson(os.path.join(d, "orders.ndjson")))
        errs = []
        for comp, backend in common.BACKENDS.items():
            # both paths: e2e (transit NDJSON parse) and transform over orjson-loaded dicts
            out_e2e = common.dtl_e2e(t, d, backend)
            out_tr = common.dtl_run(common.compile_t(t, prov, backend), persons)
            e = [f"{comp} e2e: {x}" for x in compare(ref, out_e2e)] + \
                [f"{comp} transform: {x}" for x in compare(ref, out_tr)]
            print(f"{t}: python {len(ref)} rows, {comp} {len(out_e2e)} rows: {'FAIL' if e else 'OK'}")
            for x in e:
                print("   ", x)
            errs += e
        failures += bool(errs)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
