"""When a dataset counts as populated, as a node decides it (configuration-sources-merge.rst,
configuration-sinks-dataset.rst): a pipe whose hop dataset is not populated waits, so these
rules decide whether chains run at all."""

from tests.runtime.test_pump import internal, make_hub, receiver  # noqa: F401
from tests.runtime.test_run_settles import embedded


def merge(pid, datasets, **kw):
    return {"_id": pid, "type": "pipe", "source": {
        "type": "merge", "version": 2, "datasets": datasets, "equality": [],
        "identity": "first", **kw}}


def test_a_merge_of_a_dataset_no_pipe_writes_is_populated(make_hub):
    hub = make_hub([embedded("a", [{"_id": "1"}]), merge("m", ["a a", "nowhere n"])])
    assert hub.run().ok
    assert hub.dataset_populated("m") and not hub.dataset_exists("nowhere")


def test_ignore_non_existent_datasets_false_keeps_it_unpopulated(make_hub):
    hub = make_hub([embedded("a", [{"_id": "1"}]),
                    merge("m", ["a a", "nowhere n"], ignore_non_existent_datasets=False)])
    assert hub.run().ok
    assert not hub.dataset_populated("m")


def test_a_merge_waits_for_a_written_input_that_is_not_populated(make_hub):
    # "b" has a writer that never completes a run (its pump is off): "m" stays unpopulated,
    # unless initial_datasets leaves it out
    hub = make_hub([embedded("a", [{"_id": "1"}]),
                    embedded("b", [{"_id": "2"}], pump={"mode": "off"}),
                    merge("m", ["a a", "b b"]),
                    merge("m2", ["a a", "b b"], initial_datasets=["a"])])
    assert hub.run().ok
    assert not hub.dataset_populated("m") and hub.dataset_populated("m2")


def test_receivers_are_populated_when_loaded(make_hub):
    rules = {"default": [["copy", "*"], ["add", "r", [
        "hops", {"datasets": ["rec r"], "where": [["eq", "_S._id", "r._id"]]}]]]}
    hub = make_hub([receiver("rec"), receiver("late", source={
        "type": "http_endpoint", "auto_populate_dataset": False}),
        embedded("a", [{"_id": "1"}], transform={"type": "dtl", "rules": rules})])
    assert hub.dataset_populated("rec") and not hub.dataset_populated("late")
    s = hub.run()
    assert s.pipes["a"].status == "ok" and [e["_id"] for e in hub.output("a")] == ["1"]


def test_set_initial_offset(make_hub):
    hub = make_hub([
        {"_id": "x", "type": "pipe", "source": {"type": "dataset", "dataset": "none"}},
        {"_id": "never", "type": "pipe", "source": {"type": "embedded", "entities": [{"_id": "1"}]},
         "sink": {"type": "dataset", "set_initial_offset": "never"}},
        {"_id": "always", "type": "pipe", "source": {"type": "dataset", "dataset": "never"},
         "sink": {"type": "dataset", "set_initial_offset": "always"}},
        {"_id": "onload", "type": "pipe", "source": {"type": "dataset", "dataset": "never"},
         "sink": {"type": "dataset", "set_initial_offset": "onload"}, "pump": {"mode": "off"}}])
    assert hub.dataset_populated("onload")           # before any run
    assert hub.run().ok
    assert not hub.dataset_populated("never")        # its embedded source is populated
    assert hub.dataset_populated("always")           # its source is not populated
    assert not hub.dataset_populated("x")            # nor is this one's, by default
