"""The vector backend against the closure backend (the oracle): hypothesis draws entities with
nulls, missing properties, mixed types and lists, and expressions from the registry's
kernel functions; both must give the same transit-encoded output (key order included)."""

import json

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dtl
from dtl.errors import DTLError
from dtl.transit import dumps
from tests.vector.strategies import entities, expressions

pytestmark = pytest.mark.usefixtures("strict_batches")


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
