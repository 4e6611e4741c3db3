"""Partitioned datasets (storage/partitioned.py): stable shard placement, per-shard logs and
offsets, since tokens, and the Dataset interface over the shards."""

import json
import subprocess
import sys

import pytest

from storage import Store, StoreProvider
from storage.errors import EntityError, WriterLockedError
from storage.partitioned import decode_since, encode_since, shard_of


def test_shard_of_is_fixed_by_the_spec():
    # XXH3-64 seed 0 of the UTF-8 bytes, mod N: these values are part of the on-disk format
    from xxhash import xxh3_64_intdigest
    for eid in ("1", "person:42", "ø", "\U0001f600x", ""):
        assert shard_of(eid, 7) == xxh3_64_intdigest(eid.encode()) % 7
    assert [shard_of(str(i), 4) for i in range(8)] == \
        [xxh3_64_intdigest(str(i).encode()) % 4 for i in range(8)]


def test_shard_of_is_the_same_in_another_process():
    ids = [f"id-{i}" for i in range(50)] + ["ø", "日本"]
    code = ("import sys, json; sys.path.insert(0, '.'); from storage.partitioned import shard_of; "
            f"print(json.dumps([shard_of(i, 5) for i in {ids!r}]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONHASHSEED": "123"}, check=True)
    assert json.loads(out.stdout) == [shard_of(i, 5) for i in ids]


def test_tokens_round_trip_and_refuse_garbage():
    assert decode_since(encode_since([3, -1, 7]), 3) == [3, -1, 7]
    assert decode_since(None, 2) == [-1, -1]
    with pytest.raises(ValueError, match="3 offsets"):
        decode_since("p:1,2,3", 2)
    with pytest.raises(ValueError, match="not a partitioned"):
        decode_since(17, 2)
    with pytest.raises(ValueError, match="integers"):
        decode_since("p:1,x", 2)


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path), fsync=False)
    s.create_partitioned("people", 3)
    return s


def _people(n, v=0):
    return [{"_id": f"p{i}", "n": i, "v": v} for i in range(n)]


def test_rows_go_to_their_shard_with_their_own_offsets(store):
    with store.open("people", writer=True) as ds:
        st = ds.append(_people(30), meta={"m": 1})
        assert st.stored == 30
    assert store.exists("people") and store.names() == ["people"]
    for k in range(3):
        with store.open_shard("people", k) as sh:
            ids = [e["_id"] for e in sh.entities()]
            assert ids and all(shard_of(i, 3) == k for i in ids)
            # offsets count per shard from 0
            assert [e["_updated"] for e in sh.entities()] == list(range(len(ids)))
            assert sh.meta == {"m": 1}
    with store.open("people") as ds:
        assert ds.verify() == []
        assert ds.get("p7")["n"] == 7
        assert sorted(e["_id"] for e in ds.entities()) == sorted(f"p{i}" for i in range(30))
        assert ds.info()["entities"] == 30
        assert ds.lookup(("v",), [0])[0]["_id"] == "p0"


def test_since_token_continues_per_shard(store):
    with store.open("people", writer=True) as ds:
        ds.append(_people(10))
    with store.open("people") as ds:
        seen, tok = [], None
        for b, tok in ds.entity_batches(batch_size=3):
            seen += [e["_id"] for e in b]
        assert len(seen) == 10 and tok == ds.last_offset
    with store.open("people", writer=True) as ds:
        ds.append([{"_id": "p3", "n": 3, "v": 1}, {"_id": "new", "n": 99}])
    with store.open("people") as ds:
        again = [e["_id"] for e in ds.entities(since=tok)]
        assert sorted(again) == ["new", "p3"]


def test_one_writer_per_shard(store):
    w = store.open_shard("people", 1, writer=True)
    try:
        with store.open_shard("people", 0, writer=True) as other:   # another shard: fine
            other.append([{"_id": "x"}])
        with pytest.raises(WriterLockedError):
            store.open("people", writer=True)
    finally:
        w.close()


