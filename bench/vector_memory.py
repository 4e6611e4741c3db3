#!/usr/bin/env python3
"""Peak RSS of the vector backend streaming persons.parquet through T1/T2, one fresh process
per (N, transform).

  vector_memory.py run --n 1000000,10000000 [--t t1,t2] [--sink parquet|count]
  vector_memory.py worker T N SINK

The worker reads persons.parquet as Arrow record batches of 65,536 rows
(ParquetFile(pre_buffer=False).iter_batches), runs apply_batch(output="arrow") on each and, with the default
sink "parquet", writes every output batch with one pyarrow ParquetWriter to a temporary file
(deleted afterwards); "count" only counts the output rows. Only one input and one output batch
are alive at a time, so peak RSS should not grow with N. Both the RSS after compiling and
warming the transform on the first batch and the peak for the whole stream are reported.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

BATCH = 65536


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(t, n, sink):
    import gc
    import pyarrow as pa
    import pyarrow.parquet as pq
    gc.disable()  # as in vector_bench.py: no cyclic garbage per batch, and no GC pauses
    tr = common.compile_t(t, None, "vector")
    # pre_buffer=False: with the default, iter_batches buffers the column chunks of every row
    # group it has yet to read, so the Arrow pool grows to about the file's size (685 MB at
    # 10M) before a single batch is transformed
    pf = pq.ParquetFile(os.path.join(common.data_dir(n), "persons.parquet"), pre_buffer=False)
    # warm-up on the first batch (numba compiles its kernels) so the baseline includes them
    first = next(pf.iter_batches(batch_size=BATCH))
    tr.apply_batch(first, output="arrow")
    del first
    base = _rss_mb()
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "out.parquet")
    writer = None
    rows_in = rows_out = 0
    t0 = time.perf_counter()
    try:
        for b in pf.iter_batches(batch_size=BATCH):
            out = tr.apply_batch(b, output="arrow")
            rows_in += b.num_rows
            rows_out += out.num_rows
            if sink == "parquet":
                if writer is None:
                    schema = out.schema
                    writer = pq.ParquetWriter(path, schema, compression="zstd")
                elif out.schema != schema:
                    # a batch whose column is all null comes out typed null; the file keeps
                    # the first batch's types
                    out = out.cast(schema)
                writer.write_table(out)
            del out, b
        if writer is not None:
            writer.close()
        dt = time.perf_counter() - t0
        size = os.path.getsize(path) if os.path.exists(path) else 0
    finally:
        if os.path.exists(path):
            os.remove(path)
        os.rmdir(tmp)
    return {"t": t, "n": n, "sink": sink, "rows_in": rows_in, "rows_out": rows_out,
            "seconds": round(dt, 2), "rows_per_s": round(rows_in / dt),
            "rss_after_warmup_mb": round(base), "peak_rss_mb": round(_rss_mb()),
            "out_parquet_mb": round(size / 2**20, 1), "arrow_pool_peak_mb":
            round(pa.default_memory_pool().max_memory() / 2**20)}


def run(ns, ts, sink):
    recs = []
    for n in ns:
        for t in ts:
            p = subprocess.run([sys.executable, __file__, "worker", t, str(n), sink],
                               capture_output=True, text=True)
            if p.returncode:
                print(f"FAILED {t} n={n}: {p.stderr[-800:]}", flush=True)
                continue
            r = json.loads(p.stdout.strip().splitlines()[-1])
            recs.append(r)
            print(json.dumps(r), flush=True)
    out = os.path.join(common.HERE, "results", f"vector-memory-{sink}.jsonl")
    with open(out, "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


def main():
    a = sys.argv[1:]
    if a[0] == "worker":
        print(json.dumps(worker(a[1], int(a[2]), a[3])))
        return
    ns = [int(x) for x in a[a.index("--n") + 1].split(",")] if "--n" in a else [1_000_000, 10_000_000]
    ts = a[a.index("--t") + 1].split(",") if "--t" in a else ["t1", "t2"]
    sink = a[a.index("--sink") + 1] if "--sink" in a else "parquet"
    run(ns, ts, sink)


if __name__ == "__main__":
    main()
