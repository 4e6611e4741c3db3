"""Pipe end to end: dataset (N entities) -> DTL -> dataset, then an incremental rerun after 1%
of the source changed; with --join also a join pipe: persons -> bench/transforms/t3.json (hops
into the orders dataset: count and sum of each person's orders) -> dataset, on the first N
persons and 2N orders of bench/data/n1000000.

Each backend of --backend (default auto; e.g. auto,vector) runs its own copy of every pipe on
the same source datasets in the same process, one after the other; the sinks must hold the same
entities (compared by `_id` and `_hash`). Before a backend's timed run, if it batches columnar
(vector; auto where a join pays), its kernels are compiled (numba JIT, once per process) on
1,000 source entities: `*warmup_s[backend]`. Each timed run builds its own join views.

Usage: python bench/pipes_bench.py [N] [DIR] [--backend auto,vector] [--join] [--no-simple]"""

import json
import os
import shutil
import sys
import tempfile
import time
from itertools import islice

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime.config import load_config  # noqa: E402
from runtime.hub import Hub  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "n1000000")

SIMPLE = {"default": [
    ["copy", "_id"], ["add", "name", ["concat", ["upper", "_S.last"], ", ", "_S.first"]],
    ["add", "adult", ["gte", "_S.age", 18]], ["add", "city", "_S.city"]]}


def _pipe(pid, dataset, rules):
    return {"_id": pid, "type": "pipe", "batch_size": 10000,
            "source": {"type": "dataset", "dataset": dataset},
            "transform": {"type": "dtl", "rules": rules}}


def _load_ndjson(ds, path, limit, chunk=50_000):
    from dtl.transit import loads
    with open(path, "rb") as f:
        lines = islice(f, limit)
        while True:
            part = [loads(line) for line in islice(lines, chunk)]
            if not part:
                break
            ds.append(part)


def _sink_rows(hub, name):
    import pyarrow as pa
    with hub.store.reader(name) as ds:
        t = pa.Table.from_batches(list(ds.batches(columns=["_id", "_hash"])))
    return sorted(zip(t.column("_id").to_pylist(), t.column("_hash").to_pylist()))


def _warm(hub, dataset, rules, backend):
    """Compile the numba/Arrow kernels the transform uses (once per process) on 1,000 source
    entities, outside the timed run; returns the seconds it took."""
    import dtl
    from storage import StoreProvider
    t = time.perf_counter()
    prov = StoreProvider(hub.store)   # not the hub's: its join views stay in the timed run
    try:
        tr = dtl.compile(rules, backend=backend, provider=prov, mark_filtered=True)
        if not tr.batched:
            return 0.0
        with hub.store.reader(dataset) as ds:
            sample = list(islice(ds.entities(deleted=False), 1000))
        tr.apply_each(sample)
    finally:
        prov.close()
    return time.perf_counter() - t


def _run(hub, pid, backend):
    hub.backend = backend   # each pipe of this hub compiles (once, on its first run) on its own
    hub.provider.close()   # no join view left from another backend's run: each builds its own
    t = time.perf_counter()
    s = hub.run([pid], until_stable=False)
    return s, time.perf_counter() - t


def _full_runs(hub, res, dataset, rules, prefix, key, backends, n):
    """Time each backend's full run of pipe `<prefix>-<backend>` (kernels warmed first)."""
    for b in backends:
        res[f"{key}warmup_s[{b}]"] = round(_warm(hub, dataset, rules, b), 2)
        s, full = _run(hub, f"{prefix}-{b}", b)
        assert s.ok and s[f"{prefix}-{b}"].changed == n, s.as_dict()
        res[f"{key}full_run_s[{b}]"] = round(full, 2)
        res[f"{key}entities_per_s[{b}]" if key else f"full_entities_per_s[{b}]"] = round(n / full)


def _same_sinks(hub, prefix, backends):
    ref = _sink_rows(hub, f"{prefix}-{backends[0]}")
    for b in backends[1:]:
        assert _sink_rows(hub, f"{prefix}-{b}") == ref, f"{prefix}-{b} differs from {prefix}-{backends[0]}"


def main(n=1_000_000, root=None, backends=("auto",), join=False, simple=True):
    root = root or tempfile.mkdtemp(prefix="dtl-pipes-bench-")
    shutil.rmtree(root, ignore_errors=True)
    cfg = os.path.join(root, "cfg")
    os.makedirs(os.path.join(cfg, "pipes"))
    t3 = json.load(open(os.path.join(HERE, "transforms", "t3.json")))
    for b in backends:
        for pid, p in ((f"out-{b}", _pipe(f"out-{b}", "people", SIMPLE)) if simple else (None, None),
                       (f"t3-{b}", _pipe(f"t3-{b}", "persons", t3)) if join else (None, None)):
            if pid:
                with open(os.path.join(cfg, "pipes", f"{pid}.conf.json"), "w") as f:
                    json.dump(p, f)
    hub = Hub(load_config(cfg), os.path.join(root, "data"))
    res = {"n": n, "backends": list(backends)}
    if simple:
        t = time.perf_counter()
        with hub.store.open("people", writer=True, create=True) as ds:
            for k in range(0, n, 50_000):
                ds.append([{"_id": f"p{i:07d}", "first": f"F{i}", "last": f"l{i}", "age": i % 90,
                            "city": f"c{i % 1000}"} for i in range(k, min(n, k + 50_000))])
            ds.set_populated(True)
        res["load_source_s"] = round(time.perf_counter() - t, 2)
        _full_runs(hub, res, "people", SIMPLE, "out", "", backends, n)
        changed = n // 100
        with hub.store.open("people", writer=True) as ds:
            ds.append([{"_id": f"p{i:07d}", "first": f"G{i}", "last": f"l{i}", "age": i % 90,
                        "city": f"c{i % 1000}"} for i in range(0, n, 100)])
        res["incremental_changed"] = changed
        for b in backends:
            s2, inc = _run(hub, f"out-{b}", b)
            assert s2[f"out-{b}"].read == changed and s2[f"out-{b}"].changed == changed, \
                s2.as_dict()
            res[f"incremental_run_s[{b}]"] = round(inc, 3)
        _same_sinks(hub, "out", backends)
    if join:
        t = time.perf_counter()
        with hub.store.open("orders", writer=True, create=True) as ds:
            _load_ndjson(ds, os.path.join(DATA, "orders.ndjson"), 2 * n)
            ds.ensure_index(("person",))   # the hops index: built here, not in the first run
            ds.set_populated(True)
        with hub.store.open("persons", writer=True, create=True) as ds:
            _load_ndjson(ds, os.path.join(DATA, "persons.ndjson"), n)
            ds.set_populated(True)
        res["join_load_source_s"] = round(time.perf_counter() - t, 2)
        _full_runs(hub, res, "persons", t3, "t3", "join_", backends, n)
        _same_sinks(hub, "t3", backends)
    hub.close()
    print(json.dumps(res))
    shutil.rmtree(root, ignore_errors=True)
    return res


if __name__ == "__main__":
    args = sys.argv[1:]
    backends = ("auto",)
    if "--backend" in args:
        i = args.index("--backend")
        backends = tuple(args[i + 1].split(","))
        del args[i:i + 2]
    flags = {a for a in args if a.startswith("--")}
    pos = [a for a in args if not a.startswith("--")]
    main(int(pos[0]) if pos else 1_000_000, pos[1] if len(pos) > 1 else None, backends,
         join="--join" in flags, simple="--no-simple" not in flags)
