"""Dependency tracking: the customer/address example of dependency-tracking.rst, and the hub
example's merge + hops."""

import os

from test_pump import make_hub, receiver  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_customer_address_changes_requeue_exactly_the_affected_customers(make_hub):
    hub = make_hub([
        receiver("customer"), receiver("address"),
        {"_id": "customer-with-address", "type": "pipe",
         "source": {"type": "dataset", "dataset": "customer"},
         "transform": {"type": "dtl", "rules": {"default": [
             ["copy", "*"],
             ["add", "address", ["apply-hops", "addr", {
                 "datasets": ["address a"], "where": [["eq", "_S.address_id", "a._id"]]}]]],
             "addr": [["copy", "street"], ["copy", "city"]]}}}])
    hub.post("customer", [{"_id": f"c{i}", "address_id": f"a{i % 3}"} for i in range(9)])
    hub.post("address", [{"_id": f"a{i}", "street": f"Street {i}", "city": "Oslo"}
                         for i in range(3)])
    s = hub.run()
    assert s.ok and s["customer-with-address"].changed == 9
    hub.post("address", [{"_id": "a1", "street": "New street 1", "city": "Oslo"}])
    s = hub.run()
    cwa = s["customer-with-address"]
    assert cwa.queued == 3 and cwa.changed == 3         # c1, c4, c7 and nothing else
    out = {e["_id"]: e["address"] for e in hub.output("customer-with-address")}
    assert out["c4"] == [{"street": "New street 1", "city": "Oslo"}]
    assert out["c0"] == [{"street": "Street 0", "city": "Oslo"}]
    # a delete of the address is a change too
    hub.post("address", [{"_id": "a2", "_deleted": True}])
    s = hub.run()
    assert s["customer-with-address"].queued == 3
    assert {e["_id"]: e["address"] for e in hub.output("customer-with-address")}["c5"] == []
    # nothing changed: the next run queues nothing
    assert hub.run()["customer-with-address"].queued == 0


def test_hub_example_order_change_reaches_the_merged_person(tmp_path):
    from runtime.config import load_config
    from runtime.hub import Hub
    cfg = load_config(os.path.join(ROOT, "examples", "hub"))
    with Hub(cfg, str(tmp_path / "d")) as hub:
        assert hub.run().ok
        ann = {e["_id"]: e for e in hub.output("person-out")}["1"]
        assert ann["order_total"] == 200
        # merged: CRM person 1 and ERP customer c-100 share an e-mail address
        gp = {e["_id"]: e for e in hub.output("global-person")}
        assert len(gp) == 4 and len(gp["crm-person:1"]["$ids"]) == 2
        # a new order for c-100 written straight into erp-order re-queues the merged person
        with hub.store.open("erp-order", writer=True) as ds:
            from dtl.values import NI
            ds.append([{"_id": "erp-order:o-9", "erp-order:amount": 5,
                        "erp-order:customer-ni": NI("erp-customer:c-100")}])
        s = hub.run(["global-person"], until_stable=False)
        assert s["global-person"].queued == 1 and s["global-person"].changed == 1
        assert {e["_id"]: e for e in hub.output("person-out")}["1"]["order_total"] == 205


def test_merge_joins_later_arrivals_and_retires_replaced_ids(make_hub):
    hub = make_hub([receiver("a"), receiver("b"),
                    {"_id": "m", "type": "pipe", "source": {
                        "type": "merge", "version": 2, "datasets": ["a x", "b y"],
                        "equality": [["eq", "x.mail", "y.email"]], "identity": "first"}}])
    hub.post("a", [{"_id": "a1", "mail": "p@q"}])
    hub.post("b", [{"_id": "b1", "email": "z@z"}])
    hub.run()
    assert [e["_id"] for e in hub.output("m")] == ["a1", "b1"]
    hub.post("b", [{"_id": "b1", "email": "p@q"}])
    hub.run()
    out = hub.output("m")
    assert [e["_id"] for e in out] == ["a1"] and out[0]["$ids"] == ["a1", "b1"]
    with hub.dataset("m") as ds:
        assert ds.get("b1")["_deleted"] is True


def _merge_hub(make_hub, source, metadata=None):
    hub = make_hub([receiver("a"), receiver("b"),
                    {"_id": "m", "type": "pipe", "source": {
                        "type": "merge", "version": 2, "datasets": ["a x", "b y"],
                        "identity": "first", **source}}], metadata)
    return hub


def test_merge_equality_on_expressions_of_one_alias(make_hub):
    hub = _merge_hub(make_hub, {"equality": [
        ["eq", ["lower", ["first", "x.mails"]], "y.email"]]})
    hub.post("a", [{"_id": "a1", "mails": ["P@Q", "other"]}, {"_id": "a2", "mails": []}])
    hub.post("b", [{"_id": "b1", "email": "p@q"}, {"_id": "b2", "email": None}])
    assert hub.run().ok
    out = {e["_id"]: e["$ids"] for e in hub.output("m")}
    # empty and null values never merge
    assert out == {"a1": ["a1", "b1"], "a2": ["a2"], "b2": ["b2"]}
    # a later change on the expression's side re-merges (the expression index is per run)
    hub.post("b", [{"_id": "b2", "email": "other"}])
    hub.post("a", [{"_id": "a2", "mails": ["OTHER"]}])
    assert hub.run().ok
    out = {e["_id"]: e["$ids"] for e in hub.output("m")}
    assert out == {"a1": ["a1", "b1"], "a2": ["a2", "b2"]}


