"""Datasets: change detection, reads, indexes, deletes, deletion tracking, compaction, writers."""

import multiprocessing
import os
import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest

import dtl
from dtl.values import NI
from storage import EntityError, Store, StoreProvider, WriterLockedError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def store(tmp_path):
    return Store(str(tmp_path / "data"), fsync=False)


@pytest.fixture
def ds(store):
    d = store.open("people", writer=True, create=True)
    yield d
    d.close()


def ids(ents):
    return [e["_id"] for e in ents]


def test_only_changed_versions_are_stored(ds):
    s = ds.append([{"_id": "a", "x": 1}, {"_id": "b", "x": 1}])
    assert (s.stored, s.first_offset, s.last_offset) == (2, 0, 1)
    segs = ds.info()["segments"]
    s = ds.append([{"_id": "a", "x": 1, "_updated": 7, "_ts": 1}, {"_id": "b", "x": 1.0}])
    assert (s.stored, s.unchanged) == (1, 1)
    s = ds.append([{"x": 1, "_id": "a"}, {"_id": "b", "x": 1.0}])
    assert (s.stored, s.unchanged, s.seq) == (0, 2, None)
    assert ds.info()["segments"] == segs + 1
    e = ds.get("b")
    assert (e["_updated"], e["_previous"], e["x"], type(e["x"])) == (2, 1, 1.0, float)
    assert len(e["_hash"]) == 32 and e["_deleted"] is False
    # duplicates inside one batch: each compared with the one before
    s = ds.append([{"_id": "c", "v": 1}, {"_id": "c", "v": 1}, {"_id": "c", "v": 2}])
    assert s.stored == 2 and ds.get("c")["_previous"] == 3
    assert ds.append([{"_id": "c", "v": 2}], force=True).stored == 1


def test_reads_since_history_limit_and_counts(ds):
    ds.append([{"_id": "a", "v": 1}, {"_id": "b", "v": 1}])
    ds.append([{"_id": "a", "v": 2}, {"_id": "c", "v": 1, "_deleted": True}])
    assert [(e["_id"], e["_updated"]) for e in ds.entities()] == [("b", 1), ("a", 2), ("c", 3)]
    assert [e["_updated"] for e in ds.entities(history=True)] == [0, 1, 2, 3]
    assert [e["_updated"] for e in ds.entities(since=1, history=True)] == [2, 3]
    assert ids(ds.entities(deleted=False)) == ["b", "a"]
    assert [e["_updated"] for e in ds.entities(history=True, limit=3)] == [0, 1, 2]
    assert [v["v"] for v in ds.history("a")] == [1, 2]
    assert ds.get("c")["_deleted"] is True and ds.get("zz") is None
    assert ds.counts() == {"count-log-exists": 3, "count-log-deleted": 1,
                           "count-index-exists": 2, "count-index-deleted": 1}
    b = next(ds.batches(history=True))
    assert {"_updated", "_id", "body", "p:v"} <= set(b.schema.names)
    assert b.column("p:v").to_pylist() == [1, 1]  # one segment per committed batch


def test_meta_and_populated_commit_with_batches(ds, store):
    assert ds.populated is False
    ds.append([{"_id": "a"}], meta={"pipe": 5})
    ds.commit_meta({"pipe": 6}, populated=True)
    assert ds.meta == {"pipe": 6} and ds.populated
    r = store.open("people")
    assert r.meta == {"pipe": 6} and r.populated and r.get("a")["_id"] == "a"
    r.close()


def test_bad_input_names_entity_and_writes_nothing(ds):
    ds.append([{"_id": "a", "v": 1}])
    with pytest.raises(EntityError) as ei:
        ds.append([{"_id": "b"}, {"v": 2}, "nope", {"_id": "c", "v": float("nan")}])
    msg = str(ei.value)
    assert "entity #1: missing _id" in msg and "entity #2: not an object" in msg and "'c'" in msg
    assert ds.get("b") is None and ds.info()["last_offset"] == 0 and ds.verify() == []
    s = ds.append([{"_id": "b"}, {"v": 2}], skip_invalid=True)
    assert (s.stored, s.invalid) == (1, 1) and ds.get("b")


def test_deletes_and_deletion_tracking(ds):
    ds.append([{"_id": str(i), "v": i} for i in range(6)])
    assert ds.delete(["1", "nope"]).stored == 1
    start = ds.last_offset
    ds.append([{"_id": "5", "v": 50}])  # a concurrent incremental write after the run started
    n = ds.track_deletions({"0", "2"}, run_started_offset=start, mark=True)
    assert n == 2  # 3 and 4; 1 already deleted; 5 newer than the run
    assert ds.get("3")["_deleted"] and ds.get("3")["$deletion_tracked"] and ds.get("3")["v"] == 3
    assert not ds.get("5")["_deleted"]
    assert ids(ds.entities(deleted=False)) == ["0", "2", "5"]
    assert ds.verify() == []


