"""Pipe end to end: dataset (N entities) -> DTL -> dataset, then an incremental rerun after 1%
of the source changed. Usage: python bench/pipes_bench.py [N] [DIR]"""

import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime.config import load_config  # noqa: E402
from runtime.hub import Hub  # noqa: E402


def main(n=1_000_000, root=None):
    root = root or tempfile.mkdtemp(prefix="dtl-pipes-bench-")
    shutil.rmtree(root, ignore_errors=True)
    cfg = os.path.join(root, "cfg")
    os.makedirs(os.path.join(cfg, "pipes"))
    with open(os.path.join(cfg, "pipes", "out.conf.json"), "w") as f:
        json.dump({"_id": "out", "type": "pipe", "batch_size": 10000,
                   "source": {"type": "dataset", "dataset": "people"},
                   "transform": {"type": "dtl", "rules": {"default": [
                       ["copy", "_id"], ["add", "name", ["concat", ["upper", "_S.last"], ", ", "_S.first"]],
                       ["add", "adult", ["gte", "_S.age", 18]], ["add", "city", "_S.city"]]}}}, f)
    hub = Hub(load_config(cfg), os.path.join(root, "data"))
    t = time.perf_counter()
    with hub.store.open("people", writer=True, create=True) as ds:
        for k in range(0, n, 50_000):
            ds.append([{"_id": f"p{i:07d}", "first": f"F{i}", "last": f"l{i}", "age": i % 90,
                        "city": f"c{i % 1000}"} for i in range(k, min(n, k + 50_000))])
        ds.set_populated(True)
    load = time.perf_counter() - t
    t = time.perf_counter()
    s = hub.run(["out"], until_stable=False)
    full = time.perf_counter() - t
    assert s.ok and s["out"].changed == n, s.as_dict()
    changed = n // 100
    with hub.store.open("people", writer=True) as ds:
        ds.append([{"_id": f"p{i:07d}", "first": f"G{i}", "last": f"l{i}", "age": i % 90,
                    "city": f"c{i % 1000}"} for i in range(0, n, 100)])
    t = time.perf_counter()
    s2 = hub.run(["out"], until_stable=False)
    inc = time.perf_counter() - t
    assert s2["out"].read == changed and s2["out"].changed == changed, s2.as_dict()
    hub.close()
    res = {"n": n, "load_source_s": round(load, 2), "full_run_s": round(full, 2),
           "full_entities_per_s": round(n / full), "incremental_changed": changed,
           "incremental_run_s": round(inc, 3), "incremental_over_full": round(inc / full, 4)}
    print(json.dumps(res))
    shutil.rmtree(root, ignore_errors=True)
    return res


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000,
         sys.argv[2] if len(sys.argv) > 2 else None)
