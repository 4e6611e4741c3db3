"""With namespaced identifiers on, `_S.x` is `["path", "x", "_S."]`, and `path` is namespace
aware (hub/dtl/namespaces.rst): an unqualified element matches that identifier in every
namespace, `ns:x` only that one, `::x` the key as written. Same on every backend."""

import pytest

import dtl

OPTS = {"namespaced_identifiers": True, "namespaces": {"identity": "p", "property": "p"}}
RULES = {"default": [["add", "k", ["list", "_S.x", "_S.p:x", "_S.::plain", "_S.q:x",
                                   ["string", "_S.n"], "_S.sub.y"]]]}
SOURCE = {"_id": "p:1", "p:x": 1, "q:x": 2, "plain": 3, "p:n": 7, "p:sub": {"o:y": "deep"}}


@pytest.mark.parametrize("backend", ["closure", "auto", "vector"])
def test_shorthand_paths_are_namespace_aware(backend):
    t = dtl.compile(RULES, options=OPTS, backend=backend)
    expected = [[1, 2], 1, 3, 2, "7", "deep"]
    assert t.apply(dict(SOURCE))[0]["p:k"] == expected
    # and through a batch (the vector backend's columnar path)
    assert [o[0]["p:k"] for o in t.apply_each([dict(SOURCE), dict(SOURCE)])] == [expected] * 2


def test_without_namespaced_identifiers_paths_read_keys_as_written():
    t = dtl.compile(RULES)
    assert t.apply(dict(SOURCE))[0]["k"] == [None, 1, None, 2, None, None]


# -- hops joins read their dataset-side paths like DTL paths ---------------------------------

HOPPED = {"d": [{"_id": "x", "d:ORG_ID": {"d:value": "1"}, "d:name": "n", "d:code": ["A", "B"]},
                {"_id": "y", "d:ORG_ID": {"e:value": ["2", "1"]}, "d:name": "m", "p:code": "C"},
                {"_id": "z", "ORG_ID": {"value": "3"}, "d:name": "o"}]}


def _hops(where, ret="gd.name"):
    return {"default": [["add", "r", ["hops", {"datasets": ["d gd"], "where": where,
                                               "return": ret}]]]}


@pytest.mark.parametrize("backend", ["closure", "auto", "vector"])
@pytest.mark.parametrize("where,source,expected", [
    # unqualified elements: every namespace, at every level, list values flattened
    (["eq", "_S.org", "gd.ORG_ID.value"], {"p:org": "1"}, ["n", "m"]),
    (["eq", "_S.org", "gd.ORG_ID.value"], {"p:org": "2"}, ["m"]),
    (["eq", "_S.org", "gd.ORG_ID.d:value"], {"q:org": ["2", "1"]}, ["n"]),
    (["eq", "_S.org", "gd.code"], {"p:org": "C"}, ["m"]),
    (["eq", "_S.org", "gd.code"], {"p:org": "B"}, ["n"]),
    # qualified paths stay index lookups of the key as written; ':x' is the property namespace
    (["eq", "_S.org", "gd.d:ORG_ID.d:value"], {"p:org": "1"}, ["n"]),
    (["eq", "_S.org", "gd.:code"], {"p:org": "C"}, ["m"]),
    (["eq", "_S.org", "gd.::ORG_ID.::value"], {"p:org": "3"}, ["o"]),
    # an or-join with one unqualified branch
    (["or", ["eq", "_S.org", "gd.code"], ["eq", "_S.alt", "gd.d:name"]],
     {"p:org": "A", "p:alt": "o"}, ["n", "o"]),
])
def test_hops_joins_on_namespace_aware_paths(backend, where, source, expected):
    t = dtl.compile(_hops(where), options=OPTS, datasets=HOPPED, backend=backend)
    src = {"_id": "p:1", **source}
    assert t.apply(dict(src)) == [{"p:r": expected}]
    other = {"_id": "p:2", "p:org": "none"}
    assert [o[0]["p:r"] for o in t.apply_each([dict(src), dict(other), dict(src)])] == \
        [expected, [], expected]


@pytest.mark.parametrize("backend", ["closure", "auto", "vector"])
def test_hops_join_on_unqualified_path_in_a_columnar_filter(backend):
    # a filter may run columnar with namespaced identifiers: the join still reads namespaces
    rules = {"default": [["filter", ["gt", ["count", ["hops", {
        "datasets": ["d gd"], "where": ["eq", "_S.org", "gd.ORG_ID.value"]}]], 0]],
        ["copy", "_id"]]}
    t = dtl.compile(rules, options=OPTS, datasets=HOPPED, backend=backend)
    ins = [{"_id": "p:1", "p:org": "1"}, {"_id": "p:2", "p:org": "4"}, {"_id": "p:3", "p:org": "3"}]
    assert [[e["_id"] for e in o] for o in t.apply_each([dict(e) for e in ins])] == \
        [["p:1"], [], ["p:3"]]


def test_explain_lists_only_the_joins_that_are_index_lookups():
    rules = {"default": [
        ["add", "a", ["hops", {"datasets": ["d gd"], "where": ["eq", "_S.org", "gd.ORG_ID.value"]}]],
        ["add", "b", ["hops", {"datasets": ["d gd"], "where": ["eq", "_S.org", "gd.d:code"]}]],
        # system properties are never namespaced: joins on them stay index lookups
        ["add", "c", ["hops", {"datasets": ["d gd"], "where": ["eq", "_S.ref", "gd._id"]}]],
        ["add", "e", ["hops", {"datasets": ["d gd"], "where": ["eq", "_S.ref", "gd.$ids"]}]]]}
    from dtl.ir.explain import analyse
    from dtl.plan import build
    assert analyse(build(rules, options=OPTS))["lookups"] == ["d.$ids", "d._id", "d.d:code"]
    assert analyse(build(rules))["lookups"] == ["d.$ids", "d.ORG_ID.value", "d._id", "d.d:code"]
    from dtl.backends.vector.analysis import hops_reason
    from dtl.ir.nodes import Call, walk
    plan = build(rules, options=OPTS)
    calls = [n for n in walk(plan.programs[0].program) if isinstance(n, Call) and n.name == "hops"]
    assert "namespace-aware" in hops_reason(calls[0], True)
    assert hops_reason(calls[0], False) is None and hops_reason(calls[1], True) is None
