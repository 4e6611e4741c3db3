"""Transform.apply_each: per input entity its outputs or its exception, equal to calling
`apply` per entity (key order, `_filtered`, errors), whether the batch ran columnar (vector
backend) or entity by entity."""

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dtl
from dtl.backends.vector import runner
from dtl.errors import DTLError
from dtl.transit import dumps

from tests.vector.strategies import entities, expressions

# fails (DTLRuntimeError) exactly for the entities whose `a` equals 0
FAILS_ON_A0 = ["add", "y", ["datetime-format", ["if", ["eq", "_S.a", 0], 1, "%Y"],
                            "~t2020-01-01T00:00:00Z"]]


def _outcome(r):
    if isinstance(r, Exception):
        return ("error", type(r).__name__, str(r))
    return ("ok", [dumps(x) for x in r])


def _per_entity(t, ents):
    out = []
    for e in ents:
        try:
            out.append(t.apply(e))
        except Exception as ex:  # noqa: BLE001
            out.append(ex)
    return out


class _Counting:
    """Wraps a VectorStage's columnar `run` and counts the batches it was given."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, b, filtered):
        self.calls += 1
        return self.fn(b, filtered)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(entities(deleted=True), expressions, expressions,
       st.sampled_from([None, "filter", "discard"]), st.booleans(), st.booleans())
def test_apply_each_equals_apply_per_entity(ents, e1, e2, stop, mark_filtered, failing):
    rules = [["copy", "a"], ["add", "o", e1], ["add", "p", e2]]
    if stop:
        rules.insert(1, [stop, ["is-not-null", e1]])
    if failing:
        rules.append(FAILS_ON_A0)
    rules.append(["remove", "b"])
    doc = json.dumps({"default": rules})
    try:
        ref = dtl.compile(doc, backend="closure", mark_filtered=mark_filtered)
        vec = dtl.compile(doc, backend="vector", mark_filtered=mark_filtered)
        auto = dtl.compile(doc, backend="auto", mark_filtered=mark_filtered)
    except DTLError:
        return
    expected = [_outcome(r) for r in _per_entity(ref, ents)]
    errors = any(k == "error" for k, *_ in expected)
    assert vec.vector[0].run is not None  # every transform here is columnar
    spy = vec.vector[0].run = _Counting(vec.vector[0].run)
    old = runner.STRICT
    # without errors the columnar run must not raise (a fallback would hide a mapping bug)
    runner.STRICT = not errors
    try:
        got = [_outcome(r) for r in vec.apply_each(ents)]
    finally:
        runner.STRICT = old
    assert got == expected
    assert spy.calls == (1 if len(ents) > 1 else 0)
    assert [_outcome(r) for r in _per_entity(vec, ents)] == expected
    assert spy.calls == (1 if len(ents) > 1 else 0)  # apply: no batch for one entity
    assert [_outcome(r) for r in auto.apply_each(ents)] == expected


def test_filtered_and_discarded_entities():
    rules = {"default": [["filter", ["neq", "_S.skip", True]], ["discard", ["neq", "_S.d", 1]],
                         ["copy", "_id"], ["add", "n", ["upper", "_S.name"]]]}
    ents = [{"_id": "1", "name": "a"}, {"_id": "2", "skip": True, "name": "b"},
            {"_id": "3", "d": 1, "name": "c"}, {"_id": "4", "name": "x"}]
    marked = dtl.compile(rules, backend="vector", mark_filtered=True)
    spy = marked.vector[0].run = _Counting(marked.vector[0].run)
    assert marked.apply_each(ents) == [
        [{"_id": "1", "n": "A"}], [{"_filtered": True}], [],  # filtered before copy _id
        [{"_id": "4", "n": "X"}]]
    assert spy.calls == 1
    plain = dtl.compile(rules, backend="vector")
    assert plain.apply_each(ents) == [[{"_id": "1", "n": "A"}], [], [], [{"_id": "4", "n": "X"}]]
    assert plain.apply_each([]) == []


def test_a_failing_entity_reruns_the_batch_entity_by_entity():
    doc = {"default": [["copy", "_id"], ["copy", "a"], FAILS_ON_A0]}
    vec = dtl.compile(doc, backend="vector")
    spy = vec.vector[0].run = _Counting(vec.vector[0].run)
    got = vec.apply_each([{"_id": "x", "a": 1}, {"_id": "y", "a": 0}, {"_id": "z", "a": 2}])
    assert spy.calls == 1
    assert got[0] == [{"_id": "x", "a": 1, "y": "2020"}]
    assert isinstance(got[1], dtl.DTLError) and got[1].entity_id == "y"
    assert "format string must be a string" in str(got[1])
    assert got[2] == [{"_id": "z", "a": 2, "y": "2020"}]


def test_not_columnar_rules_and_chained_programs_run_per_entity():
    chained = dtl.compile({"transform": [
        {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "n", 1]]}},
        {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "m", ["plus", "_S.n", 1]]]}}]},
        backend="vector")
    ents = [{"_id": "1"}, {"_id": "2", "n": 5}]
    assert chained.apply_each(ents) == [[{"_id": "1", "n": 1, "m": 2}],
                                        [{"_id": "2", "n": 1, "m": 2}]]
    creates = dtl.compile({"default": [["copy", "_id"], ["create", ["list", {"_id": "k"}]]]},
                          backend="vector")
    assert creates.vector[0].run is None
    assert creates.apply_each(ents) == [[{"_id": "1"}, {"_id": "k"}], [{"_id": "2"}, {"_id": "k"}]]


def test_auto_batches_columnar_only_where_a_columnar_join_pays():
    from dtl.ir.explain import render_text
    join = {"default": [["copy", "_id"],
                        ["add", "n", ["count", ["hops", {"datasets": ["orders o"],
                                                         "where": ["eq", "_S._id", "o.p"]}]]]]}
    orders = [{"_id": "o1", "p": "a"}, {"_id": "o2", "p": "a"}, {"_id": "o3", "p": "b"}]
    auto = dtl.compile(join, backend="auto", datasets={"orders": orders})
    assert auto.batched
    spy = auto.vector[0].run = _Counting(auto.vector[0].run)
    assert auto.apply_each([{"_id": "a"}, {"_id": "b"}, {"_id": "c"}]) == [
        [{"_id": "a", "n": 2}], [{"_id": "b", "n": 1}], [{"_id": "c", "n": 0}]]
    assert spy.calls == 1
    assert "batches: vector" in render_text(auto.plan)
    # a plain map, and a join that is not one plain eq (two datasets), stay row at a time
    plain = dtl.compile({"default": [["copy", "_id"], ["add", "x", ["upper", "_S.n"]]]})
    assert not plain.batched and "batches: vector" not in render_text(plain.plan)
    two = {"default": [["add", "n", ["count", ["hops", {
        "datasets": ["orders o", "orders q"],
        "where": [["eq", "_S._id", "o.p"], ["eq", "o.p", "q.p"]]}]]]]}
    assert not dtl.compile(two, datasets={"orders": orders}).batched
    assert not dtl.compile(join, backend="closure", datasets={"orders": orders}).batched
