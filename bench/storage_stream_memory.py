#!/usr/bin/env python3
"""Peak RSS while streaming a whole dataset as entity dicts, in a fresh process.

  storage_stream_memory.py build DIR N   put the first N persons of bench/data into DIR
  storage_stream_memory.py scan DIR      stream every entity (dicts), print count and peak RSS

The scan holds one batch at a time, so its peak RSS should not grow with the dataset.
"""
import gc
import json
import resource
import sys
import time

sys.path.insert(0, ".")


def build(d, n):
    import orjson
    from storage.store import Store
    gc.disable()
    st = Store(d)
    with st.open("persons", writer=True, create=True) as ds:
        batch = []
        with open(f"bench/data/n1000000/persons.ndjson", "rb") as f:
            for i, line in enumerate(f):
                if i >= n:
                    break
                batch.append(orjson.loads(line))
                if len(batch) == 10000:
                    ds.append(batch)
                    batch = []
        if batch:
            ds.append(batch)


def scan(d):
    from storage.store import Store
    gc.disable()
    st = Store(d)
    ds = st.reader("persons")
    t0 = time.perf_counter()
    n = 0
    for e in ds.entities():
        n += 1
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"entities": n, "seconds": round(dt, 2), "peak_rss_mb": round(rss)}))


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2], int(sys.argv[3]))
    else:
        scan(sys.argv[2])
