"""Positions in partitioned datasets: what the whole-pipe readers (dataset source, merge
source, dependency tracking) keep of the entities they read."""

from storage import Store
from storage.partitioned import Position, decode_since


def _ds(tmp_path, n=3):
    st = Store(str(tmp_path))
    st.create_partitioned("d", n)
    ds = st.open("d", writer=True)
    ds.append([{"_id": f"e{i}", "v": i} for i in range(50)])
    return st, ds


def test_resume_from_last_updated_reads_each_version_once(tmp_path):
    st, ds = _ds(tmp_path)
    seen, since = [], None
    # stop after every 7 entities and resume from the `_updated` of the last one read
    while True:
        got = list(ds.entities(since=since, limit=7))
        if not got:
            break
        seen += [e["_id"] for e in got]
        since = got[-1]["_updated"]
        assert isinstance(since, Position)
        ds.append([{"_id": "late", "v": len(seen)}]) if len(seen) == 21 else None
    assert sorted(seen) == sorted([f"e{i}" for i in range(50)] + ["late"])
    assert len(seen) == len(set(seen))
    # what is appended later comes after the last position
    ds.append([{"_id": "e3", "v": "changed"}])
    again = list(ds.entities(since=since))
    assert [e["_id"] for e in again] == ["e3"]
    assert again[0]["_updated"] > since and not (again[0]["_updated"] <= since)
    ds.close()


def test_previous_version_and_limits(tmp_path):
    st, ds = _ds(tmp_path)
    ds.append([{"_id": "e5", "v": "new"}])
    e = ds.get("e5")
    assert e["v"] == "new" and isinstance(e["_previous"], Position)
    old = ds.version_at(e["_previous"])
    assert old["v"] == 5 and old["_id"] == "e5"
    end = ds.last_offset
    assert not (e["_updated"] > end)          # covered by the dataset's end
    assert e["_updated"] > -1
    start = Position("p:" + ",".join(["-1"] * 3))
    assert e["_updated"] > start
    assert len(decode_since(end, 3)) == 3
    ds.close()
