"""The dask executor gives the same datasets as the default one (by `_id` and content hash),
with 1, 2 and 4 workers, on our fixture (pipes by shard and whole, incremental second run),
on the example hub and on the node folders named in DTL_SCALE_NODES."""

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

import fixture
from runtime.config import load_config
from runtime.executor import DistributedHub
from runtime.executor.compare import differences, snapshot
from runtime.hub import Hub

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "hub")
BOUND = 240   # seconds for one configuration's runs on a 2-core machine


def _local(cfg_dir, data, profile=None):
    hub = Hub(load_config(cfg_dir, profile=profile, lenient=True), data)
    try:
        s = hub.run()
    finally:
        hub.close()
    return s


def _dask(engine, cfg_dir, data, shards, profile=None):
    hub = DistributedHub(load_config(cfg_dir, profile=profile, lenient=True), data,
                         engine=engine, shards=shards, profile=profile)
    try:
        s = hub.run()
    finally:
        hub.close()
    return s, hub


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_fixture_same_datasets(workers, dask_engines, tmp_path):
    t0 = time.monotonic()
    engine = dask_engines(workers)
    a = fixture.write(str(tmp_path / "cfg-local"))
    b = fixture.write(str(tmp_path / "cfg-dask"))
    la, db = str(tmp_path / "data-local"), str(tmp_path / "data-dask")
    sa = _local(a, la)
    sb, hub = _dask(engine, b, db, shards=workers)
    assert sa.ok and sb.ok, (sa.as_dict(), sb.as_dict())
    assert differences(snapshot(la), snapshot(db)) == []
    assert len(snapshot(db)["people-simple"]) == 600
    sharded = {t.pipe for t in hub.tasks if t.shard is not None and not t.foreign}
    whole = {t.pipe for t in hub.tasks if t.shard is None}
    assert {"people-simple", "people-join", "people-high", "people-orders"} <= sharded
    assert {"people", "people-contact"} <= whole
    if workers > 1:   # a changed _id moves entities to other shards: the pipe runs whole
        assert "people-rekey" in whole
        assert "people-rekey" in json.load(open(os.path.join(db, "executor", "whole.json")))
    # generation 1: changes, removals (the json source is read whole: deletion tracking), a
    # renamed city (dependency tracking through the hops join)
    fixture.write(a, gen=1)
    fixture.write(b, gen=1)
    sa, (sb, _) = _local(a, la), _dask(engine, b, db, shards=workers)
    assert sa.ok and sb.ok
    snap = snapshot(db)
    assert differences(snapshot(la), snap) == []
    assert sum(not d for _, d in snap["people"].values()) == 600 - 86   # every 7th removed
    from storage import Store
    ds = Store(db).open("people-join")
    try:   # p-16 lives in c-3, renamed: the join followed it
        assert ds.get("p-16")["city_name"] == "city 3 renamed"
    finally:
        ds.close()
    assert time.monotonic() - t0 < BOUND


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_example_hub_same_datasets(workers, dask_engines, copy_tree, tmp_path):
    t0 = time.monotonic()
    a, b = copy_tree(EXAMPLE, "hub-local"), copy_tree(EXAMPLE, "hub-dask")
    la, db = str(tmp_path / "data-local"), str(tmp_path / "data-dask")
    sa = _local(a, la, profile="test")
    sb, _ = _dask(dask_engines(workers), b, db, shards=workers, profile="test")
    assert sa.ok and sb.ok, (sa.as_dict(), sb.as_dict())
    snap = snapshot(db)
    assert differences(snapshot(la), snap) == []
    assert snap["global-person"] and snap["crm-person"]
    # the sql sink's table too
    rows = []
    for d in (a, b):
        with sqlite3.connect(os.path.join(d, "out", "warehouse.sqlite")) as c:
            rows.append(sorted(c.execute("select * from person").fetchall()))
    assert rows[0] == rows[1] and rows[0]
    assert time.monotonic() - t0 < BOUND


def _nodes():
    return [p for p in os.environ.get("DTL_SCALE_NODES", "").split(os.pathsep) if p]


@pytest.mark.skipif(not _nodes(), reason="DTL_SCALE_NODES names no node folders")
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_nodes_same_datasets(workers, dask_engines, copy_tree, tmp_path):
    """Node folders from outside (one pass each: such configurations need not be stable);
    datasets that differ between two runs of the default executor are not compared."""
    for i, node in enumerate(_nodes()):
        a, a2, b = (copy_tree(node, f"n{i}-{k}") for k in ("l", "l2", "d"))
        la, la2, db = (str(tmp_path / f"n{i}-data-{k}") for k in ("l", "l2", "d"))
        snaps = []
        for cfg, data in ((a, la), (a2, la2)):
            h = Hub(load_config(cfg, lenient=True), data)
            h.run(until_stable=False)
            h.close()
            snaps.append(snapshot(data))
        h = DistributedHub(load_config(b, lenient=True), db, engine=dask_engines(workers),
                           shards=workers)
        h.run(until_stable=False)
        h.close()
        stable = {k for k in snaps[0] if snaps[0][k] == snaps[1].get(k)}
        got = snapshot(db)
        assert differences({k: snaps[0][k] for k in stable},
                           {k: got.get(k, {}) for k in stable}) == []


def test_cli_dask_executor(tmp_path):
    """`dtl run --executor dask --workers 2` ends as the default run does."""
    a = fixture.write(str(tmp_path / "cfg-local"), n=200)
    b = fixture.write(str(tmp_path / "cfg-dask"), n=200)
    la, db = str(tmp_path / "dl"), str(tmp_path / "dd")
    dtl = [sys.executable, "-m", "cli"] if not os.path.exists(
        os.path.join(os.path.dirname(sys.executable), "dtl")) else \
        [os.path.join(os.path.dirname(sys.executable), "dtl")]
    r1 = subprocess.run(dtl + ["run", a, "--data", la, "--format", "json"],
                        capture_output=True, text=True, timeout=BOUND)
    r2 = subprocess.run(dtl + ["run", b, "--data", db, "--format", "json", "--executor", "dask",
                               "--workers", "2"], capture_output=True, text=True, timeout=BOUND)
    assert r1.returncode == 0, r1.stderr
    assert r2.returncode == 0, r2.stderr
    assert "Traceback" not in r2.stderr
    assert json.loads(r2.stdout)["ok"]
    assert differences(snapshot(la), snapshot(db)) == []
    r3 = subprocess.run(dtl + ["run", b, "--data", db, "--workers", "2"],
                        capture_output=True, text=True, timeout=BOUND)
    assert r3.returncode == 2 and "--executor dask" in r3.stderr
