"""Fault campaign (issue 17): kill the processes that write, damage the files they wrote, and
count what was lost. Each fault is a function `<fault>(root, trials, seed) -> dict` that the
bounded tests (tests/security/test_sec_faults.py) call with a few trials and this script with
hundreds:

    python bench/faults_bench.py [--trials N] [--only NAME,...] [--out FILE]

Faults: `run` (SIGKILL `dtl run` of a two-pipe chain), `serve_receive` (SIGKILL `dtl serve`
while a client posts to a receiver), `serve_pump` (SIGKILL `dtl serve` while its pump runs),
`dataset_put` (SIGKILL `dtl dataset put`), `compact` (SIGKILL `dtl dataset compact`),
`corrupt` (a flipped bit or a truncation in a segment or the commit log), `secrets` (a run
that uses a secret, then every file of the data directory and every GET answer scanned).

Every kill is followed by a check: `verify` clean, no entity stored twice, and, once the
process is run again to the end, nothing lost. Damaged files must give an error naming the
file; a read that answers must answer the data as written ("silently wrong": 0)."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
DTL = os.path.join(os.path.dirname(sys.executable), "dtl")
ENV = dict(os.environ, PYTHONPATH=ROOT)


def _store(data):
    from storage import Store
    return Store(str(data), fsync=False)


def _check(data, name, want=None):
    """(problems, versions per _id > 1, stored ids) of dataset `name` after a kill."""
    st = _store(data)
    if not st.exists(name):
        return [], 0, set()
    with st.open(name, writer=True) as ds:           # recovers a torn tail
        probs = ds.verify()
        ids = [e["_id"] for e in ds.entities(history=True)]
        bad = 0
        if want is not None:
            for e in ds.entities():
                w = want(e)
                if w is not None and any(e.get(k) != v for k, v in w.items()):
                    bad += 1
    return probs + ([f"{bad} entities with wrong values"] if bad else []), \
        len(ids) - len(set(ids)), set(ids)


def _count(data, name):
    """Entities in dataset `name`, read beside a live writer."""
    st = _store(data)
    if not st.exists(name):
        return 0
    with st.open(name) as ds:
        return sum(1 for _ in ds.entities())


def _kill_at(p, delay):
    time.sleep(delay)
    if p.poll() is not None:
        return False
    p.send_signal(signal.SIGKILL)
    p.wait()
    return True


def _files(dirs):
    """(path, size) of every file under `dirs`: what a writer changes first."""
    out = set()
    for top in dirs:
        for dp, _dn, fn in os.walk(top):
            for f in fn:
                try:
                    out.add((os.path.join(dp, f), os.path.getsize(os.path.join(dp, f))))
                except FileNotFoundError:
                    pass
    return out


def _started(dirs):
    """A callable: has a file under `dirs` appeared, gone or changed size since now?"""
    base = _files(dirs)
    return lambda: _files(dirs) != base


def _wait_started(p, started, timeout=300):
    """Poll until `started()` holds (True) or `p` ended (False)."""
    end = time.monotonic() + timeout
    while not started():
        if p.poll() is not None:
            return False
        if time.monotonic() > end:
            return True
        time.sleep(0.002)
    return True


def _kill_mid(p, started, window, rnd):
    """SIGKILL `p` a random moment within `window` seconds after it began writing (a delay
    counted from spawn lands after the end on a fast machine, or before any write on a slow
    one). False if `p` ended before the kill."""
    if not _wait_started(p, started):
        return False
    return _kill_at(p, rnd.uniform(0, window))


def _window(cmd, dirs, env=ENV):
    """Half the time an unkilled `cmd` writes (first change under `dirs` to exit): kill
    delays drawn from it land while the work still runs, even when a rerun is faster."""
    started = _started(dirs)
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _wait_started(p, started)
    t0 = time.monotonic()
    p.wait(timeout=600)
    return max(0.005, (time.monotonic() - t0) / 2)


# -- SIGKILL dtl run ---------------------------------------------------------------------------
def _chain(cfg, n_pipes=2):
    os.makedirs(os.path.join(cfg, "pipes"), exist_ok=True)
    pipes = [
        {"_id": "src", "type": "pipe", "source": {"type": "dataset", "dataset": "raw"},
         "batch_size": 50, "transform": {"type": "dtl", "rules": {"default": [
             ["copy", "*"], ["add", "double", ["multiply", 2, "_S.n"]]]}}},
        {"_id": "dst", "type": "pipe", "source": {"type": "dataset", "dataset": "src"},
         "batch_size": 70, "transform": {"type": "dtl", "rules": {"default": [
             ["copy", "_id"], ["add", "sum", ["plus", "_S.n", "_S.double"]]]}}}]
    for p in pipes[:n_pipes]:
        with open(os.path.join(cfg, "pipes", p["_id"] + ".conf.json"), "w") as f:
            json.dump(p, f)


def _raw(data, n):
    with _store(data).open("raw", writer=True, create=True) as ds:
        for k in range(0, n, 5000):
            ds.append([{"_id": f"e{i:06d}", "n": i} for i in range(k, min(n, k + 5000))])
        ds.set_populated(True)


WANT = {"src": lambda e: {"double": 2 * int(e["_id"][1:])},
        "dst": lambda e: {"sum": 3 * int(e["_id"][1:])}}


def _fresh(data, names):
    for name in names:
        if _store(data).exists(name):
            _store(data).delete(name)


def run(root, trials, seed=1, n=20000):
    """SIGKILL `dtl run` at a random moment while it writes, until `trials` kills landed
    (rerun after each), then run to the end: every dataset exact."""
    rnd = random.Random(seed)
    cfg, data = os.path.join(root, "cfg"), os.path.join(root, "data")
    _chain(cfg)
    _raw(data, n)
    cmd = [DTL, "run", cfg, "--data", data, "--format", "json"]
    cal = os.path.join(root, "cal")
    shutil.copytree(data, cal)
    window = _window(cmd[:3] + ["--data", cal], [cal])
    shutil.rmtree(cal)
    kills = problems = dups = attempts = missed = 0
    fresh = False
    while kills < trials and attempts < 3 * trials:
        attempts += 1
        if fresh or (kills % 25 == 0 and kills):  # kills land early in runs too, not only in
            _fresh(data, ("src", "dst"))          # resumed ones (a finished run: start over)
        group = rnd.choice(("700,0.05", "1500,0.3", "4000,10"))
        started = _started([data])
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=dict(ENV, DTL_GROUP_COMMIT=group))
        killed = _kill_mid(p, started, window, rnd)
        kills += killed
        missed += not killed
        fresh = not killed
        for name in ("src", "dst"):
            probs, d, _ = _check(data, name, WANT[name])
            problems += len(probs)
            dups += d
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=600)
    lost = 0
    for name in ("src", "dst"):
        probs, d, ids = _check(data, name, WANT[name])
        problems += len(probs)
        dups += d
        lost += n - len(ids)
    return {"trials": trials, "kills": kills, "ended_before_kill": missed,
            "kill_window_s": round(window, 3), "entities": n, "lost": lost,
            "duplicated": dups, "verify_problems": problems, "final_exit": r.returncode}


# -- SIGKILL dtl serve -------------------------------------------------------------------------
def _serve(cfg, data, port, log):
    from tests.service.serve_proc import Served
    return Served(cfg, data, "--no-auth", port=port, log=log)


def _receiver_hub(cfg):
    os.makedirs(os.path.join(cfg, "pipes"), exist_ok=True)
    with open(os.path.join(cfg, "pipes", "inbox.conf.json"), "w") as f:
        json.dump({"_id": "inbox", "type": "pipe", "source": {"type": "http_endpoint"},
                   "transform": {"type": "dtl", "rules": {"default": [
                       ["copy", "*"], ["add", "twice", ["multiply", 2, "_S.n"]]]}}}, f)


def serve_receive(root, trials, seed=2, batch=200):
    """A client posts batches of new entities to a receiver; the server is SIGKILLed at a
    random moment. Every acknowledged batch must be stored whole, every unanswered one whole
    or not at all; no entity twice."""
    import httpx

    from runtime.service.server import free_port
    rnd = random.Random(seed)
    cfg, data = os.path.join(root, "cfg"), os.path.join(root, "data")
    _receiver_hub(cfg)
    acked, unknown = [], []
    seq = [0]
    kills = 0
    for _ in range(trials):
        srv = _serve(cfg, data, free_port(), os.path.join(root, "serve.log")).start()
        stop = threading.Event()

        def post():
            with httpx.Client(base_url=srv.url, timeout=30) as c:
                while not stop.is_set():
                    k = seq[0]
                    seq[0] += 1
                    ids = [f"b{k}-{j}" for j in range(batch)]
                    try:
                        r = c.post("/receivers/inbox/entities",
                                   json=[{"_id": i, "n": j} for j, i in enumerate(ids)])
                        (acked if r.status_code == 200 else unknown).append(ids)
                    except httpx.HTTPError:
                        unknown.append(ids)
                        return
        th = threading.Thread(target=post)
        n0 = len(acked)
        th.start()
        deadline = time.monotonic() + 30     # kill while posts are being answered
        while len(acked) == n0 and time.monotonic() < deadline and th.is_alive():
            time.sleep(0.01)
        time.sleep(rnd.uniform(0.0, 0.5))
        srv.kill()
        kills += 1
        stop.set()
        th.join()
    probs, dups, ids = _check(data, "inbox", lambda e: {"twice": 2 * e["n"]})
    lost = sum(1 for b in acked for i in b if i not in ids)
    torn = sum(1 for b in unknown if 0 < sum(i in ids for i in b) < len(b))
    return {"trials": trials, "kills": kills, "batches_acknowledged": len(acked),
            "batches_unanswered": len(unknown),
            "unanswered_stored_whole": sum(1 for b in unknown if all(i in ids for i in b)),
            "entities_acknowledged": sum(map(len, acked)), "lost": lost, "torn_batches": torn,
            "duplicated": dups, "verify_problems": len(probs)}


def _pumping(cfg, data, root):
    """A `dtl serve` whose pump of the chain has begun writing."""
    import httpx

    from runtime.service.server import free_port
    srv = _serve(cfg, data, free_port(), os.path.join(root, "serve.log")).start()
    started = _started([os.path.join(data, "datasets", name) for name in ("src", "dst")])
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        c.post("/pipes/src/pump", data={"operation": "start"})
    _wait_started(srv.proc, started)
    return srv


def serve_pump(root, trials, seed=3, n=20000):
    """`dtl serve` runs the chain's pumps (scheduler, as deployed) and is SIGKILLed while
    they write; after the last kill `dtl run` finishes the work: every dataset exact."""
    rnd = random.Random(seed)
    cfg, data = os.path.join(root, "cfg"), os.path.join(root, "data")
    _chain(cfg)
    _raw(data, n)

    def done(d):
        return all(_count(d, name) == n for name in ("src", "dst"))
    cal = os.path.join(root, "cal")       # half the time a warm server takes for the chain
    shutil.copytree(data, cal)
    srv = _pumping(cfg, cal, root)
    t0 = time.monotonic()
    while not done(cal) and time.monotonic() < t0 + 300:
        time.sleep(0.01)
    window = max(0.005, (time.monotonic() - t0) / 2)
    srv.kill()
    shutil.rmtree(cal)
    kills = problems = dups = attempts = missed = 0
    fresh = False
    while kills < trials and attempts < 3 * trials:
        attempts += 1
        if fresh or (kills % 10 == 0 and kills):
            _fresh(data, ("src", "dst"))
        srv = _pumping(cfg, data, root)
        time.sleep(rnd.uniform(0, window))
        finished = done(data)     # the server outlives its pumps: was the chain still running?
        srv.kill()
        kills += not finished
        missed += finished
        fresh = finished
        for name in ("src", "dst"):
            probs, d, _ = _check(data, name, WANT[name])
            problems += len(probs)
            dups += d
    r = subprocess.run([DTL, "run", cfg, "--data", data, "--format", "json"],
                       capture_output=True, text=True, env=ENV, timeout=600)
    lost = 0
    for name in ("src", "dst"):
        probs, d, ids = _check(data, name, WANT[name])
        problems += len(probs)
        dups += d
        lost += n - len(ids)
    return {"trials": trials, "kills": kills, "ended_before_kill": missed,
            "kill_window_s": round(window, 3), "entities": n, "lost": lost,
            "duplicated": dups, "verify_problems": problems, "final_exit": r.returncode}


# -- SIGKILL dtl dataset put / compact ---------------------------------------------------------
def dataset_put(root, trials, seed=4, n=20000):
    """SIGKILL `dtl dataset put` of an NDJSON file while it writes, until `trials` kills
    landed; after each kill the dataset verifies and holds no entity twice; the put run
    again stores exactly the rest."""
    rnd = random.Random(seed)
    data = os.path.join(root, "data")
    src = os.path.join(root, "in.ndjson")
    with open(src, "w") as f:
        for i in range(n):
            f.write(json.dumps({"_id": f"p{i:06d}", "n": i, "pad": "y" * (i % 17)}) + "\n")
    cal = os.path.join(root, "cal")       # the largest batches write fastest
    window = _window([DTL, "dataset", "put", "put", src, "--data", cal, "--batch-size",
                      "4000"], [cal])
    shutil.rmtree(cal)
    kills = problems = dups = attempts = missed = 0
    fresh = False
    while kills < trials and attempts < 3 * trials:
        attempts += 1
        if fresh or (kills % 20 == 0 and kills):
            _fresh(data, ("put",))
        started = _started([data])
        p = subprocess.Popen([DTL, "dataset", "put", "put", src, "--data", data,
                              "--batch-size", str(rnd.choice((300, 1000, 4000)))],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        killed = _kill_mid(p, started, window, rnd)
        kills += killed
        missed += not killed
        fresh = not killed
        probs, d, _ = _check(data, "put", lambda e: {"n": int(e["_id"][1:])})
        problems += len(probs)
        dups += d
    subprocess.run([DTL, "dataset", "put", "put", src, "--data", data], env=ENV,
                   capture_output=True, timeout=600)
    probs, d, ids = _check(data, "put", lambda e: {"n": int(e["_id"][1:])})
    return {"trials": trials, "kills": kills, "ended_before_kill": missed,
            "kill_window_s": round(window, 3), "entities": n, "lost": n - len(ids),
            "duplicated": dups + d, "verify_problems": problems + len(probs)}


def _committed_compaction(data, name):
    from storage import log
    recs, _ = log.read(os.path.join(data, "datasets", name, "log"))
    return any(r.get("kind") == "compact" for r in recs)


def compact(root, trials, seed=5, n=4000, versions=6):
    """Each trial writes new versions of every entity, then SIGKILLs `dtl dataset compact`
    while it works, until `trials` kills landed: the dataset verifies and the latest
    version of every _id is the one written last."""
    rnd = random.Random(seed)
    kills = problems = wrong = attempts = missed = before_commit = 0
    v = 0
    window = None
    while kills < trials and attempts < 3 * trials:
        attempts += 1
        # a fresh dataset per trial: a compaction killed every time never shrinks the history,
        # and each trial would read more of it than the last
        data = os.path.join(root, f"data{attempts}")
        with _store(data).open("c", writer=True, create=True) as ds:
            for _k in range(versions):
                v += 1
                ds.append([{"_id": f"c{i:05d}", "v": v, "pad": "z" * (i % 11)}
                           for i in range(n)])
        cmd = [DTL, "dataset", "compact", "c", "--keep-versions", str(rnd.choice((1, 2)))]
        if window is None:
            cal = data + "-cal"
            shutil.copytree(data, cal)
            window = _window(cmd + ["--data", cal], [cal])
            shutil.rmtree(cal)
        started = _started([data])
        p = subprocess.Popen(cmd + ["--data", data], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=ENV)
        killed = _kill_mid(p, started, window, rnd)
        kills += killed
        missed += not killed
        before_commit += killed and not _committed_compaction(data, "c")
        st = _store(data)
        with st.open("c", writer=True) as ds:
            problems += len(ds.verify())
            latest = list(ds.entities())
        wrong += sum(1 for e in latest if e.get("v") != v) + (n - len(latest))
        shutil.rmtree(data, ignore_errors=True)
    return {"trials": trials, "kills": kills, "ended_before_kill": missed,
            "killed_before_commit": before_commit, "kill_window_s": round(window, 3),
            "entities": n, "lost": wrong, "verify_problems": problems}


# -- damaged files -----------------------------------------------------------------------------
def corrupt(root, trials, seed=6, n=3000):
    """A flipped bit or a truncation in one segment or in the commit log of a dataset, or a
    truncated index file: a read (a reader, as the service's) either answers exactly what was
    written or fails with an error naming the file."""
    rnd = random.Random(seed)
    base = os.path.join(root, "base")
    st = _store(base)
    with st.open("d", writer=True, create=True) as ds:
        for k in range(0, n, 1000):
            ds.append([{"_id": f"d{i}", "k": k, "v": "x" * (i % 7)} for i in range(k, k + 1000)])
        ds.set_populated(True)

    def read(r):
        with _store(r).open("d") as ds:
            return [(e["_id"], e.get("k"), e.get("v")) for e in ds.entities(history=True)]
    want = read(base)
    out = {"trials": trials, "exact": 0, "error_names_file": 0, "error_unnamed": 0,
           "silently_wrong": 0, "by_file": {}}
    for t in range(trials):
        r = os.path.join(root, "t")
        shutil.rmtree(r, ignore_errors=True)
        shutil.copytree(base, r)
        d = os.path.join(r, "datasets", "d")
        files = sorted(f for f in os.listdir(d) if f == "log" or f.endswith(".parquet"))
        f = os.path.join(d, rnd.choice(files + [os.path.join("index", "data.mdb")]))
        b = bytearray(open(f, "rb").read())
        # LMDB keeps no page checksums: a flipped bit in the index is not detectable there
        # (the index is derived; `dtl dataset verify` compares it with the segments)
        mode = "truncate" if f.endswith(".mdb") else rnd.choice(("flip", "truncate"))
        if mode == "flip":
            i = rnd.randrange(len(b))
            b[i] ^= 1 << rnd.randrange(8)
        else:
            b = b[:rnd.randrange(len(b))]
        with open(f, "wb") as fh:
            fh.write(bytes(b))
        kind = "log" if f.endswith("log") else "index" if f.endswith(".mdb") else "segment"
        try:
            res = "exact" if read(r) == want else "silently_wrong"
        except Exception as e:  # noqa: BLE001 - the campaign classifies every outcome
            res = "error_names_file" if os.path.basename(f) in str(e) else "error_unnamed"
        out[res] += 1
        key = f"{kind} {mode}"
        out["by_file"].setdefault(key, {}).setdefault(res, 0)
        out["by_file"][key][res] += 1
    return out


# -- secrets -----------------------------------------------------------------------------------
def secrets(root, trials=1, seed=7):
    """A pipe reads from an HTTP system with a `$SECRET` password (a local server checks it);
    then every file under the data directory and every GET route's answer is scanned for the
    secret's text: 0 occurrences."""
    import base64
    import http.server

    import httpx

    from runtime.service.auth import local_key, mint
    from runtime.service.roles import TABLE
    from runtime.service.server import Background, build
    secret = "pw-" + os.urandom(8).hex()
    seen = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            auth = self.headers.get("Authorization") or ""
            ok = auth == "Basic " + base64.b64encode(f"svc:{secret}".encode()).decode()
            seen.append(ok)
            body = json.dumps([{"_id": f"s{i}", "n": i} for i in range(50)]).encode() if ok \
                else b"[]"
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    cfg, data = os.path.join(root, "cfg"), os.path.join(root, "data")
    os.makedirs(os.path.join(cfg, "pipes"))
    os.makedirs(os.path.join(cfg, "systems"))
    with open(os.path.join(cfg, "systems", "api.conf.json"), "w") as f:
        json.dump({"_id": "api", "type": "system:url",
                   "base_url": f"http://127.0.0.1:{httpd.server_address[1]}/",
                   "authentication": "basic", "username": "svc",
                   "password": "$SECRET(api-pw)"}, f)
    with open(os.path.join(cfg, "pipes", "pull.conf.json"), "w") as f:
        json.dump({"_id": "pull", "type": "pipe",
                   "source": {"type": "json", "system": "api", "url": "items"}}, f)
    with open(os.path.join(cfg, "test-secrets.json"), "w") as f:
        json.dump({"api-pw": secret}, f)
    hits, answers = [], 0
    try:
        with Background(build(data, cfg, fsync=False)) as bg, \
                httpx.Client(base_url=bg.url.rsplit("/api", 1)[0], timeout=60, headers={
                    "Authorization": f"Bearer {mint(local_key(data), 'Admin')}"}) as c:
            r = c.post("/api/pipes/pull/pump", data={"operation": "run-to-stable"})
            stored = len(c.get("/api/datasets/pull/entities").json())
            for (method, path) in sorted(TABLE):
                if method != "GET" or path.startswith("/studio"):
                    continue
                url = path.replace("{pipe_id}", "pull").replace("{system_id}", "api") \
                    .replace("{dataset_id}", "pull").replace("{filename}", "x") \
                    .replace("{path:path}", "")
                q = {"entity_id": "pull"} if "entity" in path else None
                a = c.get(url, params=q)
                answers += 1
                if secret in a.text:
                    hits.append(f"GET {url}")
    finally:
        httpd.shutdown()
    os.remove(os.path.join(cfg, "test-secrets.json"))   # the folder's file is the input
    files = 0
    for dp, _dn, fn in os.walk(root):
        for name in fn:
            files += 1
            with open(os.path.join(dp, name), "rb") as f:
                if secret.encode() in f.read():
                    hits.append(os.path.relpath(os.path.join(dp, name), root))
    return {"trials": trials, "secret_used": bool(seen) and all(seen), "entities": stored,
            "run_status": r.status_code, "files_scanned": files, "answers_scanned": answers,
            "occurrences": len(hits), "where": hits}


FAULTS = {"run": run, "serve_receive": serve_receive, "serve_pump": serve_pump,
          "dataset_put": dataset_put, "compact": compact, "corrupt": corrupt,
          "secrets": secrets}
DEFAULT_TRIALS = {"run": 200, "serve_receive": 100, "serve_pump": 60, "dataset_put": 200,
                  "compact": 200, "corrupt": 500, "secrets": 1}


WHAT = {
    "run": "SIGKILL `dtl run` (two-pipe chain, 20k entities, group commits varied)",
    "serve_receive": "SIGKILL `dtl serve` while a client posts 200-entity batches to a receiver",
    "serve_pump": "SIGKILL `dtl serve` while its pumps run the chain (20k entities)",
    "dataset_put": "SIGKILL `dtl dataset put` of 20k NDJSON entities (batch 300-4000)",
    "compact": "SIGKILL `dtl dataset compact` after 6 new versions of 4k entities",
    "corrupt": "one flipped bit or one truncation in a segment or the commit log, or a "
               "truncated index file",
    "secrets": "a run using `$SECRET` (HTTP basic auth), every file and GET answer scanned",
}


def report(results: dict) -> str:
    """The Markdown table of bench/RESULTS-faults.md from the campaign's JSON."""
    rows = ["| fault | trials | kills landed | ended first (retried) | checked after | lost | "
            "duplicated | verify problems | s |", "|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for name in FAULTS:
        r = results.get(name)
        if r is None or name in ("corrupt", "secrets"):
            continue
        extra = {"serve_receive": f"{r.get('batches_acknowledged')} batches acknowledged "
                 f"({r.get('entities_acknowledged')} entities), {r.get('batches_unanswered')} "
                 f"unanswered ({r.get('unanswered_stored_whole')} stored whole, "
                 f"{r.get('torn_batches')} torn)",
                 "compact": "every kill: verify, latest version of every _id "
                 f"({r.get('killed_before_commit', '?')} kills before its commit)"}.get(
                     name, "every kill, and the run to the end")
        rows.append(f"| {WHAT[name]} | {r['trials']} | {r['kills']} | "
                    f"{r.get('ended_before_kill', '-')} | {extra} | {r['lost']} "
                    f"| {r.get('duplicated', 0)} | {r['verify_problems']} | {r['seconds']} |")
    out = "\n".join(rows)
    c = results.get("corrupt")
    if c:
        out += ("\n\n| damage | trials | read exactly as written | error naming the file | "
                "error not naming it | silently wrong |\n|---|---:|---:|---:|---:|---:|\n")
        for k, v in sorted(c["by_file"].items()):
            out += (f"| {k} | {sum(v.values())} | {v.get('exact', 0)} | "
                    f"{v.get('error_names_file', 0)} | {v.get('error_unnamed', 0)} | "
                    f"{v.get('silently_wrong', 0)} |\n")
        out += (f"| **all** | {c['trials']} | {c['exact']} | {c['error_names_file']} | "
                f"{c['error_unnamed']} | {c['silently_wrong']} |")
    s = results.get("secrets")
    if s:
        out += (f"\n\nSecrets scan: the secret was used (the HTTP server checked it: "
                f"{s['secret_used']}), {s['entities']} entities read; {s['files_scanned']} "
                f"files under the data and configuration directories and {s['answers_scanned']} "
                f"GET answers scanned: **{s['occurrences']} occurrences**.")
    return out + "\n"


def main(argv=None):
    import tempfile
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, help="trials per fault (default: per fault)")
    ap.add_argument("--only", help="comma-separated fault names")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "faults.json"))
    ap.add_argument("--report", action="store_true", help="print the Markdown of --out")
    a = ap.parse_args(argv)
    names = a.only.split(",") if a.only else list(FAULTS)
    results = {}
    if os.path.exists(a.out):
        with open(a.out) as f:
            results = json.load(f)
    if a.report:
        print(report(results), end="")
        return 0
    for name in names:
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"faults-{name}-") as root:
            res = FAULTS[name](root, a.trials or DEFAULT_TRIALS[name])
        res["seconds"] = round(time.monotonic() - t0, 1)
        results[name] = res
        print(name, json.dumps(res), flush=True)
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
