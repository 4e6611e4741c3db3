"""Core semantics of the closure backend: the target-entity model, rules, variables, hops."""

import pytest

import dtl
from dtl.values import is_true


def run(rules, source, **kw):
    return dtl.compile({"default": rules} if isinstance(rules, list) else rules, **kw).apply(source)


@pytest.mark.parametrize("value,truth", [
    (False, False), (None, False), ([], False), (True, True), (0, True), ("", True),
    ({}, True), ([None], True), ([False], True), (0.0, True)])
def test_truthiness(value, truth):
    assert is_true(value) is truth
    out = run([["if", ["literal", value] if isinstance(value, list) else value,
                ["add", "t", True], ["add", "t", False]]], {})
    assert out == [{"t": truth}]


def test_target_starts_empty_and_transforms_apply_in_order():
    out = run([["add", "a", 1], ["add", "b", "_T.a"], ["remove", "a"], ["add", "a", 2]], {"x": 1})
    assert out == [{"b": 1, "a": 2}]


def test_filter_and_discard_stop_but_keep_created_entities():
    rules = [["create", ["list", {"_id": "c1"}]], ["filter", False], ["add", "never", 1]]
    assert run(rules, {}) == [{"_id": "c1"}]
    rules = [["create", ["list", {"_id": "c1"}]], ["discard"], ["create", ["list", {"_id": "c2"}]]]
    assert run(rules, {}) == [{"_id": "c1"}]


def test_filter_can_mark_instead_of_drop_for_dataset_sinks():
    t = dtl.compile({"default": [["copy", "_id"], ["filter", False]]}, mark_filtered=True)
    assert t.apply({"_id": "a"}) == [{"_id": "a", "_filtered": True}]
    t = dtl.compile({"default": [["copy", "_id"], ["discard", False]]}, mark_filtered=True)
    assert t.apply({"_id": "a"}) == []


def test_create_emits_after_target_in_order_and_ignores_non_entities():
    out = run([["copy", "_id"], ["create", "_S.kids"]],
              {"_id": "p", "kids": [{"_id": "k1"}, 3, {"no_id": 1}, {"_id": "k2"}]})
    assert out == [{"_id": "p"}, {"_id": "k1"}, {"_id": "k2"}]


def test_apply_binds_parent_and_root():
    rules = {
        "default": [["add", "kids", ["apply", "kid", "_S.kids"]], ["add", "d", "root"]],
        "kid": [["add", "name", "_S.name"], ["add", "parent", "_P._S.name"],
                ["add", "root_d", "_R._T.d"], ["add", "toys", ["apply", "toy", "_S.toys"]]],
        "toy": [["add", "grandparent", "_P._P._S.name"]],
    }
    out = run(rules, {"name": "p", "kids": [{"name": "k", "toys": [{"t": 1}]}]})
    assert out == [{"kids": [{"name": "k", "parent": "p", "root_d": None,
                              "toys": [{"grandparent": "p"}]}], "d": "root"}]


def test_apply_drops_filtered_values():
    rules = {"default": [["add", "xs", ["apply", "r", "_S.xs"]]],
             "r": [["filter", ["gt", "_S.", 1]], ["add", "v", "_S."]]}
    assert run(rules, {"xs": [1, 2, 3]}) == [{"xs": [{"v": 2}, {"v": 3}]}]


def test_comment_arguments_are_never_evaluated():
    assert run([["comment", ["fail!", "boom"], "_S.x"], ["add", "ok", 1]], {}) == [{"ok": 1}]


def test_paths_through_lists_flatten_once():
    src = {"orders": [{"lines": [{"n": 1}, {"n": 2}]}, {"lines": {"n": 3}}, {"x": 0}]}
    assert dtl.evaluate("_S.orders.lines.n", src) == [1, 2, 3]
    assert dtl.evaluate("_S.missing.deeper", src) is None
    assert dtl.evaluate("_S.", {"a": 1}) == {"a": 1}


