#!/usr/bin/env python3
"""dtlhub storage against the shared storage baselines, measured in the same run.

  storage_bench.py [--n 1000000] [--reps 3] [--lookups 10000] [--skip-baselines]

1. The baselines: /work/shared/bench/storage.py (imported from there, pointed at bench/data),
   written to bench/results/storage-baselines.jsonl.
2. dtlhub: append N persons in 10k batches with change detection (fresh dataset, fsync on),
   re-append the same N unchanged, get(_id) p50/p99, secondary index build and lookup,
   latest-only since-scan as Arrow batches against pyarrow reading the same segment files,
   and the same scan as entity dicts with peak RSS. -> bench/results/storage-dtlhub.jsonl
3. bench/RESULTS-storage.md: our figures and the ratios against the baselines.
"""
import argparse
import gc
import importlib.util
import json
import os
import random
import resource
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("DTL_BENCH_SHARED") or os.path.normpath(os.path.join(REPO, "..", "shared", "bench"))
sys.path.insert(0, REPO)
RESULTS = os.path.join(HERE, "results")


def load_shared_storage():
    # shared/bench/storage.py would clash with our `storage` package: load it under another name
    sys.path.append(SHARED)
    spec = importlib.util.spec_from_file_location("shared_storage_baselines", os.path.join(SHARED, "storage.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.HERE = HERE  # its data (persons.ndjson) and scratch stores under bench/data
    return mod


def run_baselines(n, reps, lookups):
    mod = load_shared_storage()
    out = os.path.join(RESULTS, "storage-baselines.jsonl")
    argv = sys.argv
    sys.argv = ["storage.py", "--n", str(n), "--reps", str(reps), "--lookups", str(lookups), "--out", out]
    try:
        mod.main()
    finally:
        sys.argv = argv
    return out


def rss_mb():
    # current RSS: ru_maxrss is process-wide and would include the baselines' peak
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lat_stats(lat_ns):
    lat = sorted(lat_ns)
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1000.0  # noqa: E731
    return {"p50_us": q(0.5), "p90_us": q(0.9), "p99_us": q(0.99), "mean_us": sum(lat) / len(lat) / 1000}


def run_ours(n, reps, lookups):
    import orjson
    import pyarrow.parquet as pq

    from storage import Store
    rows = []

    def rec(**r):
        rows.append(r)
        print(json.dumps(r), flush=True)

    src = os.path.join(HERE, "data", f"n{n}", "persons.ndjson")
    with open(src, "rb") as f:
        ents = [orjson.loads(line) for line in f]
    root = os.path.join(HERE, "data", "stores-dtlhub")
    B = 10_000
    first, again = [], []
    for r in range(reps):
        shutil.rmtree(root, ignore_errors=True)
        store = Store(root)
        ds = store.open("persons", writer=True, create=True)
        t0 = time.perf_counter()
        stored = sum(ds.append(ents[k:k + B]).stored for k in range(0, n, B))
        first.append(time.perf_counter() - t0)
        assert stored == n
        t0 = time.perf_counter()
        stored = sum(ds.append(ents[k:k + B]).stored for k in range(0, n, B))
        again.append(time.perf_counter() - t0)
        assert stored == 0
        if r < reps - 1:
            ds.close()
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    seg_mb = sum(os.path.getsize(os.path.join(ds.dir, f)) for f in os.listdir(ds.dir) if f.startswith("seg-")) / 1e6
    idx_mb = sum(os.path.getsize(os.path.join(ds.dir, "index", f)) for f in os.listdir(os.path.join(ds.dir, "index"))) / 1e6
    rec(name="append N in 10k batches, change detection, fsync", n=n, runs=first, median=med(first),
        rate=n / med(first), segments_mb=seg_mb, index_mb=idx_mb)
    rec(name="re-append the same N unchanged", n=n, runs=again, median=med(again), rate=n / med(again))

    rng = random.Random(7)
    keys = [f"person-{rng.randrange(n)}" for _ in range(lookups)]
    for k in keys[:1000]:
        ds.get(k)
    lat = []
    for k in keys:
        t0 = time.perf_counter_ns()
        e = ds.get(k)
        lat.append(time.perf_counter_ns() - t0)
        assert e is not None
    rec(name="get(_id) -> entity dict", lookups=len(lat), **lat_stats(lat))

    t0 = time.perf_counter()
    ds.ensure_index(("email",))
    rec(name="secondary index build on email (latest, non-null)", n=n, median=time.perf_counter() - t0)
    emails = [e for e in (ds.get(k)["email"] for k in keys) if e is not None]
    lat = []
    for em in emails:
        t0 = time.perf_counter_ns()
        hits = ds.lookup(("email",), [em])
        lat.append(time.perf_counter_ns() - t0)
        assert hits
    rec(name="index lookup email -> entities", lookups=len(lat), **lat_stats(lat))

    files = [os.path.join(ds.dir, s["file"]) for s in ds.state().segments]
    direct, scan = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        m = 0
        for p in files:
            for b in pq.ParquetFile(p).iter_batches(batch_size=8192):
                m += b.num_rows
        direct.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        m2 = sum(b.num_rows for b in ds.batches(since=None))
        scan.append(time.perf_counter() - t0)
        assert m == m2 == n
    rec(name="pyarrow reading the segment files directly (all columns)", n=n, runs=direct,
        median=med(direct), rate=n / med(direct))
    rec(name="since-scan, latest only, Arrow batches", n=n, runs=scan, median=med(scan), rate=n / med(scan))
    t0 = time.perf_counter()
    m3 = sum(1 for b in ds.batches(since=None, history=True))
    h = time.perf_counter() - t0
    rec(name="since-scan, full history, Arrow batches", n=n, median=h, rate=n / h)

    del ents, emails
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    m4 = sum(1 for _ in ds.entities())
    dt = time.perf_counter() - t0
    rec(name="since-scan as entity dicts (streamed)", n=m4, median=dt, rate=m4 / dt,
        peak_rss_mb_before=before, peak_rss_mb_after=rss_mb())
    ds.close()
    with open(os.path.join(RESULTS, "storage-dtlhub.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    shutil.rmtree(root, ignore_errors=True)
    return rows


def report(ours, base_path):
    base = {}
    if base_path and os.path.exists(base_path):
        for line in open(base_path):
            r = json.loads(line)
            base[r["name"]] = r
    o = {r["name"]: r for r in ours}

    def b(name, key="median"):
        r = base.get(name)
        return None if r is None else r.get(key)

    def ratio(a, c):
        return "n/a" if a is None or c is None else f"{a / c:.2f}x"

    first = o["append N in 10k batches, change detection, fsync"]
    again = o["re-append the same N unchanged"]
    get = o["get(_id) -> entity dict"]
    look = o["index lookup email -> entities"]
    scan = o["since-scan, latest only, Arrow batches"]
    direct = o["pyarrow reading the segment files directly (all columns)"]
    dicts = o["since-scan as entity dicts (streamed)"]
    L = ["# dtlhub storage vs the shared baselines", "",
         f"Same run: `bench/run_storage.sh` (N={first['n']:,} persons, 10k batches, zstd, cyclic GC off, "
         "glibc trim/mmap thresholds as in shared/bench). Baselines: `shared/bench/storage.py`; raw rows in "
         "`bench/results/storage-*.jsonl`.", "",
         "| operation | dtlhub | baseline | ratio (dtlhub / baseline time) |", "|---|---:|---:|---:|"]
    row = lambda *c: L.append("| " + " | ".join(c) + " |")  # noqa: E731
    row("append 1M with change detection (s)", f"{first['median']:.2f}",
        f"Parquet segments {b('(i) Parquet zstd, one file per 10k batch') or float('nan'):.2f}",
        ratio(first["median"], b("(i) Parquet zstd, one file per 10k batch")))
    row("", "", f"deltalake {b('(ii) deltalake write_deltalake append per 10k batch') or float('nan'):.2f}",
        ratio(first["median"], b("(ii) deltalake write_deltalake append per 10k batch")))
    row("", "", f"SQLite build {b('SQLite build (insert N, unique _id index, one txn, WAL)') or float('nan'):.2f}",
        ratio(first["median"], b("SQLite build (insert N, unique _id index, one txn, WAL)")))
    row("re-append 1M unchanged (s)", f"{again['median']:.2f}", f"our first append {first['median']:.2f}",
        f"{first['median'] / again['median']:.2f}x faster (aim >= 3x)")
    sq = b("(iii) SQLite SELECT body WHERE _id=? (indexed)", "p50_us")
    row("get(_id) p50 / p99 (µs)", f"{get['p50_us']:.1f} / {get['p99_us']:.1f}",
        f"SQLite {sq or float('nan'):.1f} / {b('(iii) SQLite SELECT body WHERE _id=? (indexed)', 'p99_us') or float('nan'):.1f}",
        ratio(get["p50_us"], sq) + " (aim <= 2x)")
    lm = b("(iii) LMDB get (one read txn per lookup)", "p50_us")
    row("", "", f"LMDB raw get {lm or float('nan'):.1f}", ratio(get["p50_us"], lm))
    dk = b("(iii) DuckDB read_parquet(one _id-sorted file) WHERE _id=?", "p50_us")
    row("", "", f"DuckDB sorted Parquet {dk or float('nan'):.0f}", ratio(get["p50_us"], dk))
    row("index lookup email p50 / p99 (µs)", f"{look['p50_us']:.1f} / {look['p99_us']:.1f}",
        f"SQLite _id {sq or float('nan'):.1f}", ratio(look["p50_us"], sq))
    row("since-scan latest-only, Arrow (rows/s)", f"{scan['rate']:,.0f}", f"pyarrow direct {direct['rate']:,.0f}",
        f"{scan['median'] / direct['median']:.2f}x the time (aim <= 2x)")
    row("since-scan as entity dicts (rows/s)", f"{dicts['rate']:,.0f}", "", "")
    L += ["", f"Storage: segments {first['segments_mb']:.0f} MB, LMDB index {first['index_mb']:.0f} MB "
          "(holds the latest body of every `_id`). RSS before/after streaming all 1M as dicts: "
          f"{dicts['peak_rss_mb_before']:.0f} / {dicts['peak_rss_mb_after']:.0f} MB "
          "(the 1M input dicts had been loaded before; the scan itself holds one 8k batch).", "",
          "All dtlhub rows:", "", "| operation | median s | rate/s | p50 µs | p99 µs |", "|---|---:|---:|---:|---:|"]
    for r in ours:
        L.append(f"| {r['name']} | {r.get('median', '') and format(r['median'], '.3f')} | "
                 f"{format(r['rate'], ',.0f') if 'rate' in r else ''} | "
                 f"{format(r['p50_us'], '.1f') if 'p50_us' in r else ''} | {format(r['p99_us'], '.1f') if 'p99_us' in r else ''} |")
    with open(os.path.join(HERE, "RESULTS-storage.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--lookups", type=int, default=10_000)
    ap.add_argument("--skip-baselines", action="store_true")
    a = ap.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    gc.disable()
    base = os.path.join(RESULTS, "storage-baselines.jsonl")
    if not a.skip_baselines:
        base = run_baselines(a.n, a.reps, a.lookups)
    ours = run_ours(a.n, a.reps, a.lookups)
    report(ours, base)


if __name__ == "__main__":
    main()
