"""Dependency tracking through or-joins, expression keys and tuples composite keys: a change
in the hopped-to dataset re-queues exactly the source entities it may join differently."""

from test_pump import make_hub, receiver  # noqa: F401


def _pipe(where, datasets=("item i",), ret="i._id"):
    return {"_id": "out", "type": "pipe", "source": {"type": "dataset", "dataset": "person"},
            "transform": {"type": "dtl", "rules": {"default": [
                ["copy", "_id"],
                ["add", "m", ["hops", {"datasets": list(datasets), "where": where,
                                       "return": ret}]]]}}}


def _out(hub):
    return {e["_id"]: e["m"] for e in hub.output("out")}


def test_or_join_requeues_on_either_branch(make_hub):
    hub = make_hub([receiver("person"), receiver("item"),
                    _pipe(["or", ["eq", "_S.a", "i.x"], ["eq", "_S.b", "i.y"]])])
    hub.post("person", [{"_id": "p1", "a": 1, "b": "u"}, {"_id": "p2", "a": 2, "b": "v"},
                        {"_id": "p3", "a": 3, "b": "w"}])
    hub.post("item", [{"_id": "i1", "x": 1}, {"_id": "i2", "y": "v"}])
    assert hub.run().ok
    assert _out(hub) == {"p1": ["i1"], "p2": ["i2"], "p3": []}
    # i3 joins p3 through the second branch only
    hub.post("item", [{"_id": "i3", "x": 9, "y": "w"}])
    s = hub.run()
    assert s["out"].queued == 1 and _out(hub)["p3"] == ["i3"]
    # i1 moves from p1 (first branch) to p2 (second branch): both re-queued
    hub.post("item", [{"_id": "i1", "y": "v"}])
    s = hub.run()
    assert s["out"].queued == 2
    assert _out(hub) == {"p1": [], "p2": ["i1", "i2"], "p3": ["i3"]}
    assert hub.run()["out"].queued == 0


def test_expression_keys_on_both_sides_requeue(make_hub):
    w = ["eq", ["lower", ["rstrip", " AS", "_S.org"]], ["lower", ["rstrip", " AS", "i.name"]]]
    hub = make_hub([receiver("person"), receiver("item"), _pipe(w)])
    hub.post("person", [{"_id": "p1", "org": "Acme AS"}, {"_id": "p2", "org": "beta"},
                        {"_id": "p3", "org": "ACME"}])
    hub.post("item", [{"_id": "i1", "name": "acme"}])
    assert hub.run().ok
    assert _out(hub) == {"p1": ["i1"], "p2": [], "p3": ["i1"]}
    hub.post("item", [{"_id": "i1", "name": "Beta AS"}])   # old key acme, new key beta
    s = hub.run()
    assert s["out"].queued == 3
    assert _out(hub) == {"p1": [], "p2": ["i1"], "p3": []}
    hub.post("item", [{"_id": "i2", "name": "Beta S"}])   # characters: "BETA" would be "bet"
    s = hub.run()
    assert s["out"].queued == 1 and _out(hub)["p2"] == ["i1", "i2"]


def test_id_against_a_computed_key_inside_or_requeues(make_hub):
    w = ["or", ["eq", "_S._id", ["string", "i.n"]], ["eq", "_S.alt", "i.k"]]
    hub = make_hub([receiver("person"), receiver("item"), _pipe(w)])
    hub.post("person", [{"_id": "7", "alt": "x"}, {"_id": "8", "alt": "y"}])
    hub.post("item", [{"_id": "i1", "n": 7}])
    assert hub.run().ok and _out(hub) == {"7": ["i1"], "8": []}
    hub.post("item", [{"_id": "i1", "n": 8}])
    s = hub.run()
    assert s["out"].queued == 2 and _out(hub) == {"7": [], "8": ["i1"]}
    hub.post("item", [{"_id": "i2", "k": "x"}])
    s = hub.run()
    assert s["out"].queued == 1 and _out(hub)["7"] == ["i2"]


def test_tuples_composite_key_requeues_only_the_composite_match(make_hub):
    w = ["eq", ["tuples", "_S.a", "_S.b"], ["tuples", "i.a", "i.b"]]
    hub = make_hub([receiver("person"), receiver("item"), _pipe(w)])
    hub.post("person", [{"_id": "p1", "a": "1", "b": "2"}, {"_id": "p2", "a": "2", "b": "1"},
                        {"_id": "p3", "a": "1", "b": "1"}])
    hub.post("item", [{"_id": "i1", "a": "1", "b": "2"}])
    assert hub.run().ok
    assert _out(hub) == {"p1": ["i1"], "p2": [], "p3": []}
    hub.post("item", [{"_id": "i2", "a": "2", "b": "1"}])
    s = hub.run()
    assert s["out"].queued == 1 and _out(hub)["p2"] == ["i2"]