def test_merge_equality_sets_chain_their_sides(make_hub):
    hub = _merge_hub(make_hub, {"equality_sets": [["x.k", "y.k"]]})
    hub.post("a", [{"_id": "a1", "k": 1}])
    hub.post("b", [{"_id": "b1", "k": 1.0}, {"_id": "b2", "k": "1"}])
    assert hub.run().ok
    out = {e["_id"]: e["$ids"] for e in hub.output("m")}
    assert out == {"a1": ["a1", "b1"], "b2": ["b2"]}   # DTL equality: 1 == 1.0 != "1"


def test_merge_paths_are_namespace_aware_with_namespaced_identifiers(make_hub):
    hub = _merge_hub(make_hub, {"equality": [["eq", "x.mail", "y.email"]]},
                     {"_id": "node", "type": "metadata", "namespaced_identifiers": True})
    hub.post("a", [{"_id": "a1", "mail": "p@q"}])
    hub.post("b", [{"_id": "b1", "email": "p@q"}])
    assert hub.run().ok
    (e,) = hub.output("m")
    assert e["_id"] == "a:a1" and [v.value for v in e["$ids"]] == ["a:a1", "b:b1"]


def test_a_merge_side_reading_two_aliases_fails_that_pipe_only(make_hub):
    hub = _merge_hub(make_hub, {"equality": [["eq", ["concat", "x.a", "y.b"], "y.c"]]})
    hub.post("a", [{"_id": "a1"}])
    s = hub.run()
    assert s.pipes["m"].status == "failed" and "exactly one of the aliases" in s.pipes["m"].reason
    assert s.pipes["m"].runs == 0 or s.pipes["m"].changed == 0


def test_merge_on_ids_of_entities_without_ids(make_hub):
    # an entity without `$ids` is its own identity: `x.$ids` matches its `_id` (an NI with
    # namespaced identifiers), from either side and for later arrivals
    from dtl.values import NI
    hub = _merge_hub(make_hub, {"equality": [["eq", "x.$ids", "y.ref-ni"]]},
                     {"_id": "node", "type": "metadata", "namespaced_identifiers": True})
    hub.post("a", [{"_id": "a1"}, {"_id": "a2"}])
    hub.post("b", [{"_id": "b1", "ref-ni": NI("a:a1")}, {"_id": "b2", "ref-ni": NI("a:zz")}])
    assert hub.run().ok
    out = {e["_id"]: [v.value for v in e["$ids"]] for e in hub.output("m")}
    assert out == {"a:a1": ["a:a1", "b:b1"], "a:a2": ["a:a2"], "b:b2": ["b:b2"]}
    hub.post("b", [{"_id": "b3", "ref-ni": NI("a:a2")}])
    assert hub.run().ok
    out = {e["_id"]: [v.value for v in e["$ids"]] for e in hub.output("m")}
    assert out["a:a2"] == ["a:a2", "b:b3"] and "b:b3" not in out


def test_merge_on_ids_without_namespaced_identifiers(make_hub):
    hub = _merge_hub(make_hub, {"equality": [["eq", "y.ref", "x.$ids"]]})
    hub.post("a", [{"_id": "a1"}, {"_id": "a3", "$ids": ["other"]}])
    hub.post("b", [{"_id": "b1", "ref": "a1"}, {"_id": "b3", "ref": "a3"}])
    assert hub.run().ok
    out = {e["_id"]: e["$ids"] for e in hub.output("m")}
    # a3 has `$ids`, so its own _id is not one of its identities
    assert out == {"a1": ["a1", "b1"], "a3": ["other"], "b3": ["b3"]}


def test_merge_compact_drops_empty_properties(make_hub):
    # compact: duplicates removed, single values unwrapped, null and [] properties dropped,
    # for a cluster of one too; a lone member's list stays a list
    hub = _merge_hub(make_hub, {"equality": [["eq", "x.k", "y.k"]], "strategy": "compact"})
    hub.post("a", [{"_id": "a1", "k": 1, "n": None, "e": [], "l": [5], "v": [2, 1]},
                   {"_id": "a2", "k": 9, "n": None, "e": [], "l": [5]}])
    hub.post("b", [{"_id": "b1", "k": 1, "n": None, "e": [], "v": [2, None]}])
    assert hub.run().ok
    out = {e["_id"]: {k: v for k, v in e.items() if k not in ("_id", "$ids")}
           for e in hub.output("m")}
    assert out == {"a1": {"k": 1, "l": [5], "v": [2, 1]}, "a2": {"k": 9, "l": [5]}}


def test_a_join_on_deleted_requeues_every_live_source(make_hub):
    # `["eq", "_S._deleted", "p._deleted"]` joins every live entity; a change in the joined
    # dataset re-queues every live source entity, as the join reaches all of them
    hub = make_hub([receiver("g"), receiver("p"),
                    {"_id": "out", "type": "pipe", "source": {"type": "dataset", "dataset": "g"},
                     "transform": {"type": "dtl", "rules": {"default": [
                         ["copy", "_id"],
                         ["add", "n", ["sorted", ["hops", {
                             "datasets": ["p p"],
                             "where": [["eq", "_S._deleted", "p._deleted"],
                                       ["in", "_S.tag", "p.tags"]],
                             "return": "p._id"}]]]]}}}])
    hub.post("g", [{"_id": "g1", "tag": "a"}, {"_id": "g2", "tag": "b"}])
    hub.post("p", [{"_id": "p1", "tags": ["a"]}, {"_id": "p2", "tags": ["a", "b"]}])
    assert hub.run().ok
    assert {e["_id"]: e["n"] for e in hub.output("out")} == {"g1": ["p1", "p2"], "g2": ["p2"]}
    hub.post("p", [{"_id": "p3", "tags": ["b"]}])
    s = hub.run()
    assert s["out"].queued == 2
    assert {e["_id"]: e["n"] for e in hub.output("out")} == {"g1": ["p1", "p2"],
                                                            "g2": ["p2", "p3"]}
