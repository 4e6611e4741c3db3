"""Crash driver: fork a writer, SIGKILL it at a random moment, reopen, check, repeat.

    python crash_writer.py DIR TRIALS SEED SECONDS   -> prints a JSON summary

The writer appends batches that change every entity they hold (so each committed batch stores
exactly BATCH versions) with the batch number as commit metadata, and compacts now and then.
Half of the writers group their appends (several batches per commit, killed inside groups as
well as inside commits), checkpoint the state often and merge small segments.
After each kill: recovery must leave every committed batch complete and nothing else visible,
and `verify` must pass.
"""

import faulthandler
import json
import os
import random
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from storage import Store  # noqa: E402
from storage import dataset as dsmod  # noqa: E402

BATCH, IDS = 20, 60


def batch(k):
    return [{"_id": f"e{(k * 7 + j) % IDS}", "k": k, "pad": "x" * (k % 13), "n": [j, k]}
            for j in range(BATCH)]


def writer(root):
    grouped = random.random() < 0.5
    if grouped:
        dsmod.CHECKPOINT_EVERY = random.choice((2, 3, 5))
        dsmod.MERGE_AFTER = random.choice((2, 4))
    ds = Store(root).open("c", writer=True, create=True)
    ds.group_rows = random.choice((BATCH * 2, BATCH * 3 + 1, BATCH * 5))
    ds.group_seconds = random.choice((0.005, 0.02, 10.0))
    if random.random() < 0.3:
        ds.ensure_index(("k",))
    k = ds.meta.get("batch", -1)
    while True:
        k += 1
        ds.append(batch(k), meta={"batch": k}, group=grouped)
        if k % 7 == 6 and (not grouped or random.random() < 0.3):
            ds.compact(keep_versions=1)


def check(root):
    with Store(root).open("c", writer=True, create=True) as ds:
        last = ds.meta.get("batch", -1)
        want = {}
        for k in range(last + 1):
            for e in batch(k):
                want[e["_id"]] = k
        got = {e["_id"]: e["k"] for e in ds.entities()}
        assert got == want, f"latest versions after batch {last} disagree"
        hist = list(ds.entities(history=True))
        assert all(e["k"] <= last for e in hist), "a version from an uncommitted batch is visible"
        assert len(hist) == ds.info()["count-log-exists"]
        probs = ds.verify()
        assert not probs, probs
        if ds.index.paths():
            hits = ds.lookup(("k",), [last])
            assert sorted(e["_id"] for e in hits) == sorted(i for i, k in want.items() if k == last)
        return last


def main():
    faulthandler.dump_traceback_later(float(os.environ.get("CRASH_HANG_S", "200")), exit=True)
    root, trials, seed, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    rng = random.Random(seed)
    t_end = time.monotonic() + seconds
    done = batches = 0
    for t in range(trials):
        if time.monotonic() > t_end:
            break
        if t % 25 == 0:
            shutil.rmtree(root, ignore_errors=True)
        pid = os.fork()
        if pid == 0:
            random.seed(seed * 1000 + t)
            try:
                writer(root)
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.0, 0.06))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        batches = max(batches, check(root) + 1)
        done += 1
    print(json.dumps({"trials": done, "max_batches": batches}))


if __name__ == "__main__":
    main()
