"""`dtl dataset put` skips parsing a line that is, byte for byte, the input its `_id`'s latest
version was stored from; everything else goes through change detection as before."""

import orjson

from storage import ops
from storage.store import Store


def put(store, lines, **kw):
    tot, problems = ops.put_ndjson(store, "d", [x if isinstance(x, bytes) else
                                                orjson.dumps(x) + b"\n" for x in lines], **kw)
    return tot, problems


def history(store, eid):
    with store.open("d") as ds:
        return [e.get("v") for e in ds.history(eid)]


def test_reput_skips_only_the_input_of_the_latest_version(tmp_path, monkeypatch):
    store = Store(str(tmp_path))
    ents = [{"_id": f"e{i}", "v": i} for i in range(5)]
    assert put(store, ents)[0]["stored"] == 5
    loads = []
    real = ops._loads
    monkeypatch.setattr(ops, "_loads", lambda line: loads.append(line) or real(line))
    tot, _ = put(store, ents)
    assert (tot["received"], tot["unchanged"], tot["stored"], loads) == (5, 5, 0, [])
    # another rendering of the same entity: parsed, unchanged by its canonical hash
    tot, _ = put(store, [b'{"v": 0,  "_id": "e0"}\n'])
    assert (tot["unchanged"], len(loads)) == (1, 1)
    # a line after which another version was stored is parsed again
    put(store, [{"_id": "e1", "v": 10}])
    loads.clear()
    tot, _ = put(store, [{"_id": "e1", "v": 1}])
    assert tot["stored"] == 1 and len(loads) == 1
    assert history(store, "e1") == [1, 10, 1]


def test_a_batch_changing_the_id_first_stores_the_old_line_again(tmp_path):
    store = Store(str(tmp_path))
    put(store, [{"_id": "x", "v": 1}])
    tot, _ = put(store, [{"_id": "x", "v": 2}, {"_id": "x", "v": 1}])
    assert tot["stored"] == 2 and history(store, "x") == [1, 2, 1]


def test_guessed_ids_only_look_up(tmp_path):
    """The `_id` is guessed from the text (here: a nested one first); the digest decides."""
    store = Store(str(tmp_path))
    a = b'{"sub": {"_id": "b"}, "_id": "a", "v": 1}\n'
    put(store, [a, {"_id": "b", "v": 2}])
    tot, _ = put(store, [a, b'{"_id": "b", "v": 3}\n'])
    assert (tot["unchanged"], tot["stored"]) == (1, 1)
    assert history(store, "a") == [1] and history(store, "b") == [2, 3]


def test_bad_lines_and_force(tmp_path):
    store = Store(str(tmp_path))
    good = {"_id": "g", "v": 1}
    tot, problems = put(store, [good, b"{bad\n", {"v": 1}])
    assert (tot["stored"], tot["invalid"]) == (1, 2) and len(problems) == 2
    tot, problems = put(store, [good, b"{bad\n"])
    assert (tot["unchanged"], tot["invalid"], problems[0]["line"]) == (1, 1, 2)
    tot, _ = put(store, [good], force=True)
    assert tot["stored"] == 1
    with store.open("d") as ds:
        assert ds.verify() == []