def test_quoted_path_elements():
    src = {"a.b": {"it's": 5}}
    assert dtl.evaluate("_S.'a.b'.'it''s'", src) == 5


def test_bindings_are_visible_as_B():
    t = dtl.compile({"default": [["add", "q", "_B.q"]]})
    assert t.apply({}, bindings={"q": "x"}) == [{"q": "x"}]


def test_chained_dtl_transforms_in_a_pipe_run_in_order():
    pipe = {"_id": "p", "type": "pipe", "transform": [
        {"type": "dtl", "rules": {"default": [["add", "a", 1], ["create", ["list", {"_id": "x"}]]]}},
        {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "b", 2]]}}]}
    assert dtl.compile(pipe).apply({}) == [{"a": 1, "b": 2}, {"_id": "x", "b": 2}]


# -- hops against the in-memory provider: the customer/address example of the docs -----------

DATASETS = {
    "Address": [
        {"_id": "a1", "type": "SHIPPING", "country": "NO", "street": "Storgata 1"},
        {"_id": "a2", "type": "BILLING", "country": "SE", "street": "Kungsgatan 2"},
        {"_id": "a3", "type": "HOME", "country": "NO", "street": "Lia 3"},
        {"_id": "a4", "type": "BILLING", "country": "DK", "street": "gone", "_deleted": True},
    ],
    "Country": [{"_id": "NO", "name": "Norway"}, {"_id": "SE", "name": "Sweden"}],
}


def test_hops_joins_filters_and_returns():
    expr = ["hops", {"datasets": ["Address a", "Country c"], "return": "a",
                     "where": [["or", ["eq", "a.type", "SHIPPING"], ["eq", "a.type", "BILLING"]],
                               ["eq", "_S.address", "a._id"], ["eq", "c._id", "a.country"]]}]
    got = dtl.evaluate(expr, {"address": ["a1", "a2", "a3", "a4"]}, datasets=DATASETS)
    assert [a["_id"] for a in got] == ["a1", "a2"]


def test_hops_return_expression_and_chaining():
    expr = ["hops", {"datasets": ["Address a"], "where": ["eq", "_S.address", "a._id"]},
            {"datasets": ["Country c"], "where": ["eq", "_S.country", "c._id"],
             "return": "c.name"}]
    got = dtl.evaluate(expr, {"address": ["a1", "a2"]}, datasets=DATASETS)
    assert sorted(got) == ["Norway", "Sweden"]


def test_hops_many_to_many_overlap():
    data = {"B": [{"_id": "B", "values": [1, 3, 4, 6]}, {"_id": "C", "values": [7]}]}
    got = dtl.evaluate(["hops", {"datasets": ["B b"], "where": ["eq", "_S.values", "b.values"]}],
                       {"values": [1, 2, 4, 5]}, datasets=data)
    assert [b["_id"] for b in got] == ["B"]


def test_hops_computed_join_side_scans():
    data = {"B": [{"_id": "B", "values": [1, 3]}]}
    got = dtl.evaluate(["hops", {"datasets": ["B b"],
                                 "where": ["eq", ["+", "_S.value", 2], "b.values"]}],
                       {"value": 1}, datasets=data)
    assert [b["_id"] for b in got] == ["B"]


def test_hops_recursion():
    people = {"P": [{"_id": "p1", "children": ["p2"]}, {"_id": "p2", "children": ["p3"]},
                    {"_id": "p3"}]}
    spec = {"datasets": ["P p"], "where": ["eq", "_S.children", "p._id"], "recurse": True}
    got = dtl.evaluate(["hops", spec], {"_id": "p0", "children": ["p1"]}, datasets=people)
    assert [p["_id"] for p in got] == ["p0", "p1", "p2", "p3"]
    spec["exclude_root"] = True
    spec["max_depth"] = 2
    got = dtl.evaluate(["hops", spec], {"_id": "p0", "children": ["p1"]}, datasets=people)
    assert [p["_id"] for p in got] == ["p1", "p2"]


