"""Real-world configurations under the distributed executor: for each node folder given, one
pass of the default executor twice (what differs between those two is not deterministic and
is not compared) and one pass of `--executor dask` per worker count; prints, per folder and
worker count, how many datasets were compared and which differ (by `_id` and content hash).

    python bench/scale_compat.py NODE_DIR... [--workers 1,2,4] [--passes 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime.config import load_config  # noqa: E402
from runtime.executor import DistributedHub  # noqa: E402
from runtime.executor.compare import differences, snapshot  # noqa: E402
from runtime.executor.engine import DaskEngine  # noqa: E402
from runtime.hub import Hub  # noqa: E402


def _copy(src, dst):
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".dtl-data"))
    return dst


def _run(hub, passes):
    t = time.perf_counter()
    try:
        s = hub.run(until_stable=passes > 1, max_passes=passes)
    finally:
        hub.close()
    return s, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nodes", nargs="+")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--passes", type=int, default=1)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="scale-compat-")
    out = []
    try:
        for i, node in enumerate(a.nodes):
            snaps, secs = [], []
            for k in range(2):
                cfg = _copy(node, os.path.join(tmp, f"{i}-l{k}"))
                data = os.path.join(tmp, f"{i}-l{k}-data")
                s, sec = _run(Hub(load_config(cfg, lenient=True), data), a.passes)
                snaps.append(snapshot(data))
                secs.append(sec)
            stable = sorted(k for k in snaps[0] if snaps[0][k] == snaps[1].get(k))
            row = {"node": i, "datasets": len(snaps[0]), "deterministic": len(stable),
                   "local_s": [round(x, 1) for x in secs], "dask": {}}
            for w in [int(x) for x in a.workers.split(",")]:
                engine = DaskEngine(workers=w)
                try:
                    cfg = _copy(node, os.path.join(tmp, f"{i}-d{w}"))
                    data = os.path.join(tmp, f"{i}-d{w}-data")
                    hub = DistributedHub(load_config(cfg, lenient=True), data, engine=engine,
                                         shards=w, config_dir=cfg)
                    s, sec = _run(hub, a.passes)
                    sharded = len({t.pipe for t in hub.tasks if t.shard is not None
                                   and not t.foreign})
                    got = snapshot(data)
                finally:
                    engine.close()
                diff = differences({k: snaps[0][k] for k in stable},
                                   {k: got.get(k, {}) for k in stable}, limit=20)
                row["dask"][w] = {"s": round(sec, 1), "pipes_by_shard": sharded,
                                  "pipes_failed": len(s.failed), "differences": diff}
                print(json.dumps({"node": i, "workers": w, **row["dask"][w]}), flush=True)
            out.append(row)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
