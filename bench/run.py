#!/usr/bin/env python3
"""DTL closure backend vs hand-written Python on T1/T2/T3; one fresh worker per job.

  run.py run [--quick] [--n N ...] [--reps 5] [--e2e-reps 3] [--out FILE] [--only dtl-closure]
  run.py worker COMP T N REPS E2E_REPS      one job, prints one JSON line
  run.py render [--in FILE] [--md FILE]      results JSONL -> markdown

Competitors
  dtl-closure  bench/transforms/tN.json compiled with dtl.compile and applied entity by entity
               (Transform.apply_batch over the list; per entity Transform.apply in a
               plain loop where a transform has columnar stages, see common.dtl_run).
               transform-only: input already loaded as dicts (dtl.transit.loads per line); for T3
               the InMemoryProvider over the 2N orders and its ("person",) index are built
               before timing and reported separately (provider_build, index_build).
               e2e: NDJSON files -> output list (transit parse, provider + index for T3,
               compile, apply).
  python       shared/bench/impls.py hand-written Python (orjson parse; T3 indexes the orders
               inside its transform, as in the shared yardstick).

Every worker runs with gc.disable() (a probe first checks that a DTL run leaves no cyclic
garbage; if it does, it is reported and collected, untimed, after every run): E2E_REPS end-to-end runs (the first one lands on cold
memory and is also reported on its own as e2e_cold; the median is over the warm ones when
there are at least 2), then one load, one warm-up transform and REPS timed transforms.
Export MALLOC_TRIM_THRESHOLD_ / MALLOC_MMAP_THRESHOLD_ first (run.sh does; see
shared/bench/NOTES.md). Peak RSS is the worker's ru_maxrss.
"""
import argparse
import datetime
import gc
import json
import os
import platform
import hashlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import impls  # noqa: E402

COMPETITORS = ("python", "dtl-closure", "dtl-auto")
TRANSFORMS = ("t1", "t2", "t3")
RESULTS = os.path.join(common.HERE, "results", "closure.jsonl")
RESULTS_QUICK = os.path.join(common.HERE, "results", "closure-quick.jsonl")
MD = os.path.join(common.HERE, "RESULTS-closure.md")
MD_QUICK = os.path.join(common.HERE, "results", "RESULTS-quick.md")


# --------------------------------------------------------------------------- worker

def _impl(comp):
    if comp == "python":
        c = impls.COMPETITORS["python"]
        return c.load, c.transform, c.e2e
    backend = common.BACKENDS[comp]
    return (lambda t, d: common.dtl_load(t, d, backend),
            lambda t, st: common.dtl_transform(st),
            lambda t, d: common.dtl_e2e(t, d, backend))


# CPU time of the worker (single-threaded work): with several jobs sharing the 2 cores, wall
# time measures the neighbours as much as the code
CLOCK = time.process_time


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _head(path, k):
    import itertools
    with open(path, "rb") as f:
        return [common.transit_loads(line) for line in itertools.islice(f, k)]


def cyclic_garbage_probe(comp, t, d, k=2000):
    """Cyclic garbage left per input entity by one transform run (0 = refcounting frees it all).

    With the cyclic GC off (as here) such garbage is never freed: a leak that also skews the
    timings (every run faults fresh memory in), so the worker then collects between runs."""
    if comp == "python":
        return 0.0
    persons = _head(os.path.join(d, "persons.ndjson"), k)
    prov = common.build_provider(_head(os.path.join(d, "orders.ndjson"), 2 * k))[0] if t == "t3" else None
    tr = common.compile_t(t, prov, common.BACKENDS[comp])
    gc.collect()
    common.dtl_run(tr, persons)
    return gc.collect() / k


