"""The distributed executor on this machine: the 1M simple pipe (T1) and the 1M join pipe (T3)
with the default executor and with `--executor dask` at 1, 2 and 4 workers, and the engine's
overhead per task (docs/scale-out.md).

    python bench/scale_bench.py [--n 1000000] [--shards 4] [--workers 1,2,4]
                                [--data bench/data/n<N>] [--work DIR] [--only t1,t3]

Data: bench/data/n<N> from shared/bench/gen.py (persons, 2N orders), loaded once into
unpartitioned datasets (the default executor) and once into datasets of `--shards` shards (the
dask runs: every run is `--shards` tasks, so 1, 2 and 4 workers do the same tasks). Each run
starts from an empty sink (a full run of one pipe, `--once`), in this process as the driver;
the CPU of the workers is read from /proc. Every dask run's sink is compared with the default
executor's by `_id` and content hash. Prints one JSON document and writes it to
bench/results/scale-n<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import orjson  # noqa: E402

from runtime.config import load_config  # noqa: E402
from runtime.executor import DistributedHub  # noqa: E402
from runtime.executor.compare import snapshot  # noqa: E402
from runtime.executor.engine import DaskEngine  # noqa: E402
from runtime.executor.task import noop  # noqa: E402
from runtime.hub import Hub  # noqa: E402
from storage import Store  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pids):
    tot = 0.0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            tot += (int(parts[11]) + int(parts[12])) / TICK
        except (FileNotFoundError, ProcessLookupError):
            pass
    return tot


def _warm():
    """Imports a task needs, once per worker process (a cluster kept running has them)."""
    import dtl.backends.vector.runner  # noqa: F401
    import runtime.columnar  # noqa: F401
    import runtime.executor.task  # noqa: F401
    import runtime.pump  # noqa: F401
    return os.getpid()


def write_config(cfg):
    os.makedirs(os.path.join(cfg, "pipes"), exist_ok=True)
    for t in ("t1", "t3"):
        rules = json.load(open(os.path.join(HERE, "transforms", f"{t}.json")))
        pipe = {"_id": t, "type": "pipe", "source": {"type": "dataset", "dataset": "persons"},
                "transform": {"type": "dtl", "rules": rules}}
        with open(os.path.join(cfg, "pipes", f"{t}.conf.json"), "w") as f:
            json.dump(pipe, f)


def load(data_dir, src, shards):
    """persons and orders into `data_dir` (partitioned when `shards`); seconds per dataset."""
    st = Store(data_dir)
    out = {}
    for name in ("persons", "orders"):
        if st.exists(name):
            ds = st.open(name)
            done = ds.populated
            ds.close()
            if done:
                continue
            shutil.rmtree(st._dir(name))     # a load that was stopped: again from the start
        if shards:
            st.create_partitioned(name, shards)
        t = time.perf_counter()
        ds = st.open(name, writer=True, create=True)
        try:
            buf = []
            with open(os.path.join(src, f"{name}.ndjson"), "rb") as f:
                for line in f:
                    buf.append(orjson.loads(line))
                    if len(buf) >= 50_000:
                        ds.append(buf, group=True)
                        buf = []
            if buf:
                ds.append(buf, group=True)
            ds.flush()
            ds.set_populated(True)
        finally:
            ds.close()
        out[name] = round(time.perf_counter() - t, 2)
    return out


def fresh_sink(data_dir, name):
    st = Store(data_dir)
    for n in (name, f"system:pump_execution:{name}"):
        d = st._dir(n)
        if os.path.isdir(d):
            shutil.rmtree(d)
    p = os.path.join(data_dir, "pipes")
    if os.path.isdir(p):
        shutil.rmtree(p)


def engine_overhead(engine, cfg_dir, data_dir, cfg):
    """An empty task's round trip, 200 at once, and our task's fixed cost (a pipe run with
    nothing to read: config cached, hub, pump, state, commit)."""
    rt = []
    for _ in range(20):
        t = time.perf_counter()
        engine.map(noop, [None])
        rt.append(time.perf_counter() - t)
    t = time.perf_counter()
    engine.map(noop, [None] * 200)
    many = (time.perf_counter() - t) / 200
    hub = DistributedHub(cfg, data_dir, engine=engine, shards=1, config_dir=cfg_dir)
    try:
        hub.run(["t1"], until_stable=False)      # warm (config loaded on every worker)
        walls, tasks = [], []
        for _ in range(5):
            hub.tasks.clear()
            t = time.perf_counter()
            hub.run(["t1"], until_stable=False)
            walls.append(time.perf_counter() - t)
            tasks += [x.seconds for x in hub.tasks]
    finally:
        hub.close()
    return {"empty_task_round_trip_ms": round(statistics.median(rt) * 1000, 2),
            "empty_tasks_200_per_task_ms": round(many * 1000, 2),
            "idle_pipe_run_wall_ms": round(statistics.median(walls) * 1000, 1),
            "idle_task_on_worker_ms": round(statistics.median(tasks) * 1000, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--data", default=None)
    ap.add_argument("--work", default=None)
    ap.add_argument("--only", default="t1,t3")
    a = ap.parse_args()
    src = a.data or os.path.join(HERE, "data", f"n{a.n}")
    if not os.path.exists(os.path.join(src, "orders.ndjson")):
        raise SystemExit(f"no {src}: python shared/bench/gen.py --n {a.n} --out {src}")
    work = a.work or os.path.join(HERE, "data", f"scale-n{a.n}")
    cfg_dir = os.path.join(work, "cfg")
    write_config(cfg_dir)
    cfg = load_config(cfg_dir, lenient=True)
    local_dir, part_dir = os.path.join(work, "local"), os.path.join(work, f"p{a.shards}")
    res = {"n": a.n, "shards": a.shards, "cores": os.cpu_count(),
           "load_s": {"local": load(local_dir, src, 0), "partitioned": load(part_dir, src,
                                                                           a.shards)},
           "runs": [], "overhead": {}}
    info = Store(part_dir).open("orders").info()
    res["orders_bytes"] = info["bytes"]
    res["persons_bytes"] = Store(part_dir).open("persons").info()["bytes"]
    pipes = a.only.split(",")
    base = {}
    for t in pipes:
        fresh_sink(local_dir, t)
        hub = Hub(cfg, local_dir)
        c0, w0 = time.process_time(), time.perf_counter()
        s = hub.run([t], until_stable=False)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        hub.close()
        base[t] = snapshot(local_dir)[t]
        res["runs"].append({"pipe": t, "executor": "local", "workers": 0, "ok": s.ok,
                            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                            "entities": len(base[t])})
        print(json.dumps(res["runs"][-1]), flush=True)
    for w in [int(x) for x in a.workers.split(",")]:
        t0 = time.perf_counter()
        engine = DaskEngine(workers=w)
        start = time.perf_counter() - t0
        pids = list(engine.worker_pids().values())
        engine.client.run(_warm)
        try:
            for t in pipes:
                fresh_sink(part_dir, t)
                Store(part_dir).create_partitioned(t, a.shards)
                hub = DistributedHub(cfg, part_dir, engine=engine, shards=a.shards,
                                     config_dir=cfg_dir)
                c0, wc0, w0 = time.process_time(), _cpu(pids), time.perf_counter()
                s = hub.run([t], until_stable=False)
                wall = time.perf_counter() - w0
                cpu, wcpu = time.process_time() - c0, _cpu(pids) - wc0
                tasks = [{"shard": x.shard, "s": round(x.seconds, 2), "setup_s": round(x.setup, 3),
                          "pid": x.pid} for x in hub.tasks]
                hub.close()
                got = snapshot(part_dir)[t]
                same = got == base[t]
                task_s = [x["s"] for x in tasks]
                res["runs"].append({
                    "pipe": t, "executor": "dask", "workers": w, "ok": s.ok, "same": same,
                    "wall_s": round(wall, 2), "driver_cpu_s": round(cpu, 2),
                    "workers_cpu_s": round(wcpu, 2), "tasks": tasks,
                    "task_sum_s": round(sum(task_s), 2), "task_max_s": round(max(task_s), 2),
                    "entities": len(got)})
                print(json.dumps(res["runs"][-1]), flush=True)
            res["overhead"][str(w)] = {"cluster_start_s": round(start, 2),
                                       **engine_overhead(engine, cfg_dir, part_dir, cfg)}
            print(json.dumps({"workers": w, **res["overhead"][str(w)]}), flush=True)
        finally:
            engine.close()
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", f"scale-n{a.n}.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