def test_secondary_indexes_and_provider_hops(store):
    with store.open("orders", writer=True, create=True) as o:
        o.append([{"_id": "o1", "customer": NI("c:1"), "amount": 5},
                  {"_id": "o2", "customer": [NI("c:1"), NI("c:2")], "amount": Decimal("7.5")},
                  {"_id": "o3", "customer": None, "amount": 1}])
        o.ensure_index(("customer",))
        assert ids(o.lookup(("customer",), [NI("c:1")])) == ["o1", "o2"]
        o.append([{"_id": "o1", "customer": NI("c:3"), "amount": 5}, {"_id": "o2", "_deleted": True}])
        assert ids(o.lookup(("customer",), [NI("c:1"), NI("c:2")])) == []
        assert ids(o.lookup(("customer",), [NI("c:3"), None])) == ["o1"]
        assert ids(o.lookup(("amount",), [5.0, 1])) == ["o1", "o3"]  # 5 == 5.0; built on demand
        assert o.lookup(("amount",), [True]) == []
        assert o.verify() == []
    prov = StoreProvider(store)
    t = dtl.compile({"default": [["copy", "_id"], ["add", "orders", ["sorted", ["apply-hops", "o", {
        "datasets": ["orders o"], "where": ["eq", "_S.ref", "o.customer"]}]]]],
                     "o": [["copy", "_id"], ["add", "amount", "_S.amount"]]}, provider=prov)
    out = t.apply({"_id": "x", "ref": NI("c:3")})
    assert out[0]["orders"] == [{"_id": "o1", "amount": 5}]
    assert prov.get("orders", "o2") is None and prov.get("orders", "o1")["amount"] == 5
    assert ids(prov.scan("orders")) == ["o1", "o3"] and not prov.has_dataset("nope")
    le = dtl.compile({"default": [["add", "o", ["lookup-entity", "orders", "o3"]]]}, provider=prov)
    assert le.apply({"_id": "y"})[0]["o"]["amount"] == 1
    prov.close()


def test_compaction_keeps_versions_and_readers(ds):
    for v in range(5):
        ds.append([{"_id": "a", "v": v}, {"_id": f"only{v}", "v": v}])
    reader = ds.batches(history=True, batch_size=1)
    first = next(reader)
    with pytest.raises(ValueError):
        ds.compact(keep_versions=0)
    assert ds.compact(keep_versions=2, time_threshold_hours=1)["removed"] == 0  # too young
    r = ds.compact(keep_versions=2, hold_offset=6)  # as if the log ended at offset 6 (a: v0..v3)
    assert r["removed"] == 1
    assert [e["v"] for e in ds.history("a")] == [1, 2, 3, 4]
    assert ds.compact(keep_versions=1)["removed"] == 2
    assert [e["v"] for e in ds.history("a")] == [3, 4]
    rest = [first] + list(reader)  # a reader that started before compaction goes on
    offs = [b.column("_updated")[0].as_py() for b in rest]
    assert offs == sorted(offs) and 8 in offs and 9 in offs
    assert ids(ds.entities()) == ["only0", "only1", "only2", "only3", "a", "only4"]
    assert ds.info()["last_offset"] == 9 and ds.verify() == []
    ds.append([{"_id": "b"}])
    assert ds.get("b")["_updated"] == 10  # offsets are never reused


def test_second_writer_gets_a_clear_error(store, ds):
    with pytest.raises(WriterLockedError, match="already has a writer"):
        store.open("people", writer=True)
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {ROOT!r})
        from storage import Store, WriterLockedError
        try:
            Store({store.root!r}).open("people", writer=True)
        except WriterLockedError as e:
            print("locked", e)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.startswith("locked") and str(os.getpid()) in r.stdout
    ds.append([{"_id": "a"}])
    r = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {ROOT!r})\n"
                        f"from storage import Store\nprint(Store({store.root!r}).open('people').get('a')['_id'])"],
                       capture_output=True, text=True)
    assert r.stdout.strip() == "a", r.stderr


def _append_child(root):
    s = Store(root, fsync=False)
    with s.open("people", writer=True) as d:
        d.append([{"_id": f"c{i}"} for i in range(100)])


def test_readers_in_other_processes_see_only_commits(store, ds):
    ds.close()
    p = multiprocessing.get_context("spawn").Process(target=_append_child, args=(store.root,))
    p.start()
    p.join(60)
    r = store.open("people")
    assert ids(r.entities()) == [f"c{i}" for i in range(100)]
    r.close()


def test_store_lists_and_deletes(store, ds):
    ds.append([{"_id": "a"}])
    with store.open("system:pump_execution:x", writer=True, create=True):
        pass
    assert store.names() == ["people", "system:pump_execution:x"]
    store.delete("system:pump_execution:x")
    assert store.names() == ["people"]


def _nest(depth, wrap):
    v = 1
    for _ in range(depth):
        v = wrap(v)
    return v


@pytest.mark.parametrize("wrap", [lambda v: [v], lambda v: {"a": v}, lambda v: [{"a": v}]],
                         ids=["lists", "dicts", "lists-of-dicts"])
def test_deeply_nested_values_read_back_from_their_segment(store, wrap):
    """A typed column of values nested past Parquet's schema depth limit (100 levels; a list
    takes two) was written and then refused on every read: the segment, and so the dataset
    (the node's stored configuration among them), could not be read again."""
    with store.open("deep", writer=True, create=True) as d:
        d.append([{"_id": f"e{k}", "v": _nest(depth, wrap)}
                  for k, depth in enumerate((3, 30, 60, 127))])
    with store.open("deep") as d:
        got = {e["_id"]: e["v"] for e in d.entities()}
        assert d.verify() == []
    assert got == {f"e{k}": _nest(depth, wrap) for k, depth in enumerate((3, 30, 60, 127))}
    for depth in (3, 30, 60, 127):    # one value per segment: each its own typed column
        with store.open(f"deep{depth}", writer=True, create=True) as d:
            d.append([{"_id": "x", "v": _nest(depth, wrap)}])
        with store.open(f"deep{depth}") as d:
            assert [e["v"] for e in d.entities()] == [_nest(depth, wrap)]
