"""Spike: Ray vs Dask distributed on this machine, for the scale-out executor
(docs/decisions/scale-out-engine.md).

    .venv/bin/python bench/engine_spike.py ray|dask [--workers 2]

Measures, on a local cluster bound to 127.0.0.1: cluster start and stop, the round trip of one
empty task, the throughput of 2,000 empty tasks submitted at once (the engine's overhead per
task), passing a 1M-row Arrow table (about 40 MB) into a task and back, and the time to notice
a SIGKILLed worker and run its task again. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pyarrow as pa


def _table(n=1_000_000):
    return pa.table({"_id": pa.array([f"id-{i}" for i in range(n)]),
                     "v": pa.array(range(n), pa.int64()),
                     "body": pa.array([b'{"a":1,"b":"x"}'] * n)})


def _nbytes(t):
    return t.nbytes


def _noop(x=None):
    return x


def _pid(_=None):
    return os.getpid()


def _sleep_pid(marker):
    # the first attempt records its pid and sleeps (to be killed); a retry returns at once
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(60)
    return os.getpid()


def ray_spike(workers):
    import ray
    out = {}
    t = time.perf_counter()
    ray.init(num_cpus=workers, address="local", include_dashboard=False,
             _node_ip_address="127.0.0.1", logging_level="ERROR", log_to_driver=False)
    noop, pid = ray.remote(_noop), ray.remote(_pid)
    ray.get(noop.remote())
    out["start_s"] = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(50):
        ray.get(noop.remote())
    out["roundtrip_ms"] = (time.perf_counter() - t) / 50 * 1000
    t = time.perf_counter()
    ray.get([noop.remote(i) for i in range(2000)])
    out["per_task_ms_2000"] = (time.perf_counter() - t) / 2000 * 1000
    tab = _table()
    t = time.perf_counter()
    ref = ray.put(tab)
    out["put_1M_s"] = time.perf_counter() - t
    t = time.perf_counter()
    n = ray.get(ray.remote(_nbytes).remote(ref))
    out["task_on_1M_s"] = time.perf_counter() - t
    t = time.perf_counter()
    back = ray.get(ray.remote(_noop).remote(tab))
    out["roundtrip_1M_s"] = time.perf_counter() - t
    out["arrow_mb"] = n / 1e6
    assert back.num_rows == tab.num_rows
    marker = f"/tmp/engine-spike-ray-{os.getpid()}"
    fut = ray.remote(max_retries=3)(_sleep_pid).remote(marker)
    while not os.path.exists(marker) or not open(marker).read():
        time.sleep(0.05)
    t = time.perf_counter()
    os.kill(int(open(marker).read()), signal.SIGKILL)
    ray.get(fut)
    out["kill_retry_s"] = time.perf_counter() - t
    os.unlink(marker)
    t = time.perf_counter()
    ray.shutdown()
    out["stop_s"] = time.perf_counter() - t
    return out


def dask_spike(workers):
    from distributed import Client, LocalCluster
    out = {}
    t = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None, nanny=True)
    client = Client(cluster)
    client.submit(_noop, pure=False).result()
    out["start_s"] = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(50):
        client.submit(_noop, pure=False).result()
    out["roundtrip_ms"] = (time.perf_counter() - t) / 50 * 1000
    t = time.perf_counter()
    client.gather(client.map(_noop, range(2000), pure=False))
    out["per_task_ms_2000"] = (time.perf_counter() - t) / 2000 * 1000
    tab = _table()
    t = time.perf_counter()
    [fut] = client.scatter([tab])
    out["put_1M_s"] = time.perf_counter() - t
    t = time.perf_counter()
    n = client.submit(_nbytes, fut, pure=False).result()
    out["task_on_1M_s"] = time.perf_counter() - t
    t = time.perf_counter()
    back = client.submit(_noop, tab, pure=False).result()
    out["roundtrip_1M_s"] = time.perf_counter() - t
    out["arrow_mb"] = n / 1e6
    assert back.num_rows == tab.num_rows
    marker = f"/tmp/engine-spike-dask-{os.getpid()}"
    fut = client.submit(_sleep_pid, marker, pure=False, retries=3)
    while not os.path.exists(marker) or not open(marker).read():
        time.sleep(0.05)
    t = time.perf_counter()
    os.kill(int(open(marker).read()), signal.SIGKILL)
    fut.result()
    out["kill_retry_s"] = time.perf_counter() - t
    os.unlink(marker)
    t = time.perf_counter()
    client.close()
    cluster.close()
    out["stop_s"] = time.perf_counter() - t
    return out


if __name__ == "__main__":
    engine = sys.argv[1]
    workers = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 2
    t0 = time.perf_counter()
    res = (ray_spike if engine == "ray" else dask_spike)(workers)
    res = {k: round(v, 4) for k, v in res.items()}
    res.update(engine=engine, workers=workers, total_s=round(time.perf_counter() - t0, 2))
    print(json.dumps(res))
