"""A worker SIGKILLed in the middle of a pump run by shard: the run (Dask runs the task again)
or a rerun ends with exactly the expected contents - every entity once, no version twice."""

import os
import random
import signal
import threading
import time

import pytest

import fixture
from runtime.config import load_config
from runtime.executor import DistributedHub
from runtime.executor.compare import differences, snapshot
from runtime.executor.engine import DaskEngine
from runtime.hub import Hub
from storage import Store

N_COLUMNAR = 40_000   # > 2 columnar batches of 16,384 rows per shard... 20,000: two per shard
N_ENTITY = 12_000     # 60 batches of 100 per shard


def _shard_rows(data, name, n):
    st = Store(data)
    if not st.exists(name):
        return 0
    total = 0
    for k in range(n):
        ds = st.open_shard(name, k)
        try:
            total += ds.info()["count-log-exists"]
        finally:
            ds.close()
    return total


@pytest.mark.parametrize("case", ["columnar-1", "columnar-2", "entity-path"])
def test_sigkill_worker_mid_run(case, tmp_path, monkeypatch):
    t0 = time.monotonic()
    N = N_ENTITY if case == "entity-path" else N_COLUMNAR
    # commits every few batches, so a kill lands between commits of a shard
    monkeypatch.setenv("DTL_GROUP_COMMIT", "500,0.1")
    if case == "entity-path":
        monkeypatch.setenv("DTL_COLUMNAR", "0")
    a = fixture.write(str(tmp_path / "cfg-local"), n=N)
    b = fixture.write(str(tmp_path / "cfg-dask"), n=N)
    la, db = str(tmp_path / "data-local"), str(tmp_path / "data-dask")
    h = Hub(load_config(a, lenient=True), la)
    assert h.run(["people", "people-simple"]).ok
    h.close()
    expected = snapshot(la)

    def slow(spec):   # the shard tasks of people-simple take seconds: time to kill one
        if spec.pipe_id == "people-simple" and spec.shard is not None:
            spec.sleep_per_batch = 0.1 if case == "entity-path" else 1.5

    engine = DaskEngine(workers=2, task_timeout=180)
    try:
        pids = list(engine.worker_pids().values())
        cfg = load_config(b, lenient=True)
        hub = DistributedHub(cfg, db, engine=engine, shards=2, task_hook=slow)
        out = {}
        th = threading.Thread(target=lambda: out.setdefault(
            "s", hub.run(["people", "people-simple"])), daemon=True)
        th.start()
        deadline = time.monotonic() + 300   # a loaded 2-core machine
        while time.monotonic() < deadline:
            done = _shard_rows(db, "people-simple", 2)
            if 0 < done < N:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the shard tasks never got under way")
        assert th.is_alive()   # the kill lands in the middle of the run
        victim = random.choice(pids)
        os.kill(victim, signal.SIGKILL)
        th.join(180)
        assert not th.is_alive(), "the run did not end after the kill"
        hub.close()
        first = out["s"]
        # the run ended (Dask ran the killed task again) or reported the pipe failed; either
        # way a rerun ends with exactly the expected contents
        hub = DistributedHub(load_config(b, lenient=True), db, engine=engine, shards=2)
        again = hub.run(["people", "people-simple"])
        hub.close()
        assert again.ok, again.as_dict()
        got = snapshot(db)
        assert differences(expected, got) == []
        assert _shard_rows(db, "people-simple", 2) == N       # no version stored twice
        ds = Store(db).open("people-simple")
        try:
            assert ds.verify() == []
        finally:
            ds.close()
        assert first.pipes["people-simple"].status in ("ok", "failed")
    finally:
        engine.close()
    assert time.monotonic() - t0 < 600
