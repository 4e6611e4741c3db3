"""SIGKILL `dtl run` at random points, repeatedly; the rerun must end with exactly the expected
datasets: no entity lost, none stored twice (one version per _id), offsets consistent."""

import os
import random
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kill_config  # noqa: E402

N = 50000
DTL = os.path.join(os.path.dirname(sys.executable), "dtl")


def test_sigkill_mid_run_then_rerun_is_exact(tmp_path):
    from storage import Store
    cfg, data = str(tmp_path / "cfg"), str(tmp_path / "data")
    kill_config.write(cfg, N)
    store = Store(data)
    with store.open("raw", writer=True, create=True) as ds:
        for k in range(0, N, 5000):
            ds.append([{"_id": f"e{i:05d}", "n": i} for i in range(k, k + 5000)])
        ds.set_populated(True)
    rnd = random.Random(7)
    kills, deadline = 0, time.monotonic() + 40
    env = dict(os.environ, PYTHONPATH=ROOT)
    while time.monotonic() < deadline and kills < 12:
        # storage commits group many batches: kill inside groups as well as between commits
        group = rnd.choice(("700,0.05", "1500,0.3", "4000,10"))
        p = subprocess.Popen([DTL, "run", cfg, "--data", data, "--format", "json"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=dict(env, DTL_GROUP_COMMIT=group))
        time.sleep(rnd.uniform(0.3, 1.4))
        if p.poll() is not None:
            break
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
    r = subprocess.run([DTL, "run", cfg, "--data", data, "--format", "json"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert kills >= 1
    for name, want in (("src", lambda i: {"n": i, "double": 2 * i}),
                       ("dst", lambda i: {"sum": 3 * i, "tag": f"t-{i}"})):
        with store.open(name, writer=True) as ds:       # recovers any torn tail
            assert ds.verify() == []
            versions = list(ds.entities(history=True))
            ids = [e["_id"] for e in versions]
            assert len(ids) == len(set(ids)) == N, (name, len(ids), len(set(ids)))
            for e in versions:
                i = int(e["_id"][1:])
                assert {k: e[k] for k in want(i)} == want(i)
                assert not e["_deleted"]
            assert ds.meta["pump"]["since"] == ds.last_offset if name == "src" else True
