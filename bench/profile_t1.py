#!/usr/bin/env python3
"""Where the closure backend spends its time on T1 (100k entities by default).

1. cProfile of the whole T1 run, top functions by own time (cProfile inflates the cost of
   many tiny calls, so read it for attribution, not for absolute figures).
2. Ablation without the profiler: the empty rule, `copy _id` alone, then each `add` of T1 on
   top of `copy _id`; the difference to `copy _id` is that rule's cost per entity.
3. The same expressions evaluated by hand-written Python for scale.

  python bench/profile_t1.py [--n 100000] [--top 30] [--backend closure|auto]
"""
import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import dtl, impls  # noqa: E402


def best(fn, reps=3):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--backend", default="closure")
    args = ap.parse_args()
    gc.disable()
    ents = impls.read_ndjson(os.path.join(common.data_dir(args.n), "persons.ndjson"))
    n = len(ents)
    rules = common.rules("t1")
    B = {"backend": args.backend}
    tr = dtl.compile(rules, **B)
    common.dtl_run(tr, ents[:1000])

    prof = cProfile.Profile()
    prof.enable()
    common.dtl_run(tr, ents)
    prof.disable()
    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(args.top)
    print(s.getvalue())

    print(f"backend={args.backend}; ablation on {n:,} entities (best of 3, no profiler), µs per entity:")
    full = best(lambda: common.dtl_run(tr, ents))
    empty = best(lambda: common.dtl_run(dtl.compile({"default": []}, **B), ents))
    copy_id = [["copy", "_id"]]
    base = best(lambda: common.dtl_run(dtl.compile({"default": copy_id}, **B), ents))
    print(f"  full T1                         {full / n * 1e6:7.2f}")
    print(f"  empty rule (apply + Env + loop) {empty / n * 1e6:7.2f}")
    print(f"  copy _id                        {(base - empty) / n * 1e6:7.2f}  (over empty)")
    for add in rules["default"][1:]:
        t = dtl.compile({"default": copy_id + [add]}, **B)
        x = best(lambda: common.dtl_run(t, ents))
        print(f"  {str(add)[:70]:70s} {(x - base) / n * 1e6:7.2f}")
    py = best(lambda: impls.py_t1(ents))
    print(f"  hand-written python T1          {py / n * 1e6:7.2f}")


if __name__ == "__main__":
    main()
