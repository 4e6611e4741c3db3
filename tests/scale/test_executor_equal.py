"""The dask executor gives the same datasets as the default one (by `_id` and content hash),
at the worker counts of DTL_SCALE_WORKERS (default 1,2; CI stays within two minutes on a
loaded 2-core machine: set 1,2,4 for more), on our own configurations - the fixture (pipes by
shard and whole, incremental second run), an invented Sesam-shaped node (namespaced
identifiers, merge, a global pipe, apply-hops, a changed `_id`, an inverse join) and the
example hub - and on the node folders named in DTL_SCALE_NODES (none in CI: other
repositories are not part of ours)."""

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

import fixture
import node_fixture
from runtime.config import load_config
from runtime.executor import INLINE_BELOW, DistributedHub
from runtime.executor.engine import InlineEngine
from runtime.executor.compare import differences, snapshot
from runtime.hub import Hub

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "hub")
BOUND = 240   # seconds for one configuration's runs on a 2-core machine
WORKERS = [int(w) for w in os.environ.get("DTL_SCALE_WORKERS", "1,2").split(",") if w]


def _local(cfg_dir, data, profile=None):
    hub = Hub(load_config(cfg_dir, profile=profile, lenient=True), data)
    try:
        s = hub.run()
    finally:
        hub.close()
    return s


def _dask(engine, cfg_dir, data, shards, profile=None, inline_below=0):
    """A dask run; by default every task is shipped to the workers (no small pipes in the
    driver: these configurations are small, and the workers are what is tested)."""
    hub = DistributedHub(load_config(cfg_dir, profile=profile, lenient=True), data,
                         engine=engine, shards=shards, profile=profile,
                         inline_below=inline_below)
    try:
        s = hub.run()
    finally:
        hub.close()
    return s, hub


def _twins(writer, tmp_path, stem, **kw):
    """Two copies of one invented configuration written by WRITER (one for the local run, one
    for dask) and their two data directories."""
    a = writer.write(str(tmp_path / f"{stem}-local"), **kw)
    b = writer.write(str(tmp_path / f"{stem}-dask"), **kw)
    return a, b, str(tmp_path / "data-local"), str(tmp_path / "data-dask")


@pytest.mark.parametrize("workers", WORKERS)
def test_fixture_same_datasets(workers, dask_engines, tmp_path):
    t0 = time.monotonic()
    engine = dask_engines(workers)
    a, b, la, db = _twins(fixture, tmp_path, "cfg")
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


def test_rerun_in_a_new_data_dir_on_the_same_cluster(dask_engines, tmp_path):
    """The workers keep join views during a run only: a data directory deleted and made again
    under the same path (a long-lived cluster, `dtl run --fresh`) is read as new."""
    import shutil
    engine = dask_engines(WORKERS[0])
    a, b, la, db = _twins(fixture, tmp_path, "cfg", n=200)
    _dask(engine, b, db, shards=2)
    shutil.rmtree(db)
    fixture.write(a, n=200, gen=1)
    fixture.write(b, n=200, gen=1)
    sa, (sb, _) = _local(a, la), _dask(engine, b, db, shards=2)
    assert sa.ok and sb.ok, (sa.as_dict(), sb.as_dict())
    assert differences(snapshot(la), snapshot(db)) == []


@pytest.mark.parametrize("workers", WORKERS)
def test_example_hub_same_datasets(workers, dask_engines, copy_tree, tmp_path):
    t0 = time.monotonic()
    a, b = copy_tree(EXAMPLE, "hub-local"), copy_tree(EXAMPLE, "hub-dask")
    la, db = str(tmp_path / "data-local"), str(tmp_path / "data-dask")
    sa = _local(a, la, profile="test")
    # the default: these small pipes run in the driver, the pipes' tasks as on the workers
    sb, hub = _dask(dask_engines(workers), b, db, shards=workers, profile="test",
                    inline_below=INLINE_BELOW)
    assert sa.ok and sb.ok, (sa.as_dict(), sb.as_dict())
    here = {t.pipe for t in hub.tasks if t.pid == os.getpid()}
    assert {"crm-person", "global-person"} <= here      # embedded; a merge of small datasets
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


