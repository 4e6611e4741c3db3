"""Loopback load test of `dtl serve`: concurrent clients POST entities to a receiver while
others pull a publisher incrementally (JSON pull with `since`). At the end every id must be in
the dataset and in the publisher exactly once. Writes bench/RESULTS-service.md.

    python bench/service_load.py --entities 1000000 --posters 4 --readers 2 --batch 1000

Bounded: a fixed number of entities, and a wall-clock limit after which it stops and fails.
Only 127.0.0.1 is ever contacted (a server started in this process)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runtime.service.auth import local_key, mint  # noqa: E402
from runtime.service.server import Background, build  # noqa: E402

CONFIG = [
    {"_id": "inbox", "type": "pipe", "source": {"type": "http_endpoint"},
     "transform": {"type": "dtl", "rules": {"default": [["copy", "*"]]}}},
    {"_id": "feed", "type": "pipe", "source": {"type": "dataset", "dataset": "inbox"},
     "transform": {"type": "dtl", "rules": {"default": [["copy", "*"],
                                                         ["add", "seen", True]]}},
     "sink": {"type": "http_endpoint"}},
]


def pct(values, q):
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def timed(latencies, call, *args, **kw):
    """CALL's answer; how long it took is appended to LATENCIES."""
    t = time.perf_counter()
    r = call(*args, **kw)
    latencies.append(time.perf_counter() - t)
    return r


def run(entities, posters, readers, batch, limit_s, fsync):
    tmp = tempfile.mkdtemp(prefix="dtl-svc-bench-")
    conf = Path(tmp) / "conf"
    (conf / "pipes").mkdir(parents=True)
    for e in CONFIG:
        (conf / "pipes" / f"{e['_id']}.conf.json").write_text(json.dumps(e))
    data = Path(tmp) / "data"
    app = build(data, conf, fsync=fsync)
    tok = mint(local_key(data), "Developer")
    hdr = {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}
    deadline = time.monotonic() + limit_s
    post_lat, read_lat, errors = [], [], []
    seen = [dict() for _ in range(readers)]   # id -> times seen, per reader
    done_posting = threading.Event()
    with Background(app) as bg:
        def poster(k):
            with httpx.Client(base_url=bg.url, headers=hdr, timeout=120) as c:
                for start in range(k * batch, entities, posters * batch):
                    if time.monotonic() > deadline:
                        errors.append("time limit")
                        return
                    body = json.dumps([{"_id": f"e{i}", "i": i, "name": f"n{i % 977}"}
                                       for i in range(start, min(start + batch, entities))])
                    r = timed(post_lat, c.post, "/receivers/inbox/entities", content=body)
                    if r.status_code != 200:
                        errors.append(f"post {r.status_code}: {r.text[:200]}")
                        return

        def reader(k):
            since = None
            with httpx.Client(base_url=bg.url, headers=hdr, timeout=120) as c:
                while time.monotonic() < deadline:
                    last = done_posting.is_set()
                    params = {"limit": 20000}
                    if since is not None:
                        params["since"] = since
                    r = timed(read_lat, c.get, "/publishers/feed/entities", params=params)
                    if r.status_code != 200:
                        errors.append(f"read {r.status_code}")
                        return
                    page = r.json()
                    for e in page:
                        seen[k][e["_id"]] = seen[k].get(e["_id"], 0) + 1
                    if page:
                        since = page[-1]["_updated"]
                    elif last:
                        return
                    else:
                        time.sleep(0.05)

        t0 = time.perf_counter()
        ps = [threading.Thread(target=poster, args=(k,)) for k in range(posters)]
        rs = [threading.Thread(target=reader, args=(k,)) for k in range(readers)]
        for t in ps + rs:
            t.start()
        for t in ps:
            t.join()
        post_s = time.perf_counter() - t0
        done_posting.set()
        for t in rs:
            t.join()
        total_s = time.perf_counter() - t0
        with httpx.Client(base_url=bg.url, headers=hdr, timeout=300) as c:
            info = c.get("/datasets/inbox").json()["runtime"]
    want = {f"e{i}" for i in range(entities)}
    ok_readers = [set(s) == want and all(v == 1 for v in s.values()) for s in seen]
    stored = info["count-index-exists"]
    res = {"entities": entities, "posters": posters, "readers": readers, "batch": batch,
           "fsync": fsync, "post_seconds": round(post_s, 2), "total_seconds": round(total_s, 2),
           "post_entities_per_s": round(entities / post_s),
           "post_p50_ms": round(pct(post_lat, 0.5) * 1000, 1),
           "post_p99_ms": round(pct(post_lat, 0.99) * 1000, 1),
           "read_requests": len(read_lat),
           "read_p50_ms": round(pct(read_lat, 0.5) * 1000, 1),
           "read_p99_ms": round(pct(read_lat, 0.99) * 1000, 1),
           "read_entities_per_s": round(sum(len(s) for s in seen) / total_s),
           "stored": stored, "stored_versions": info["count-log-exists"],
           "readers_exact": ok_readers, "errors": errors[:5],
           "ok": not errors and stored == entities and info["count-log-exists"] == entities
           and all(ok_readers)}
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
    return res


def write_results(res, path):
    lines = [
        "# Service load (loopback)", "",
        f"`python bench/service_load.py --entities {res['entities']} --posters {res['posters']} "
        f"--readers {res['readers']} --batch {res['batch']}` — one process: uvicorn on 127.0.0.1, "
        "posting clients and JSON-pull readers in threads (2 cores).", "",
        "| figure | value |", "|---|---|",
        f"| entities posted | {res['entities']:,} in batches of {res['batch']} by "
        f"{res['posters']} clients |",
        f"| receive throughput | {res['post_entities_per_s']:,} entities/s "
        f"({res['post_seconds']} s) |",
        f"| POST latency p50 / p99 | {res['post_p50_ms']} ms / {res['post_p99_ms']} ms |",
        f"| publisher readers | {res['readers']}, {res['read_requests']} requests, "
        f"{res['read_entities_per_s']:,} entities/s together |",
        f"| GET latency p50 / p99 (pages up to 20,000) | {res['read_p50_ms']} ms / "
        f"{res['read_p99_ms']} ms |",
        f"| stored / versions | {res['stored']:,} / {res['stored_versions']:,} |",
        f"| every reader saw every id exactly once | {all(res['readers_exact'])} |",
        f"| fsync | {res['fsync']} |",
        f"| result | {'OK: nothing lost or duplicated' if res['ok'] else 'FAILED'} |", ""]
    Path(path).write_text("\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entities", type=int, default=1_000_000)
    ap.add_argument("--posters", type=int, default=4)
    ap.add_argument("--readers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--time-limit", type=float, default=1800)
    ap.add_argument("--no-fsync", action="store_true")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                  "RESULTS-service.md"))
    a = ap.parse_args()
    res = run(a.entities, a.posters, a.readers, a.batch, a.time_limit, not a.no_fsync)
    print(json.dumps(res, indent=2))
    if a.out:
        write_results(res, a.out)
    sys.exit(0 if res["ok"] else 1)


if __name__ == "__main__":
    main()