def worker(comp, t, n, reps, e2e_reps):
    gc.disable()
    d = common.data_dir(n)
    load, transform, e2e = _impl(comp)
    garbage = cyclic_garbage_probe(comp, t, d)
    collect = garbage > 0

    def after_run():  # untimed
        if collect:
            gc.collect()

    def timed(fn, arg, n_runs):
        """N_RUNS timed calls fn(t, arg), each cleaned up after (untimed): the times and the
        last call's row count."""
        times, rows = [], None
        for _ in range(n_runs):
            t0 = CLOCK()
            out = fn(t, arg)
            times.append(CLOCK() - t0)
            rows = len(out)
            del out
            after_run()
        return times, rows

    res = {"comp": comp, "t": t, "n": n, "reps": reps, "e2e_reps": e2e_reps,
           "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
           "dtl_file": common.dtl.__file__, "loadavg_start": os.getloadavg(),
           "cyclic_garbage_per_entity": garbage, "gc_collect_between_runs": collect}
    runs, rows = timed(e2e, d, e2e_reps)
    res["e2e_all"] = runs
    res["e2e_cold"] = runs[0] if runs else None
    res["e2e"] = runs[1:] if len(runs) > 2 else runs
    res["rss_after_e2e_mb"] = rss_mb()
    t0 = CLOCK()
    st = load(t, d)
    res["load"] = CLOCK() - t0
    if comp != "python" and t == "t3":
        res["provider_build"] = st.provider_build
        res["index_build"] = st.index_build
    t0 = CLOCK()
    out = transform(t, st)  # warm-up
    res["transform_warmup"] = CLOCK() - t0
    del out
    after_run()
    res["transform"], transform_rows = timed(transform, st, reps)
    res["rows"] = transform_rows if reps else rows
    res["rss_mb"] = rss_mb()
    res["loadavg_end"] = os.getloadavg()
    return res


# --------------------------------------------------------------------------- orchestrator

def jobs(ns, only=None):
    return [(c, t, n) for t in TRANSFORMS for n in ns for c in COMPETITORS
            if only is None or c in only]


def ensure_data(n):
    d = common.data_dir(n)
    if not os.path.exists(os.path.join(d, "orders.ndjson")):
        print(f"generating {d}", flush=True)
        subprocess.run([sys.executable, os.path.join(common.SHARED, "gen.py"), "--n", str(n), "--out", d],
                       check=True)