def test_hops_unreachable_alias_is_a_compile_error():
    with pytest.raises(dtl.DTLCompileError, match="cannot be reached"):
        dtl.compile_expression(["hops", {"datasets": ["A a", "B b"],
                                         "where": ["eq", "_S.x", "a.x"]}])


def test_hops_on_missing_dataset_fails_for_the_entity():
    with pytest.raises(dtl.DTLRuntimeError, match="does not exist"):
        dtl.evaluate(["hops", {"datasets": ["Nope n"], "where": ["eq", "_S.x", "n.x"]}], {"x": 1})


def test_apply_hops_and_lookup_entity():
    rules = {"default": [["add", "addr", ["apply-hops", "addr", {
        "datasets": ["Address a"], "where": ["eq", "_S.address", "a._id"]}]],
        ["add", "no", ["lookup-entity", "Country", "NO"]],
        ["add", "none", ["lookup-entity", "Country", "XX"]]],
        "addr": [["add", "street", "_S.street"], ["add", "who", "_P._S._id"]]}
    out = dtl.compile(rules, datasets=DATASETS).apply({"_id": "c", "address": "a3"})
    assert out == [{"addr": [{"street": "Lia 3", "who": "c"}],
                    "no": {"_id": "NO", "name": "Norway"}, "none": None}]


def test_runtime_errors_name_the_entity_and_position():
    t = dtl.compile('{"default": [["fail!", "bad input"]]}', file="r.json")
    with pytest.raises(dtl.DTLFailError) as info:
        t.apply({"_id": "e7"})
    assert "bad input" in str(info.value) and "e7" in str(info.value)
    assert "r.json:1:14" in str(info.value)


@pytest.mark.parametrize("backend", ["closure", "auto", "vector"])
def test_merge_union_adds_each_value_once(backend):
    # a union, a list once a key is seen twice: values already on the target are not added
    # again (a real node's merge-union of two equal hop results is a list of one)
    rules = [["merge-union", "_S.parts"]]
    src = {"parts": [{"a": 1, "c": {"x": 1}}, {"a": 1, "c": {"x": 1}}, {"a": 2, "c": {"x": 1}},
                     {"a": [2, 3, 3]}]}
    assert run(rules, src, backend=backend) == [{"a": [1, 2, 3], "c": [{"x": 1}]}]
    assert run(rules, {"parts": [{"a": 1}]}, backend=backend) == [{"a": 1}]


@pytest.mark.parametrize("backend", ["closure", "auto"])
def test_make_ni_of_integers(backend):
    # integer keys become identifiers by their decimal text (a real node merges on them);
    # booleans, floats and other non-strings are left out, as before
    rules = [["make-ni", "emp", "id"], ["make-ni", "emp", "ids"], ["make-ni", "emp", "flag"]]
    out = run(rules, {"id": 3402, "ids": [1, "a", True, 2.5], "flag": True}, backend=backend)
    assert out == [{"id-ni": dtl.values.NI("emp:3402"),
                    "ids-ni": [dtl.values.NI("emp:1"), dtl.values.NI("emp:a")]}]


@pytest.mark.parametrize("backend", ["closure", "auto", "vector"])
def test_source_ids_are_dynamic(backend):
    # caveats.rst: `_S.$ids` wraps the source's `_id` as an NI when there is no `$ids`, in
    # the pipe's identity namespace with namespaced identifiers (a qualified _id as it is)
    NI = dtl.values.NI
    rules = [["add", "ids", "_S.$ids"]]
    assert run(rules, {"_id": "a1"}, backend=backend) == [{"ids": [NI("a1")]}]
    assert run(rules, {"_id": "a1", "$ids": [NI("x:1")]}, backend=backend) == \
        [{"ids": [NI("x:1")]}]
    ns = {"namespaced_identifiers": True, "namespaces": {"identity": "crm"}}
    assert run(rules, {"_id": "a1"}, backend=backend, options=ns) == [{"ids": [NI("crm:a1")]}]
    assert run(rules, {"_id": "hr:7"}, backend=backend, options=ns) == [{"ids": [NI("hr:7")]}]
