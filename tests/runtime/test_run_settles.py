"""`Hub.run` until stable: a pass whose changes every downstream pipe already read ends the
run; a batch that gives one `_id` twice stores it once (else the run alternates forever)."""

from tests.runtime.test_pump import internal, make_hub, receiver  # noqa: F401


def embedded(pid, entities, **kw):
    return {"_id": pid, "type": "pipe", "source": {"type": "embedded", "entities": entities},
            **kw}


def test_a_chain_settles_in_the_pass_that_carries_the_change_to_the_end(make_hub):
    hub = make_hub([embedded("a", [{"_id": "1", "n": 1}]),
                    internal("b", "a", {"default": [["copy", "*"]]}),
                    internal("c", "b", {"default": [["copy", "*"]]})])
    s = hub.run()
    assert s.stable and s.ok
    assert s.passes == 1          # b and c read a's change in the same pass
    assert [e["n"] for e in hub.output("c")] == [1]


def test_a_pipe_behind_its_source_is_pending(make_hub):
    hub = make_hub([embedded("a", [{"_id": "1"}]),
                    internal("b", "a", {"default": [["copy", "*"]]})])
    hub.run(["a"], until_stable=False)
    assert hub.pump("b").pending()
    assert not hub.pump("a").pending()       # an embedded source is read whole every run
    hub.run(["b"], until_stable=False)
    assert not hub.pump("b").pending()


def test_a_change_in_a_hopped_dataset_is_pending(make_hub):
    rules = {"default": [["copy", "*"], ["add", "names", [
        "hops", {"datasets": ["o o"], "where": [["eq", "_S._id", "o.ref"]],
                 "return": "o.name"}]]]}
    hub = make_hub([embedded("p", [{"_id": "1"}]), receiver("o"), internal("j", "p", rules)])
    hub.post("o", [{"_id": "x", "ref": "1", "name": "n"}])
    s = hub.run()
    assert s.stable and hub.output("j")[0]["names"] == ["n"]
    assert not hub.pump("j").pending()
    hub.post("o", [{"_id": "x", "ref": "1", "name": "m"}])
    assert hub.pump("j").pending()
    s = hub.run()
    assert s.stable and hub.output("j")[0]["names"] == ["m"]


def test_a_batch_with_one_id_twice_stores_the_last_only_and_settles(make_hub):
    rules = {"default": [["add", "_id", "_S.k"], ["add", "v", "_S.v"]]}
    hub = make_hub([embedded("a", [{"_id": "1", "k": "x", "v": 1},
                                   {"_id": "2", "k": "x", "v": 2}], transform={
        "type": "dtl", "rules": rules}), internal("b", "a", {"default": [["copy", "*"]]})])
    s = hub.run()
    assert s.stable and s.ok
    assert [(e["_id"], e["v"]) for e in hub.output("b")] == [("x", 2)]
    with hub.dataset("a") as ds:
        assert len(list(ds.entities(history=True))) == 1
    assert hub.run().pipes["a"].changed == 0


def test_a_source_that_changes_on_every_run_does_not_keep_the_run_going(make_hub):
    # `a` writes a new version on every run (now), but `b` reads it in the same pass
    hub = make_hub([embedded("a", [{"_id": "1"}], transform={"type": "dtl", "rules": {
        "default": [["copy", "*"], ["add", "t", ["now"]]]}}),
        internal("b", "a", {"default": [["copy", "*"]]})])
    s = hub.run(max_passes=4)
    assert s.stable and s.passes == 1


def test_a_cycle_that_never_stops_changing_is_reported_unstable(make_hub):
    bump = {"default": [["copy", "*"], ["add", "n", ["plus", 1, "_S.n"]]]}
    hub = make_hub([receiver("seed"),
                    internal("x", "y", bump),
                    {"_id": "y", "type": "pipe", "source": {
                        "type": "union_datasets", "datasets": ["seed", "x"]}}])
    hub.post("seed", [{"_id": "1", "n": 0}])
    s = hub.run(max_passes=4)
    assert not s.stable and s.passes == 4


def test_an_empty_id_is_an_id_like_any_other(make_hub):
    # LMDB keys cannot be empty: storage hashes "" like a long id (it once failed the pipe)
    rules = {"default": [["add", "_id", "_S.k"], ["add", "v", "_S.v"]]}
    hub = make_hub([embedded("a", [{"_id": "1", "k": "x", "v": 1},
                                   {"_id": "2", "k": "", "v": 2}], transform={
        "type": "dtl", "rules": rules}), internal("b", "a", {"default": [["copy", "*"]]})])
    s = hub.run()
    assert s.ok and s.stable
    assert [(e["_id"], e["v"]) for e in hub.output("b")] == [("", 2), ("x", 1)]
    with hub.dataset("a") as ds:
        assert ds.get("")["v"] == 2