@pytest.mark.parametrize("workers", WORKERS)
def test_node_fixture_same_datasets(workers, dask_engines, tmp_path):
    """An invented node shaped like real ones, two generations, each run until stable."""
    t0 = time.monotonic()
    engine = dask_engines(workers)
    a, b, la, db = _twins(node_fixture, tmp_path, "node")
    for gen in (0, 1):
        node_fixture.write(a, gen)
        node_fixture.write(b, gen)
        sa, (sb, hub) = _local(a, la), _dask(engine, b, db, shards=workers)
        assert sa.ok and sb.ok, (sa.as_dict(), sb.as_dict())
        snap = snapshot(db)
        assert differences(snapshot(la), snap) == [], f"generation {gen}"
        # the merge joined contacts into employees; the filter and the joins kept something
        assert len(snap["merge-person"]) < len(snap["hr-employee"]) + len(snap["crm-contact"])
        assert snap["person-skills"] and snap["dept-headcount"]
    sharded = {t.pipe for t in hub.tasks if t.shard is not None and not t.foreign}
    assert {"global-person", "person-skills", "dept-headcount"} <= sharded
    from storage import Store
    ds = Store(db).open("global-person")
    try:   # the renamed department reached the people in it (dependency tracking by shard)
        assert ds.get("hr-employee:e2")["global-person:dept-title"] == "Dept 2 (renamed)"
    finally:
        ds.close()
    assert time.monotonic() - t0 < BOUND


def _by_city(pipe_id, source, key):
    """A pipe that maps several source entities to one `_id` (the last one read wins)."""
    return {"_id": pipe_id, "type": "pipe",
            "source": {"type": "dataset", "dataset": source},
            "transform": {"type": "dtl", "rules": {"default": [
                ["add", "_id", ["concat", "k-", ["string", key]]], ["add", "last", "_S._id"]]}}}


# over a whole writer's dataset, a columnar shard task's (keys from its source versions) and
# an entity-path shard task's whose city rename re-reads dependents (REQUEUE keys)
MANY_TO_ONE = [_by_city("by-city", "people", "_S.city"),
               _by_city("by-city-simple", "people-simple", "_S.score"),
               _by_city("by-city-join", "people-join", "_S.city_name")]


@pytest.mark.parametrize("shards", [2, 3])
def test_many_to_one_id_follows_source_order(shards, tmp_path):
    """The winner of several source entities mapped to one `_id` is the default executor's:
    whole reads of partitioned datasets merge the shards by order key. Two generations
    (changes, removals, a renamed city), each run until stable; the tasks in this process
    (InlineEngine): the plan and the storage, no cluster."""
    a, b = str(tmp_path / "cfg-local"), str(tmp_path / "cfg-dask")
    la, db = str(tmp_path / "data-local"), str(tmp_path / "data-dask")
    for gen in (0, 1):
        for d in (a, b):
            fixture.write(d, n=200, gen=gen)
            for p in MANY_TO_ONE:
                with open(os.path.join(d, "pipes", f"{p['_id']}.conf.json"), "w") as f:
                    json.dump(p, f)
        sa = _local(a, la)
        sb, hub = _dask(InlineEngine(), b, db, shards=shards)
        assert sa.ok and sb.ok, (sa.as_dict(), sb.as_dict())
        snap = snapshot(db)
        assert differences(snapshot(la), snap) == [], f"generation {gen}"
        assert len(snap["by-city"]) == 13 and len(snap["by-city-simple"]) == 100
        assert len(snap["by-city-join"]) == 13 + gen        # + the renamed city
        whole = {t.pipe for t in hub.tasks if t.shard is None}
        assert {"by-city", "by-city-simple", "by-city-join"} <= whole
        if gen == 0:   # the last person of city 0 in the json file
            from storage import Store
            ds = Store(db).open("by-city")
            try:
                assert ds.get("k-c-0")["last"] == "p-195"
            finally:
                ds.close()
    # the city rename re-read people-join's dependents in its shard tasks
    assert any(t.run.get("queued") for t in hub.tasks if t.pipe == "people-join"), \
        [t.run for t in hub.tasks if t.pipe == "people-join"]