def snapshot_dtl():
    """Copy dtl/ to a temp dir that every worker imports from (PYTHONPATH), so that edits to
    dtl/ made while the benchmark runs cannot mix code versions between rows.
    Returns (snapshot dir, sha256 of the copied sources)."""
    root = tempfile.mkdtemp(prefix="dtl-bench-")
    shutil.copytree(os.path.join(common.REPO, "dtl"), os.path.join(root, "dtl"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    h = hashlib.sha256()
    for dirpath, dirnames, files in sorted(os.walk(os.path.join(root, "dtl"))):
        dirnames.sort()
        for fn in sorted(files):
            full = os.path.join(dirpath, fn)
            h.update(os.path.relpath(full, root).encode())
            with open(full, "rb") as f:
                h.update(f.read())
    return root, h.hexdigest()[:12]


def run(ns, reps, e2e_reps, out_path, only=None):
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    for n in ns:
        ensure_data(n)
    snap, digest = snapshot_dtl()
    env = dict(os.environ, PYTHONPATH=snap + os.pathsep + os.environ.get("PYTHONPATH", ""))
    print(f"dtl snapshot {snap} (sources sha256 {digest})", flush=True)
    subprocess.run([sys.executable, os.path.join(common.HERE, "verify.py")], env=env, check=True)
    info = machine_info()
    info["dtl_snapshot_sha256"] = digest
    with open(out_path, "w") as out:
        out.write(json.dumps({"machine": info, "ns": ns, "reps": reps, "e2e_reps": e2e_reps}) + "\n")
        for comp, t, n in jobs(ns, only):
            argv = [sys.executable, os.path.abspath(__file__), "worker", comp, t, str(n), str(reps), str(e2e_reps)]
            t0 = time.perf_counter()
            p = subprocess.run(argv, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - t0
            if p.returncode != 0:
                rec = {"comp": comp, "t": t, "n": n, "error": p.stderr.strip()[-2000:]}
                print(f"FAILED {comp} {t} n={n}: {p.stderr.strip()[-500:]}", file=sys.stderr, flush=True)
            else:
                rec = json.loads(p.stdout.strip().splitlines()[-1])
            rec["worker_wall"] = wall
            out.write(json.dumps(rec) + "\n")
            out.flush()
            med = lambda k: (f"{statistics.median(rec[k]):.3f}" if rec.get(k) else "-")
            print(f"{comp:12s} {t} n={n:>8} e2e={med('e2e'):>8} transform={med('transform'):>8} "
                  f"rss={rec.get('rss_mb', 0):7.0f}MB wall={wall:6.1f}s", flush=True)
    shutil.rmtree(snap, ignore_errors=True)


def machine_info():
    def sh(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True, cwd=common.REPO).stdout.strip()
        except OSError:
            return ""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    import orjson
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "mem": mem,
        "kernel": platform.release(), "python": platform.python_version(),
        "python_impl": platform.python_implementation(),
        "orjson": orjson.__version__,
        "dtl_commit": sh("git", "rev-parse", "--short", "HEAD"),
        "dtl_dirty": bool(sh("git", "status", "--porcelain", "--", "dtl")),
        "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        "malloc_mmap": os.environ.get("MALLOC_MMAP_THRESHOLD_"),
    }


# --------------------------------------------------------------------------- render

TITLES = {"t1": "T1 map", "t2": "T2 filter + nested", "t3": "T3 join (hops, 2N orders)"}


def _med(v):
    return statistics.median(v) if v else None


def _f(x, fmt="{:.3f}"):
    return "-" if x is None else fmt.format(x)


def render(in_path, md_path):
    with open(in_path) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    head = lines[0] if lines and "machine" in lines[0] else {"machine": {}}
    recs = [r for r in lines if "comp" in r]
    m = head["machine"]
    py = {(r["t"], r["n"]): r for r in recs if r["comp"] == "python" and "error" not in r}
    o = []
    o.append("# DTL closure backend vs hand-written Python (T1 / T2 / T3)\n")
    o.append(f"Measured {m.get('date', '?')} on {m.get('cpu', '?')}, {m.get('cores', '?')} cores, "
             f"{m.get('mem', '?')} RAM, Linux {m.get('kernel', '?')}, {m.get('python_impl', '')} "
             f"{m.get('python', '?')}, orjson {m.get('orjson', '?')}; dtl at commit "
             f"`{m.get('dtl_commit', '?')}`{' plus uncommitted changes in dtl/' if m.get('dtl_dirty') else ''} "
             f"(every worker imports one snapshot of dtl/, sources sha256 `{m.get('dtl_snapshot_sha256', '?')}`). "
             f"`MALLOC_TRIM_THRESHOLD_={m.get('malloc_trim')}`, `MALLOC_MMAP_THRESHOLD_={m.get('malloc_mmap')}`, "
             f"cyclic GC off, one fresh process per row.\n")
    o.append(f"Times are CPU seconds of the worker process. "
             f"Transform: median of {head.get('reps', '?')} runs after one warm-up run, on input already "
             f"loaded as dicts. End to end (e2e): NDJSON files -> list of output dicts, median of the warm "
             f"runs out of {head.get('e2e_reps', '?')} (the first run of a process faults its heap in from "
             f"the host and is shown as \"1st e2e\"). Ratios are ÷ hand-written Python measured in the same "
             f"run (higher = slower). Entities/s counts input entities. Peak RSS is the worker's maximum "
             f"over all its runs.\n")
    o.append("* **dtl-closure**: `bench/transforms/tN.json` compiled once with `dtl.compile(..., backend=\"closure\")` "
             "(nested closures per IR node), `Transform.apply_batch` over the list of entities "
             "(`Transform.apply` per entity in a plain loop where the transform has columnar stages: T3 on "
             "auto, so every row here is row at a time); e2e parses each line "
             "with `dtl.transit.loads`.\n"
             "* **dtl-auto**: the same with the library default `backend=\"auto\"` (generated-source backend: "
             "each rule as one Python function, closure fallback per node; a rule of generated code alone "
             "runs as one generated loop over the list).\n"
             "* **python**: `impls.py` of shared/bench (orjson parse; its T3 transform includes indexing the "
             "2N orders, while the DTL rows' T3 transform time excludes building the provider and its "
             "index — those are reported below the T3 table and are part of the DTL e2e and load).\n"
             "* load s: parse the NDJSON into dicts (orjson for python, `dtl.transit.loads` per line for DTL; "
             "for DTL T3 also the provider and its index).\n")
    leaky = sorted({(r["comp"], r["t"]) for r in recs if r.get("cyclic_garbage_per_entity")})
    if leaky:
        o.append("**Cyclic garbage:** " + ", ".join(f"{c} {t}" for c, t in leaky) + " left cyclic garbage "
                 "per entity (never freed with the GC off); those workers ran `gc.collect()` after every run, "
                 "outside the timings.\n")
    for t in TRANSFORMS:
        rows = [r for r in recs if r["t"] == t]
        if not rows:
            continue
        o.append(f"\n## {TITLES[t]}\n")
        o.append("| competitor | N | transform s | entities/s | ratio ÷ python | e2e s | ratio ÷ python | 1st e2e s | load s | output rows | peak RSS MB |")
        o.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in sorted(rows, key=lambda r: (r["n"], r["comp"] != "python")):
            if "error" in r:
                o.append(f"| {r['comp']} | {r['n']:,} | error: {r['error'][-120:]!r} |||||||||")
                continue
            tr, e2e = _med(r["transform"]), _med(r["e2e"])
            p = py.get((t, r["n"]))
            ptr, pe2e = (_med(p["transform"]), _med(p["e2e"])) if p else (None, None)
            rt = tr / ptr if tr and ptr else None
            re_ = e2e / pe2e if e2e and pe2e else None
            o.append(f"| {r['comp']} | {r['n']:,} | {_f(tr)} | {_f(r['n'] / tr if tr else None, '{:,.0f}')} | "
                     f"{_f(rt, '{:.2f}x')} | {_f(e2e)} | {_f(re_, '{:.2f}x')} | {_f(r.get('e2e_cold'))} | "
                     f"{_f(r.get('load'))} | {r['rows']:,} | {r['rss_mb']:,.0f} |")
        if t == "t3":
            for r in rows:
                if r["comp"] != "python" and "provider_build" in r:
                    tr = _med(r["transform"])
                    p = py.get((t, r["n"]))
                    tot = tr + r["provider_build"] + r["index_build"]
                    extra = f", {tot / _med(p['transform']):.2f}x python's transform" if p else ""
                    o.append(f"\nN={r['n']:,}: {r['comp']} provider build (InMemoryProvider over {2 * r['n']:,} "
                             f"orders: `_id` sort + by-id dict) {r['provider_build']:.3f} s, `person` index "
                             f"build {r['index_build']:.3f} s; transform + provider + index = {tot:.3f} s{extra}.")
    o.append("\n## How to reproduce\n")
    o.append("```sh\ncd /work/main\nbash bench/run.sh            # data (gen.py), verify.py, all jobs at N=1,000,000, this file\n"
             "bash bench/run.sh --quick    # N=10k and 100k, results in bench/results/RESULTS-quick.md\n```\n")
    o.append("`run.sh` exports the malloc settings, generates `bench/data/n<N>` with shared/bench/gen.py when "
             "missing, runs `bench/verify.py` (DTL output == impls.py output on 10k entities) and then "
             "`bench/run.py run`. Raw figures: `bench/results/closure.jsonl` (one JSON line per worker). "
             "`python bench/run.py render` re-renders this file from it. Profile of T1: "
             "`python bench/profile_t1.py`.\n")
    notes = os.path.join(common.HERE, "notes.md")
    if md_path == MD and os.path.exists(notes):
        with open(notes) as f:
            o.append("\n" + f.read())
    with open(md_path, "w") as f:
        f.write("\n".join(o))
    print(f"wrote {md_path}")


def main():
    a = sys.argv[1:]
    if a and a[0] == "worker":
        comp, t, n, reps, e2e_reps = a[1], a[2], int(a[3]), int(a[4]), int(a[5])
        print(json.dumps(worker(comp, t, n, reps, e2e_reps)))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=("run", "render"))
    ap.add_argument("--quick", action="store_true", help="N=10k and 100k, 3 reps")
    ap.add_argument("--n", type=int, nargs="*")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--e2e-reps", type=int)
    ap.add_argument("--only", nargs="*", choices=COMPETITORS)
    ap.add_argument("--out", "--in", dest="path")
    ap.add_argument("--md")
    args = ap.parse_args()
    path = args.path or (RESULTS_QUICK if args.quick else RESULTS)
    md = args.md or (MD_QUICK if args.quick else MD)
    if args.cmd == "run":
        ns = args.n or ([10_000, 100_000] if args.quick else [1_000_000])
        reps = args.reps or (3 if args.quick else 5)
        e2e_reps = args.e2e_reps or 3
        run(ns, reps, e2e_reps, path, args.only)
    render(path, md)


if __name__ == "__main__":
    main()
