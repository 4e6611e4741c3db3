"""Pumps: batches, offsets, deletes, _filtered, emit_children, errors, operations, inbox."""

import json
import os

import pytest


def write_config(root, pipes, metadata=None):
    os.makedirs(os.path.join(root, "pipes"), exist_ok=True)
    for p in pipes:
        with open(os.path.join(root, "pipes", p["_id"] + ".conf.json"), "w") as f:
            json.dump(p, f)
    if metadata:
        with open(os.path.join(root, "node-metadata.conf.json"), "w") as f:
            json.dump(metadata, f)
    return root


@pytest.fixture
def make_hub(tmp_path):
    from runtime.config import load_config
    from runtime.hub import Hub
    hubs = []

    def make(pipes, metadata=None, **kw):
        cfg_dir = write_config(str(tmp_path / "config"), pipes, metadata)
        h = Hub(load_config(cfg_dir), str(tmp_path / "data"), **kw)
        hubs.append(h)
        return h
    yield make
    for h in hubs:
        h.close()


def receiver(pid, **kw):
    return {"_id": pid, "type": "pipe", "source": {"type": "http_endpoint"}, **kw}


def internal(pid, src, rules=None, **kw):
    p = {"_id": pid, "type": "pipe", "source": {"type": "dataset", "dataset": src}, **kw}
    if rules is not None:
        p["transform"] = {"type": "dtl", "rules": rules}
    return p


def test_incremental_offsets_and_delete_propagation(make_hub):
    hub = make_hub([receiver("in"), internal("out", "in", {"default": [
        ["copy", "*"], ["add", "n2", ["multiply", 2, "_S.n"]]]}, batch_size=2)])
    hub.post("in", [{"_id": str(i), "n": i} for i in range(5)])
    s = hub.run()
    assert s.ok and s.stable
    assert s["out"].read == 5 and s["out"].changed == 5
    assert [e["n2"] for e in hub.output("out")] == [0, 2, 4, 6, 8]
    hub.post("in", [{"_id": "1", "n": 10}, {"_id": "3", "_deleted": True}])
    s = hub.run()
    assert s["out"].read == 2          # incremental: only the two new versions
    assert {e["_id"]: e["n2"] for e in hub.output("out")} == {"0": 0, "1": 20, "2": 4, "4": 8}
    with hub.dataset("out") as ds:
        assert ds.get("3")["_deleted"] is True


def test_filtered_becomes_delete_and_full_run_tracks_deletions(make_hub):
    hub = make_hub([
        {"_id": "src", "type": "pipe", "source": {"type": "embedded", "entities": [
            {"_id": "a", "keep": True}, {"_id": "b", "keep": True}, {"_id": "c", "keep": False}]}},
        internal("flt", "src", {"default": [["filter", "_S.keep"], ["copy", "*"]]})])
    hub.run()
    assert [e["_id"] for e in hub.output("flt")] == ["a", "b"]
    with hub.dataset("flt") as ds:
        assert ds.get("c") is None            # filtered and never live: discarded
    cfg = hub.config
    from runtime.config.model import FrozenDict
    ents = cfg.pipes["src"].source.config["entities"]
    # the embedded source loses "b": every embedded run is full, so deletion tracking deletes it
    object.__setattr__(cfg.pipes["src"].source, "config",
                       FrozenDict({**cfg.pipes["src"].source.config, "entities": ents[:1]}))
    hub._chains.clear()
    s = hub.run()
    assert s["src"].deleted == 2          # b and c
    assert [e["_id"] for e in hub.output("flt")] == ["a"]


def test_emit_children(make_hub):
    hub = make_hub([receiver("in"), internal("kids", "in", None, transform=[
        {"type": "dtl", "rules": {"default": [["copy", "_id"], ["add", "$children", ["apply", "kid", "_S.items"]]],
                                  "kid": [["add", "_id", "_S.k"], ["add", "v", "_S.v"]]}},
        {"type": "emit_children"}])])
    hub.post("in", [{"_id": "p", "items": [{"k": "x", "v": 1}, {"k": "y", "v": 2}]}])
    hub.run()
    assert hub.output("kids") == [{"_id": "x", "v": 1}, {"_id": "y", "v": 2}]