def test_new_pipe_over_an_unpartitioned_dataset(tmp_path):
    """A data directory the default executor made (unpartitioned datasets), then a new pipe
    run by the dask executor: its new sink is partitioned, its source is not, so it runs
    whole - on the columnar path, through the whole writer's order keys."""
    a = fixture.write(str(tmp_path / "cfg"), n=300)
    data = str(tmp_path / "data")
    _local(a, data)
    by_score = _by_city("by-score", "people-simple", "_S.score")
    by_score["transform"]["rules"]["default"] = [            # a columnar rule
        ["add", "_id", ["concat", "s-", "_S._id"]], ["add", "score", "_S.score"]]
    with open(os.path.join(a, "pipes", "by-score.conf.json"), "w") as f:
        json.dump(by_score, f)
    sb, hub = _dask(InlineEngine(), a, data, shards=2)
    assert sb.ok, sb.as_dict()
    from storage import Store
    st = Store(data)
    assert st.is_partitioned("by-score") and not st.is_partitioned("people-simple")
    assert [t.shard for t in hub.tasks if t.pipe == "by-score"] == [None]
    ds = st.open("by-score")
    try:   # in the source's order
        assert [e["_id"] for e in ds.entities()] == \
            [f"s-p-{i}" for i in range(300)]
        assert ds.verify() == []
    finally:
        ds.close()


def _nodes():
    return [p for p in os.environ.get("DTL_SCALE_NODES", "").split(os.pathsep) if p]


@pytest.mark.skipif(not _nodes(), reason="DTL_SCALE_NODES names no node folders")
@pytest.mark.parametrize("workers", WORKERS)
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


def test_cli_dask_executor(dask_engines, tmp_path):
    """`dtl run --executor dask` ends as the default run does (on the tests' running cluster,
    `--scheduler`: a cluster of its own would cost a minute on a loaded machine; the local
    cluster that `--workers` starts is the same DaskEngine every other test uses)."""
    a = fixture.write(str(tmp_path / "cfg-local"), n=200)
    b = fixture.write(str(tmp_path / "cfg-dask"), n=200)
    la, db = str(tmp_path / "dl"), str(tmp_path / "dd")
    dtl = [sys.executable, "-m", "cli"] if not os.path.exists(
        os.path.join(os.path.dirname(sys.executable), "dtl")) else \
        [os.path.join(os.path.dirname(sys.executable), "dtl")]
    r1 = subprocess.run(dtl + ["run", a, "--data", la, "--format", "json"],
                        capture_output=True, text=True, timeout=BOUND)
    address = dask_engines(max(WORKERS)).cluster.scheduler_address
    r2 = subprocess.run(dtl + ["run", b, "--data", db, "--format", "json", "--executor", "dask",
                               "--scheduler", address, "--shards", "2", "--inline-below", "0"],
                        capture_output=True, text=True, timeout=BOUND)
    assert r1.returncode == 0, r1.stderr
    assert r2.returncode == 0, r2.stderr
    assert "Traceback" not in r2.stderr
    assert json.loads(r2.stdout)["ok"]
    assert differences(snapshot(la), snapshot(db)) == []
    r3 = subprocess.run(dtl + ["run", b, "--data", db, "--workers", "2"],
                        capture_output=True, text=True, timeout=BOUND)
    assert r3.returncode == 2 and "--executor dask" in r3.stderr
