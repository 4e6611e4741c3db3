"""Pipes at Sesam's default settings against Polars doing the same physical work, one run.

    python bench/pipe_vs_polars.py [--n 1000000] [--only t1,t2,t3] [--repeat 1] [--keep]

Data: bench/data/n<N> from shared/bench/gen.py. Everything runs as child processes of this
one, ours and Polars interleaved:

1. `dtl dataset put persons persons.ndjson` (change detection on; entities/s), then the same
   file again (all unchanged), then the orders (2N, for t3).
2. Per transform (bench/transforms/t1..t3.json): `dtl run CFG --pipe T --once` of a pipe with
   default settings (no batch_size: Sesam's 100; dataset source `persons`, dataset sink)
   beside bench/polars_pipe.py T full; peak RSS of our run.
3. 1% of the persons change (`dtl dataset put` of every 100th person with a new name); per
   transform our incremental `dtl run` beside polars_pipe.py T incremental.

Before anything is timed our packages are byte-compiled (compileall) and every program runs
once on 1,000 entities (warm numba and bytecode caches). Each step reports wall seconds, CPU seconds (user + sys, from wait4) and peak RSS;
ratios are of wall time. Needs polars (`pip install polars`).

Prints one JSON document (and writes it to bench/results/pipe-vs-polars-n<N>.json)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DTL = os.path.join(os.path.dirname(sys.executable), "dtl")


CPU = {}   # seconds of CPU (user + sys) of the last timed child, by command


def timed(cmd, env=None):
    """(seconds, peak RSS MB, stdout) of one child, RSS and CPU time from wait4."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out_f, err_f = p.stdout, p.stderr
    import threading
    bufs = {}

    def drain(name, f):
        bufs[name] = f.read()
    ts = [threading.Thread(target=drain, args=(k, f)) for k, f in (("out", out_f), ("err", err_f))]
    for th in ts:
        th.start()
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t
    for th in ts:
        th.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    CPU["last"] = ru.ru_utime + ru.ru_stime
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{bufs['err'].decode()[-3000:]}")
    return secs, ru.ru_maxrss / 1024, bufs["out"].decode()


def write_config(cfg):
    os.makedirs(os.path.join(cfg, "pipes"), exist_ok=True)
    for t in ("t1", "t2", "t3"):
        rules = json.load(open(os.path.join(HERE, "transforms", f"{t}.json")))
        pipe = {"_id": t, "type": "pipe", "source": {"type": "dataset", "dataset": "persons"},
                "transform": {"type": "dtl", "rules": rules}}
        with open(os.path.join(cfg, "pipes", f"{t}.conf.json"), "w") as f:
            json.dump(pipe, f)


def write_delta(src, work, n):
    """Every 100th person with a new name: NDJSON for us, Parquet for Polars."""
    import orjson
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    nd = os.path.join(work, "delta.ndjson")
    with open(os.path.join(src, "persons.ndjson"), "rb") as f, open(nd, "wb") as out:
        for i, line in enumerate(f):
            if i >= n:
                break
            if i % 100 == 0:
                e = orjson.loads(line)
                e["name"] = f"{e['name'] or ''} Jr"
                out.write(orjson.dumps(e) + b"\n")
    t = pq.read_table(os.path.join(src, "persons.parquet"))
    t = t.slice(0, n).take(list(range(0, min(n, t.num_rows), 100)))
    name = pc.binary_join_element_wise(pc.fill_null(t.column("name"), ""), " Jr", "")
    t = t.set_column(t.schema.get_field_index("name"), "name", name)
    pq.write_table(t, os.path.join(work, "delta.parquet"))
    return nd, os.path.join(work, "delta.parquet")