def test_failing_entity_goes_to_execution_log_and_the_rest_is_processed(make_hub):
    hub = make_hub([receiver("in"), internal("calc", "in", {"default": [
        ["copy", "*"], ["if", ["eq", "_S._id", "bad"], ["fail!", "no good"]]]},
        pump={"max_consecutive_write_errors": 5, "dead_letter_dataset": "calc-dead"})])
    hub.post("in", [{"_id": "a"}, {"_id": "bad"}, {"_id": "c"}])
    s = hub.run()
    assert s.ok and s["calc"].errors == 1
    assert [e["_id"] for e in hub.output("calc")] == ["a", "c"]
    errs = hub.execution_log("calc", "write-error")
    assert len(errs) == 1 and errs[0]["_id"] == "write-error:bad"
    assert "no good" in errs[0]["original_error_message"]
    assert errs[0]["entity"]["_id"] == "bad"
    with hub.dataset("calc-dead") as ds:
        assert ds.get("bad")["error"]
    kinds = [e["type"] for e in hub.execution_log("calc")]
    assert kinds.count("pump-started") == kinds.count("pump-completed") >= 1


def test_sesam_default_stops_the_run_at_the_first_error(make_hub):
    hub = make_hub([receiver("in"), internal("calc", "in", {"default": [
        ["copy", "*"], ["if", ["eq", "_S._id", "bad"], ["fail!", "boom"]]]})])
    hub.post("in", [{"_id": "a"}, {"_id": "bad"}, {"_id": "c"}])
    s = hub.run()
    assert not s.ok and s.failed == ["calc"]
    assert hub.execution_log("calc", "pump-failed")
    assert hub.output("calc") == []     # the batch was not committed; offset unchanged
    hub.keep_going = True
    s = hub.run()
    assert s.ok and [e["_id"] for e in hub.output("calc")] == ["a", "c"]


def test_post_is_atomic_and_refused_without_http_endpoint(make_hub):
    hub = make_hub([receiver("in", transform={"type": "dtl", "rules": {"default": [
        ["copy", "*"], ["if", ["eq", "_S._id", "bad"], ["fail!", "x"]]]}}),
        internal("out", "in")])
    with pytest.raises(Exception):
        hub.post("in", [{"_id": "a"}, {"_id": "bad"}])
    assert hub.output("in") == []
    with pytest.raises(ValueError, match="no http_endpoint source"):
        hub.post("out", [{"_id": "a"}])


def test_reset_and_update_last_seen(make_hub):
    hub = make_hub([receiver("in"), internal("out", "in")])
    hub.post("in", [{"_id": str(i)} for i in range(4)])
    hub.run()
    st = hub.pump_op("out", "update-last-seen", last_seen="1")
    assert st["since"] == 1
    s = hub.run(["out"], until_stable=False)
    assert s["out"].read == 2 and s["out"].changed == 0
    hub.pump_op("out", "reset")
    s = hub.run(["out"], until_stable=False)
    assert s["out"].read == 4 and s["out"].sync_type if hasattr(s["out"], "sync_type") else True
    ev = hub.execution_log("out", "pump-offset-set")
    assert {e["is_reset"] for e in ev} == {True, False}


def test_endpoint_output_computed_on_demand(make_hub):
    hub = make_hub([receiver("in"), internal("pub", "in", {"default": [
        ["copy", "_id"], ["add", "up", ["upper", "_S.name"]]]},
        sink={"type": "csv_endpoint", "columns": ["_id", "up"]})])
    hub.post("in", [{"_id": "b", "name": "bo"}, {"_id": "a", "name": "ann"}])
    s = hub.run()
    assert "pub" not in s.pipes             # endpoints are never pumped
    assert hub.output("pub") == [{"_id": "b", "up": "BO"}, {"_id": "a", "up": "ANN"}]
    from runtime.sinks.endpoint import csv_text
    assert csv_text(hub, hub.config.pipes["pub"]) == "_id,up\r\nb,BO\r\na,ANN\r\n"


def test_null_sink_and_union(make_hub):
    hub = make_hub([receiver("a"), receiver("b"),
                    {"_id": "u", "type": "pipe",
                     "source": {"type": "union_datasets", "datasets": ["a", "b"]}},
                    {"_id": "n", "type": "pipe", "source": {"type": "dataset", "dataset": "u"},
                     "sink": {"type": "null"}}])
    hub.post("a", [{"_id": "1"}])
    hub.post("b", [{"_id": "1"}, {"_id": "2"}])
    s = hub.run()
    assert s.ok
    assert [e["_id"] for e in hub.output("u")] == ["a:1", "b:1", "b:2"]
    assert s["n"].read == 3
    hub.post("b", [{"_id": "3"}])
    assert hub.run()["u"].read == 1


