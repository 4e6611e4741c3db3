"""Group commits, incremental and checkpointed state, merging of small segments."""

import os

import pytest

from storage import Store, log, state
from storage import dataset as dsmod


@pytest.fixture
def store(tmp_path):
    return Store(str(tmp_path / "data"), fsync=False)


def ids(ents):
    return [e["_id"] for e in ents]


def test_grouped_appends_commit_together_with_their_meta(store):
    w = store.open("g", writer=True, create=True)
    w.group_seconds = 3600
    st = w.append([{"_id": "a", "v": 1}], meta={"since": 1}, group=True)
    assert st.stored == 1 and st.seq is None and st.first_offset == 0
    # staged versions count for change detection and for the writer's get
    st = w.append([{"_id": "a", "v": 1}, {"_id": "b"}], meta={"since": 2}, group=True)
    assert (st.stored, st.unchanged, st.first_offset) == (1, 1, 1)
    assert w.get("a")["v"] == 1 and w.get("a")["_updated"] == 0
    w.append([{"_id": "a", "v": 2}], group=True)
    assert w.get("a")["_previous"] == 0
    r = store.open("g")
    assert list(r.entities()) == [] and r.meta == {}      # nothing observable yet
    seq = w.flush()
    assert seq is not None and w.flush() is None
    assert ids(r.entities()) == ["b", "a"] and r.meta == {"since": 2}
    assert r.info()["segments"] == 1 and [e["v"] for e in r.history("a")] == [1, 2]
    assert r.verify() == []
    r.close()
    w.close()


def test_groups_commit_by_count_time_close_and_before_reads(store):
    w = store.open("g", writer=True, create=True)
    w.group_rows, w.group_seconds = 3, 3600
    w.append([{"_id": "1"}, {"_id": "2"}], group=True)
    assert w.append([{"_id": "3"}], group=True).seq is not None     # 3 rows: committed
    w.group_seconds = 0.0
    assert w.append([{"_id": "4"}], group=True).seq is not None     # time's up: committed
    w.group_seconds = 3600
    w.append([{"_id": "5"}], meta={"k": 1}, group=True)
    assert w.info()["last_offset"] == 4                              # a writer's read commits
    w.append([{"_id": "6"}], group=True)
    w.commit_meta({"k": 2}, populated=True)                         # one commit with the data
    rec = log.read(w.log_path)[0][-1]
    assert rec["kind"] == "append" and rec["meta"] == {"k": 2} and rec["props"]["populated"]
    w.append([{"_id": "7"}], group=True)
    w.close()                                                        # close commits
    r = store.open("g")
    assert ids(r.entities()) == [str(i) for i in range(1, 8)] and r.verify() == []
    r.close()


def test_unchanged_batches_still_move_the_meta(store):
    w = store.open("g", writer=True, create=True)
    w.append([{"_id": "a"}])
    w.group_seconds = 3600
    st = w.append([{"_id": "a"}], meta={"since": 9}, group=True)
    assert st.unchanged == 1
    w.flush()
    assert w.meta == {"since": 9}
    w.close()


def test_reader_state_is_read_incrementally(store):
    w = store.open("g", writer=True, create=True)
    r = store.open("g")
    for k in range(5):
        w.append([{"_id": str(k)}])
        assert r.last_offset == k
    pos = r._rstate.pos
    assert pos == os.path.getsize(w.log_path)
    w.close()
    r.close()


def test_checkpoint_makes_open_read_only_the_tail(store, monkeypatch):
    monkeypatch.setattr(dsmod, "CHECKPOINT_EVERY", 4)
    w = store.open("g", writer=True, create=True)
    for k in range(10):
        w.append([{"_id": str(k), "v": k}], meta={"n": k})
    w.close()   # close writes a checkpoint too
    ck = state.load_checkpoint(w.dir, w.log_path)
    assert ck is not None and ck[0].seq == 11 and ck[1] == os.path.getsize(w.log_path)
    w = store.open("g", writer=True)
    assert w._log.records == [] and w._log.base_seq == 11     # nothing before it parsed
    w.append([{"_id": "x"}])
    assert w.last_offset == 10 and w.meta == {"n": 9}
    w.close()
    r = store.open("g")
    assert r.last_offset == 10 and len(list(r.entities())) == 11 and r.verify() == []
    r.close()


def test_a_checkpoint_that_does_not_match_the_log_is_ignored(store):
    w = store.open("g", writer=True, create=True)
    for k in range(3):
        w.append([{"_id": str(k)}])
    w.close()
    path = os.path.join(w.dir, state.CHECKPOINT)
    good = open(path, "rb").read()
    with open(path, "wb") as f:     # a checkpoint from another log (same length, other line)
        f.write(good.replace(b'"line_crc":"', b'"line_crc":"0', 1).replace(b'","state"', b'","state"'))
    assert state.load_checkpoint(w.dir, w.log_path) is None
    with open(path, "wb") as f:
        f.write(b"{torn")
    assert state.load_checkpoint(w.dir, w.log_path) is None
    w = store.open("g", writer=True)
    assert w._log.base_seq == 0 and w.last_offset == 2
    w.close()


def test_many_small_commits_leave_few_segments(store):
    w = store.open("g", writer=True, create=True)
    for k in range(200):
        w.append([{"_id": str(k % 50), "v": k}])
    info = w.info()
    assert info["segments"] < dsmod.MERGE_AFTER + 2 and info["last_offset"] == 199
    files = [f for f in os.listdir(w.dir) if f.startswith("seg-")]
    assert len(files) == info["segments"]
    assert [e["v"] for e in w.history("7")] == [7, 57, 107, 157] and w.verify() == []
    r = w.compact(keep_versions=1)
    assert r["removed"] == 100 and w.info()["segments"] == 1 and w.verify() == []
    w.close()


def test_merged_typed_columns_keep_only_agreeing_types(store):
    w = store.open("g", writer=True, create=True)
    w.append([{"_id": "1", "a": 1, "b": "x"}])
    w.append([{"_id": "2", "a": "one", "b": "y"}])
    w.append([{"_id": "3", "c": 1.5}])
    w.merge_segments(w.state().segments)
    names = {c for b in w.batches() for c in b.schema.names if c.startswith("p:")}
    assert names == {"p:b", "p:c"}
    assert [e.get("a") for e in w.entities()] == [1, "one", None] and w.verify() == []
    w.close()