def warm_up(work, cfg, src, pl, ts):
    """Every program once on 1,000 entities, untimed: numba's on-disk kernel cache and the
    interpreter's bytecode caches are filled before anything is measured."""
    tiny = os.path.join(work, "warm")
    os.makedirs(tiny)
    # bytecode of our packages as an install has it (PYTHONDONTWRITEBYTECODE=1 in this
    # environment would otherwise leave every changed module compiled in every child)
    subprocess.run([sys.executable, "-m", "compileall", "-q",
                    *(os.path.join(ROOT, d) for d in ("dtl", "storage", "runtime", "cli"))],
                   check=True, stdout=subprocess.DEVNULL)
    for name in ("persons", "orders"):
        with open(os.path.join(src, f"{name}.ndjson"), "rb") as f, \
                open(os.path.join(tiny, f"{name}.ndjson"), "wb") as out:
            for i, line in zip(range(1000), f):
                out.write(line)
    data = os.path.join(tiny, "data")
    for name in ("persons", "orders"):
        timed([DTL, "dataset", "put", name, os.path.join(tiny, f"{name}.ndjson"), "--data", data,
               "--format", "json"])
    # kernels compiled from the first row: 1,000 rows stay below DTL_JIT_AFTER, and numba's
    # cache would otherwise be filled inside the first measured full run
    jit = dict(os.environ, DTL_JIT_AFTER="0")
    for t in ts:
        timed([DTL, "run", cfg, "--data", data, "--pipe", t, "--once", "--format", "json"],
              env=jit)
        timed(pl + [t, "full", src, os.path.join(tiny, "polars")])
    shutil.rmtree(tiny, ignore_errors=True)


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--only", default="t1,t2,t3")
    ap.add_argument("--repeat", type=int, default=1, help="full runs per side (fresh sink each)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--no-put", action="store_true", help="reuse the datasets of a kept run")
    a = ap.parse_args()
    ts = a.only.split(",")
    src = os.path.join(HERE, "data", f"n{a.n}")
    if not os.path.isfile(os.path.join(src, "persons.ndjson")):
        raise SystemExit(f"no {src}: python shared/bench/gen.py --n {a.n} --out {src}")
    work = os.path.join(HERE, "data", f"pvp-n{a.n}")
    data, cfg, pout = (os.path.join(work, d) for d in ("data", "cfg", "polars"))
    res = {"n": a.n, "loadavg_start": loadavg(), "cpus": os.cpu_count(), "steps": {}}
    py = sys.executable
    pl = [py, os.path.join(HERE, "polars_pipe.py")]

    def put(name, path, key):
        s, rss, out = timed([DTL, "dataset", "put", name, path, "--data", data, "--format", "json"])
        st = json.loads(out)
        res["steps"][key] = {"seconds": round(s, 2), "cpu_s": round(CPU["last"], 2),
                             "rss_mb": round(rss),
                             "received": st.get("received"), "stored": st.get("stored"),
                             "per_s": round(st.get("received", 0) / s)}
        print(key, res["steps"][key], file=sys.stderr)

    if not a.no_put:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        write_config(cfg)
        warm_up(work, cfg, src, pl, ts)
        put("persons", os.path.join(src, "persons.ndjson"), "put")
        put("persons", os.path.join(src, "persons.ndjson"), "reput_unchanged")
        if "t3" in ts:
            put("orders", os.path.join(src, "orders.ndjson"), "put_orders")
    # in a child: this process stays small, so the peak RSS that a child inherits at exec
    # (Linux keeps the hiwater mark of the forking process) is not ours
    subprocess.run([py, __file__, "--write-delta", src, work, str(a.n)], check=True)
    nd, pq_delta = os.path.join(work, "delta.ndjson"), os.path.join(work, "delta.parquet")

    def ours(t, key):
        s, rss, out = timed([DTL, "run", cfg, "--data", data, "--pipe", t, "--once",
                             "--format", "json"])
        pr = json.loads(out)["pipes"][t]
        return {"seconds": round(s, 2), "cpu_s": round(CPU["last"], 2), "rss_mb": round(rss),
                "read": pr.get("read"),
                "changed": pr.get("changed")}

    def polars(t, mode):
        s, rss, out = timed(pl + [t, mode, src, pout] + ([pq_delta] if mode != "full" else []))
        return {"seconds": round(s, 2), "cpu_s": round(CPU["last"], 2), "rss_mb": round(rss),
                "rows": json.loads(out)["rows"]}

    for t in ts:
        for r in range(a.repeat):
            if r:
                shutil.rmtree(os.path.join(data, "datasets", t), ignore_errors=True)
            o = ours(t, f"{t}_full")
            p = polars(t, "full")
            k = f"{t}_full" + (f"_{r}" if r else "")
            res["steps"][k] = {"ours": o, "polars": p, "ratio": round(o["seconds"] / p["seconds"], 2)}
            print(k, res["steps"][k], file=sys.stderr)
    timed([DTL, "dataset", "put", "persons", nd, "--data", data, "--format", "json"])
    for t in ts:
        o = ours(t, f"{t}_incremental")
        p = polars(t, "incremental")
        res["steps"][f"{t}_incremental"] = {"ours": o, "polars": p,
                                            "ratio": round(o["seconds"] / p["seconds"], 2)}
        print(f"{t}_incremental", res["steps"][f"{t}_incremental"], file=sys.stderr)
    res["loadavg_end"] = loadavg()
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", f"pipe-vs-polars-n{a.n}.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write-delta"]:
        write_delta(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