def _embedded(pid, entities, rules, **kw):
    return {"_id": pid, "type": "pipe", "source": {"type": "embedded", "entities": entities},
            "transform": {"type": "dtl", "rules": rules}, **kw}


def test_an_output_without_id_keeps_the_source_id(make_hub):
    hub = make_hub([_embedded("a", [{"_id": "1", "x": 1, "y": 2}], {"default": [
        ["copy", "x"]]})])
    assert hub.run().ok
    assert hub.output("a") == [{"_id": "1", "x": 1}]


def test_a_null_id_keeps_the_source_id_and_a_non_string_one_fails(make_hub):
    hub = make_hub([_embedded("a", [{"_id": "1"}, {"_id": "2", "k": 5}], {"default": [
        ["add", "_id", "_S.k"]]}, pump={"max_consecutive_write_errors": 5})])
    s = hub.run()
    assert [e["_id"] for e in hub.output("a")] == ["1"]
    assert s.pipes["a"].errors == 1 and "string _id" in s.errors[0]["original_error_message"]


def test_a_filtered_entity_skips_the_later_transforms(make_hub):
    # the second transform would fail on it (divide a string): filtered, it never sees it
    keep = {"default": [["filter", ["is-integer", "_S.n"]], ["copy", "*"]]}
    halve = {"default": [["copy", "*"], ["add", "h", ["divide", 2, "_S.n"]]]}
    pipe = _embedded("a", [{"_id": "1", "n": 4}, {"_id": "2", "n": "x"}], keep)
    pipe["transform"] = [pipe["transform"], {"type": "dtl", "rules": halve}]
    hub = make_hub([pipe])
    s = hub.run()
    assert s.ok and s.pipes["a"].errors == 0
    assert hub.output("a") == [{"_id": "1", "n": 4, "h": 2}]


def test_remove_namespaces_keeps_references_as_references(make_hub):
    from dtl.values import NI
    hub = make_hub([_embedded("a", [{"_id": "1"}], {"default": [
        ["add", "ref", ["ni", "person", "7"]], ["add", "x", 1]]}, remove_namespaces=True)])
    assert hub.run().ok
    (e,) = hub.output("a")
    assert e["ref"] == NI("7") and e["x"] == 1


def test_namespaces_reach_nested_dicts_and_leave_them_again(make_hub):
    rules = {"default": [["copy", "*"],
                         ["add", "email", "_S.a:profile.a:email"],
                         ["add", "has_id", ["in", "a:@id", ["keys", ["first", "_S.a:items"]]]]]}
    hub = make_hub([_embedded("a", [{"_id": "1", "profile": {"email": "x@y"},
                                     "items": [{"@id": 7, "_k": 1}]}], rules,
                              add_namespaces=True),
                    internal("out", "a", {"default": [["copy", "*"]]}, remove_namespaces=True)],
                   {"_id": "node", "type": "metadata", "namespaced_identifiers": True})
    assert hub.run().ok
    (e,) = hub.output("a")
    assert e["a:profile"] == {"a:email": "x@y"} and e["a:items"] == [{"a:@id": 7, "_k": 1}]
    assert e["a:email"] == "x@y" and e["a:has_id"] is True
    (o,) = hub.output("out")
    assert o["profile"] == {"email": "x@y"} and o["items"] == [{"@id": 7, "_k": 1}]


def test_nested_entities_get_the_identity_namespace(make_hub):
    # a nested dict's `_id` gets the identity namespace on the way in (so the entities
    # `create` emits from it carry it, as a real node's do) and loses it on the way out
    rules = {"default": [["create", ["apply", "kid", "_S.kids"]], ["discard"]],
             "kid": [["copy", "*"]]}
    kid = {"_id": "k1", "n": 1, "owner": {"_id": "p1"}}
    qualified = {"_id": "a:k2"}            # already qualified: kept as it is
    hub = make_hub([_embedded("a", [{"_id": "1", "kids": [kid, qualified]}], rules,
                              add_namespaces=True),
                    internal("out", "a", {"default": [["copy", "*"]]}, remove_namespaces=True)],
                   {"_id": "node", "type": "metadata", "namespaced_identifiers": True})
    assert hub.run().ok
    assert hub.output("a") == [{"_id": "a:k1", "a:n": 1, "a:owner": {"_id": "a:p1"}},
                               {"_id": "a:k2"}]
    assert hub.output("out") == [kid, {"_id": "k2"}]