def test_strict_append_is_all_or_nothing(store):
    with store.open("people", writer=True) as ds:
        with pytest.raises(EntityError):
            ds.append(_people(5) + [{"_id": "bad", "x": float("nan")}])
        assert ds.info()["entities"] == 0
        st = ds.append(_people(5) + [{"_id": "bad", "x": float("nan")}], skip_invalid=True)
        assert st.stored == 5 and st.problems[0][0] == 5


def test_deletion_tracking_and_provider(store):
    with store.open("people", writer=True) as ds:
        ds.append(_people(12))
        start = ds.last_offset
        ds.append(_people(6, v=2))
        n = ds.track_deletions({f"p{i}" for i in range(6)}, start)
        assert n == 6
        assert ds.populated is False
        ds.set_populated()
        assert ds.populated
    p = StoreProvider(store)
    try:
        assert p.get("people", "p8") is None and p.get("people", "p1")["v"] == 2
        assert [e["_id"] for e in p.scan("people")] == sorted(f"p{i}" for i in range(6))
        cache = p.derived("people")
        cache["view"] = 1
        assert p.derived("people") == {"view": 1}
        with store.open("people", writer=True) as ds:
            ds.append([{"_id": "p1", "v": 3}])
        assert p.derived("people") == {}      # any shard's commit empties derived views
    finally:
        p.close()


def test_whole_reads_merge_the_shards_in_write_order(store):
    """Order keys: a whole read sees the versions in the order they were written, over several
    writers (each open is a later epoch), updates, compaction of small segments and deletion
    tracking (after the run's writes, in `_id` order), and resumes from any token in it."""
    order = [f"p{(i * 7) % 40}" for i in range(40)]          # not in any shard's order
    with store.open("people", writer=True) as ds:
        for k in range(0, 40, 4):                           # 10 commits: small segments
            ds.append([{"_id": e, "v": 0} for e in order[k:k + 4]])
    with store.open("people") as ds:
        assert [e["_id"] for e in ds.entities()] == order
    later = ["p5", "p33", "p0", "p17"]
    with store.open("people", writer=True) as ds:           # a second writer: a later epoch
        start = ds.last_offset
        ds.append([{"_id": e, "v": 1} for e in later], group=True)
        gone = sorted(set(order[30:]) - set(later))
        assert ds.track_deletions(set(later) | set(order[:30]), start) == len(gone) == 7
    with store.open("people") as ds:
        ids = [e["_id"] for e in ds.entities()]
        assert ids == [e for e in order if e not in later + gone] + later + gone
        toks = [e["_updated"] for e in ds.entities()]
        # every token resumes at the next version of the merged order
        for i in (0, 9, 35, len(ids) - 2):
            assert [e["_id"] for e in ds.entities(since=toks[i])] == ids[i + 1:]
        assert ds.verify() == []


def test_order_keys_survive_segment_merges(store):
    from storage.dataset import MERGE_AFTER
    order = [f"p{(i * 11) % 60}" for i in range(60)]
    with store.open("people", writer=True) as ds:
        for e in order:                                    # one commit each: merged runs
            ds.append([{"_id": e}])
        assert max(s.info()["segments"] for s in ds.shards) < MERGE_AFTER
    with store.open("people") as ds:
        assert [e["_id"] for e in ds.entities()] == order


def test_shards_without_order_keys_read_shard_by_shard(store):
    """A dataset written before order keys (shard writers of their own, no keys): whole reads
    go shard by shard, as they did; versions written with keys later come after them."""
    for k in range(3):
        with store.open_shard("people", k, writer=True) as sh:
            sh.append([e for e in _people(20) if shard_of(e["_id"], 3) == k])
    with store.open("people") as ds:
        ids = [e["_id"] for e in ds.entities()]
        assert ids == [e["_id"] for k in range(3) for e in _people(20)
                       if shard_of(e["_id"], 3) == k]
    with store.open("people", writer=True) as ds:
        ds.append([{"_id": "p19", "v": 2}, {"_id": "p0", "v": 2}])
    with store.open("people") as ds:
        assert [e["_id"] for e in ds.entities()][-2:] == ["p19", "p0"]
