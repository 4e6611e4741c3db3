#!/usr/bin/env python3
"""Vector backend vs closure backend, hand-written Python, jq, Polars and DuckDB on T1/T2/T3.

  vector_bench.py run --n N [--reps 3] [--t t3] [--tools dtl-vector,duckdb]
                                           one fresh worker process per (tool, transform);
                                           a subset run writes vector-n<N>-<ts>-<tools>.jsonl
  vector_bench.py worker TOOL T N REPS

Transform-only timings (median of REPS after one warm-up) on input already in the tool's
native form: dtl-vector gets persons.parquet as Arrow record batches of 65,536 rows and
returns a pyarrow.Table (the same kind of output as DuckDB/Polars); dtl-closure and python get
dicts and return lists of dicts; jq is the CLI, end to end (NDJSON in, NDJSON out). For T3 the
DTL rows' provider and join index are built before timing, as in run.py. The competitors come
from shared/bench/impls.py, imported at run time.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import impls  # noqa: E402

TOOLS = ("dtl-vector", "dtl-closure", "python", "polars", "duckdb", "jq")


def _vector_load(t, d):
    import pyarrow.parquet as pq
    persons = pq.read_table(os.path.join(d, "persons.parquet"))
    prov = None
    if t == "t3":
        prov = common.build_provider(common.read_transit_ndjson(os.path.join(d, "orders.ndjson")))[0]
    tr = common.compile_t(t, prov, "vector")
    return tr, persons.to_batches(max_chunksize=65536)


def _vector_transform(st):
    import pyarrow as pa
    tr, batches = st
    return pa.concat_tables([tr.apply_batch(b, output="arrow") for b in batches])


def worker(tool, t, n, reps):
    import gc
    gc.disable()
    d = common.data_dir(n)
    if tool == "jq":
        out = os.path.join(tempfile.mkdtemp(), "out.ndjson")
        runs = []
        for _ in range(reps):
            t0 = time.perf_counter()
            impls.jq_cli_run(t, d, out)
            runs.append(time.perf_counter() - t0)
        return {"tool": tool, "t": t, "n": n, "transform": runs, "kind": "e2e (CLI)",
                "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
    if tool == "dtl-vector":
        st, run = _vector_load(t, d), _vector_transform
    elif tool == "dtl-closure":
        st, run = common.dtl_load(t, d, "closure"), common.dtl_transform
    else:
        c = impls.COMPETITORS[tool]
        st, run = c.load(t, d), (lambda s, c=c: c.transform(t, s))
    out = run(st)  # warm-up (also compiles/caches kernels)
    rows = impls.out_len(out)
    del out
    runs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = run(st)
        runs.append(time.perf_counter() - t0)
        del out
        if tool.startswith("dtl"):
            gc.collect()
    return {"tool": tool, "t": t, "n": n, "transform": runs, "rows": rows, "kind": "transform",
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run(n, reps, out_path, ts=("t1", "t2", "t3"), tools=TOOLS):
    recs = []
    for t in ts:
        for tool in tools:
            p = subprocess.run([sys.executable, __file__, "worker", tool, t, str(n), str(reps)],
                               capture_output=True, text=True)
            if p.returncode:
                print(f"FAILED {tool} {t}: {p.stderr[-800:]}", flush=True)
                continue
            r = json.loads(p.stdout.strip().splitlines()[-1])
            recs.append(r)
            print(f"{tool:12s} {t} {statistics.median(r['transform']):8.3f}s "
                  f"rss={r['rss_mb']:.0f}MB", flush=True)
    with open(out_path, "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


def main():
    a = sys.argv[1:]
    if a[0] == "worker":
        print(json.dumps(worker(a[1], a[2], int(a[3]), int(a[4]))))
        return
    n = int(a[a.index("--n") + 1]) if "--n" in a else 1_000_000
    reps = int(a[a.index("--reps") + 1]) if "--reps" in a else 3
    ts = tuple(a[a.index("--t") + 1].split(",")) if "--t" in a else ("t1", "t2", "t3")
    tools = tuple(a[a.index("--tools") + 1].split(",")) if "--tools" in a else TOOLS
    name = f"vector-n{n}.jsonl"
    if ts != ("t1", "t2", "t3") or tools != TOOLS:  # a subset keeps the full run's file
        name = f"vector-n{n}-{'-'.join(ts)}-{'-'.join(tools)}.jsonl"
    run(n, reps, os.path.join(common.HERE, "results", name), ts, tools)


if __name__ == "__main__":
    main()
