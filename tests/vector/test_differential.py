"""The vector backend against the closure backend (the oracle): hypothesis draws entities with
nulls, missing properties, mixed types and lists, and expressions from the registry's
kernel functions; both must give the same transit-encoded output (key order included)."""

import json

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dtl
from dtl.backends.vector import runner
from dtl.errors import DTLError
from dtl.transit import dumps

runner.STRICT = True  # an exception inside a batch is a bug here, not a reason to rerun

PROPS = ["a", "b", "c", "d"]
scalar = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
                   st.integers(-100, 100),
                   st.floats(allow_nan=False, allow_infinity=False, width=64),
                   st.sampled_from([0.125, 2.675, 1.005, -0.0, 1e300, 12.345]),
                   st.text("aBß@~ -é", max_size=6))
value = st.one_of(scalar, st.lists(scalar, max_size=3),
                  st.lists(st.fixed_dictionaries({"x": scalar}), max_size=3))


def column_typed(v):
    return st.one_of(st.none(), v)


@st.composite
def entities(draw):
    # per property one "home" type so that typed Arrow columns occur, plus noise
    homes = {p: draw(st.sampled_from([st.integers(-50, 50), st.floats(-1e6, 1e6),
                                      st.text("abc@Z", max_size=4), st.booleans(), value]))
             for p in PROPS}
    n = draw(st.integers(1, 12))
    out = []
    for i in range(n):
        e = {"_id": str(i)}
        for p in PROPS:
            k = draw(st.integers(0, 9))
            if k == 0:
                continue  # missing
            e[p] = None if k == 1 else draw(value) if k == 2 else draw(homes[p])
        out.append(e)
    return out


leaf = st.one_of(st.sampled_from([f"_S.{p}" for p in PROPS] + ["_S.a.x", "_S.b.x", "_T.o"]),
                 st.integers(-3, 3), st.sampled_from([1.5, 0.0, "@", "z", None, True, "é",
                                                      "-é", ["list"]]))


def call(children):
    one = st.sampled_from(["upper", "lower", "first", "is-null", "is-not-null", "count",
                           "sum", "sorted-descending", "string", "length"])
    two = st.sampled_from(["plus", "minus", "multiply", "+", "-", "*", "eq", "neq", "gt",
                           "gte", "lt", "lte", "split", "if-null", "concat", "round"])
    return st.one_of(
        st.tuples(one, children).map(lambda t: [t[0], t[1]]),
        st.tuples(two, children, children).map(lambda t: [t[0], t[1], t[2]]),
        st.tuples(st.sampled_from([1, 2, 3]), children).map(lambda t: ["round", t[0], t[1]]),
        st.tuples(children, children, children).map(lambda t: ["if", *t]),
        # the fused shape ["first", ["split", SEP, X]] and concat with several parts
        st.tuples(st.sampled_from(["@", "é", "ab", " "]), children).map(
            lambda t: ["first", ["split", t[0], t[1]]]),
        st.lists(children, min_size=3, max_size=4).map(lambda xs: ["concat", *xs]))


expressions = st.recursive(leaf, call, max_leaves=6)


def _run(t, ents):
    out = []
    for e in ents:
        try:
            out.append(("ok", t.apply(e)))
        except DTLError as err:
            out.append(("error", type(err).__name__))
    return out


def _dump(rows):
    return [dumps(r) for r in rows]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(entities(), expressions, expressions, st.booleans())
def test_expressions_agree(ents, e1, e2, filt):
    rules = [["copy", "a"], ["add", "o", e1], ["add", "p", e2]]
    if filt:
        rules.insert(1, ["filter", ["is-not-null", e1]])
    rules.append(["remove", "b"])
    doc = json.dumps({"default": rules})
    try:
        ref = dtl.compile(doc, backend="closure")
        vec = dtl.compile(doc, backend="vector")
    except DTLError:
        return
    expected = _run(ref, ents)
    if any(k == "error" for k, _ in expected):
        return  # errors: the batch reruns per entity on the closure path (tested below)
    got = vec.apply_batch(ents)
    assert _dump(got) == _dump([r for _, rs in expected for r in rs])


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(entities(), expressions, expressions)
def test_expressions_agree_on_sliced_arrow_batches(ents, e1, e2):
    """Arrow input as the bench and storage give it: a slice of a bigger batch (buffers with
    offsets), nulls for absent properties, transit strings decoded."""
    from dtl.transit import decode
    try:
        rb = pa.RecordBatch.from_pylist(ents + ents)
    except (pa.ArrowException, OverflowError):
        return  # mixed types in a property: not an Arrow batch
    part = rb.slice(len(ents))
    doc = json.dumps({"default": [["copy", "a"], ["add", "o", e1], ["add", "p", e2]]})
    try:
        ref = dtl.compile(doc, backend="closure")
        vec = dtl.compile(doc, backend="vector")
    except DTLError:
        return
    rows = [decode(r) for r in part.to_pylist()]
    expected = _run(ref, rows)
    if any(k == "error" for k, _ in expected):
        return
    assert _dump(vec.apply_batch(part)) == _dump([r for _, rs in expected for r in rs])


def test_errors_rerun_per_entity():
    vec = dtl.compile({"default": [["add", "x", ["divide", 0, "_S.a"]],
                                   ["add", "y", ["integer", "_S.b"]]]}, backend="vector")
    ref = dtl.compile({"default": [["add", "x", ["divide", 0, "_S.a"]],
                                   ["add", "y", ["integer", "_S.b"]]]}, backend="closure")
    ents = [{"_id": "1", "a": 2, "b": "7"}, {"_id": "2", "a": None, "b": "x"}]
    assert vec.apply_batch(ents) == [r for e in ents for r in ref.apply(e)]


@pytest.mark.parametrize("t", ["t1", "t2", "t3"])
def test_bench_transforms_on_arrow(t):
    import os
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rules = open(os.path.join(here, "bench", "transforms", f"{t}.json")).read()
    persons = [
        {"_id": "p1", "name": "ann", "email": "ann@x.no", "age": 40, "salary": 2.675,
         "country": "NO", "active": True, "tags": ["a"], "address": {"city": "Oslo"},
         "orders": [{"id": 3, "amount": 1.5}, {"id": 9, "amount": None}]},
        {"_id": "p2", "name": None, "email": None, "age": None, "salary": None,
         "country": None, "active": True, "tags": None, "address": None, "orders": None},
        {"_id": "p3", "name": "Bo", "email": "b", "age": 39, "salary": 1e6, "country": "SE",
         "active": None, "tags": [], "address": {"city": None}, "orders": []},
    ]
    orders = [{"_id": "o1", "person": "p1", "amount": 2.0},
              {"_id": "o2", "person": "p1", "amount": None},
              {"_id": "o3", "person": "p3", "amount": 4.25}]
    ref = dtl.compile(rules, backend="closure", datasets={"orders": orders})
    vec = dtl.compile(rules, backend="vector", datasets={"orders": orders})
    expected = [r for e in persons for r in ref.apply(e)]
    rb = pa.RecordBatch.from_pylist(persons)
    assert _dump(vec.apply_batch(rb)) == _dump(expected)
    assert _dump(vec.apply_batch(persons)) == _dump(expected)