def test_stored_composite_keys_requeue(make_hub):
    hub = make_hub([receiver("person"), receiver("item"),
                    _pipe(["eq", "_S.key", ["tuples", "i.a", "i.b"]])])
    hub.post("person", [{"_id": "p1", "key": [["1", "2"]]}, {"_id": "p2", "key": [["2", "1"]]},
                        {"_id": "p3", "key": "1"}])
    hub.post("item", [{"_id": "i1", "a": "1", "b": "2"}])
    assert hub.run().ok and _out(hub) == {"p1": ["i1"], "p2": [], "p3": []}
    hub.post("item", [{"_id": "i1", "a": "2", "b": "1"}])
    s = hub.run()
    assert s["out"].queued >= 2 and _out(hub) == {"p1": [], "p2": ["i1"], "p3": []}


def test_chain_back_through_an_expression_on_an_earlier_alias(make_hub):
    where = [["eq", "_S.team", "t._id"],
             ["or", ["eq", ["lower", "t.city"], ["lower", "c.name"]], ["eq", "_S.home", "c._id"]]]
    hub = make_hub([receiver("person"), receiver("team"), receiver("city"),
                    _pipe(where, ("team t", "city c"), "c.pop")])
    hub.post("person", [{"_id": "p1", "team": "t1"}, {"_id": "p2", "team": "t2"},
                        {"_id": "p3", "team": "t2", "home": "c9"}])
    hub.post("team", [{"_id": "t1", "city": "Oslo"}, {"_id": "t2", "city": "Bergen"}])
    hub.post("city", [{"_id": "c1", "name": "OSLO", "pop": 1}, {"_id": "c2", "name": "bergen",
                                                                 "pop": 2}])
    assert hub.run().ok
    assert _out(hub) == {"p1": [1], "p2": [2], "p3": [2]}
    hub.post("city", [{"_id": "c2", "name": "bergen", "pop": 3}])   # via team t2: p2, p3
    s = hub.run()
    assert s["out"].queued == 2 and _out(hub) == {"p1": [1], "p2": [3], "p3": [3]}
    hub.post("city", [{"_id": "c9", "name": "x", "pop": 9}])         # via home: p3 only
    s = hub.run()
    assert s["out"].queued == 1 and _out(hub)["p3"] == [3, 9]


def test_or_join_pipe_runs_columnar_over_a_stored_dataset(make_hub):
    spec = {"datasets": ["item i"], "where": ["or", ["eq", "_S._id", "i.owner"],
                                              ["eq", "_S.team", "i.team"]]}
    pipe = {"_id": "out", "type": "pipe", "source": {"type": "dataset", "dataset": "person"},
            "transform": {"type": "dtl", "rules": {"default": [
                ["copy", "_id"], ["add", "j", ["hops", spec]],
                ["add", "m", "_T.j._id"], ["add", "n", ["count", "_T.j"]], ["remove", "j"]]}}}
    hub = make_hub([receiver("person"), receiver("item"), pipe])
    hub.post("person", [{"_id": f"p{i}", "team": f"t{i % 2}"} for i in range(4)])
    hub.post("item", [{"_id": "i1", "owner": "p0"}, {"_id": "i2", "team": "t1", "owner": "p3"},
                      {"_id": "i0", "owner": ["p1", "p0"], "team": "t0"}])
    assert hub.run().ok
    assert _out(hub) == {"p0": ["i0", "i1"], "p1": ["i0", "i2"], "p2": ["i0"], "p3": ["i2"]}
    hub.post("item", [{"_id": "i2", "team": "t0"}])   # leaves t1 and p3, joins t0
    s = hub.run()
    assert s["out"].queued == 4
    assert _out(hub) == {"p0": ["i0", "i1", "i2"], "p1": ["i0"], "p2": ["i0", "i2"], "p3": []}


NS_META = {"_id": "node", "type": "metadata", "namespaced_identifiers": True}


def test_namespaced_unqualified_join_paths_requeue(make_hub):
    # with namespaced identifiers the stored entities carry namespaces ("item:x"); the join
    # paths are unqualified, read like DTL paths (every namespace), on both sides
    hub = make_hub([receiver("person"), receiver("item"),
                    _pipe(["eq", "_S.org", "i.org_ref.value"], ret="i.name")], NS_META)
    hub.post("person", [{"_id": "p1", "org": "1"}, {"_id": "p2", "org": "2"}])
    hub.post("item", [{"_id": "i1", "org_ref": {"value": "1"}, "name": "one"}])
    assert hub.run().ok
    out = {e["_id"]: e for e in hub.output("out")}
    key = next(k for k in out["person:p1"] if k.endswith(":m"))
    assert {i: e[key] for i, e in out.items()} == {"person:p1": ["one"], "person:p2": []}
    # i1 moves to org 2: both persons re-queued and re-joined
    hub.post("item", [{"_id": "i1", "org_ref": {"value": "2"}, "name": "one"}])
    s = hub.run()
    assert s["out"].queued == 2
    out = {e["_id"]: e for e in hub.output("out")}
    assert {i: e[key] for i, e in out.items()} == {"person:p1": [], "person:p2": ["one"]}
    # a new item for org 1 re-queues p1 only
    hub.post("item", [{"_id": "i2", "org_ref": {"value": "1"}, "name": "two"}])
    s = hub.run()
    assert s["out"].queued == 1
    assert {e["_id"]: e[key] for e in hub.output("out")}["person:p1"] == ["two"]
    assert hub.run()["out"].queued == 0
