"""Columnar hops against a stored dataset: the join view built from the segments' typed columns
(storage.latest + vector.views.ArrowView) gives what the closure backend's lookups give, over
several commits (superseded and deleted versions, segments whose typed columns differ)."""

import json
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dtl
from dtl.backends.vector import joins
from dtl.backends.vector.views import ArrowView
from dtl.errors import DTLError
from dtl.transit import dumps
from storage.provider import StoreProvider
from storage.store import Store

pytestmark = pytest.mark.usefixtures("strict_batches")

key = st.one_of(st.sampled_from(["a", "b", "c", "~x", "é"]), st.integers(0, 3), st.none())
amount = st.one_of(st.none(), st.integers(-5, 5), st.floats(-10, 10),
                   st.sampled_from([0.1, 2.5, "x", True, Decimal("1.5"), "~y"]))


@st.composite
def commits(draw):
    """Batches of orders (later batches update and delete earlier ids)."""
    home_key = draw(st.sampled_from([st.sampled_from(["a", "b", "c"]), st.integers(0, 3), key]))
    home_amount = draw(st.sampled_from([st.floats(-10, 10), st.integers(-5, 5), amount]))
    out = []
    for _ in range(draw(st.integers(1, 4))):
        batch = {}
        for _ in range(draw(st.integers(0, 6))):
            i = draw(st.integers(0, 12))   # o10 sorts before o2: _id order is not insertion order
            e = {"_id": f"o{i}"}
            k = draw(st.integers(0, 8))
            if k == 1:
                e["p"] = None
            elif k == 2:
                e["p"] = draw(key)
            elif k == 3:
                e["p"] = [draw(key)]
            elif k > 3:
                e["p"] = draw(home_key)
            if draw(st.integers(0, 5)):
                e["amount"] = draw(home_amount) if draw(st.integers(0, 4)) else draw(amount)
            if draw(st.integers(0, 6)) == 0:
                e["_deleted"] = True
            batch[e["_id"]] = e
        out.append(list(batch.values()))
    return out


def _store(tmp, batches):
    store = Store(str(tmp))
    with store.open("orders", writer=True, create=True) as ds:
        for b in batches:
            ds.append(b)
    return StoreProvider(store)


RULES = [["copy", "_id"],
         ["add", "j", ["hops", {"datasets": ["orders o"], "where": ["eq", "_S.k", "o.p"]}]],
         ["add", "n", ["count", "_T.j"]],
         ["add", "t", ["plus", 0.0, ["sum", "_T.j.amount"]]],
         ["add", "v", "_T.j.amount"],
         ["add", "ids", "_T.j._id"]]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(commits(), st.one_of(
    st.lists(st.sampled_from(["a", "b", "c", "é"]), min_size=1, max_size=6),   # columnar keys
    st.lists(st.one_of(key, st.lists(key, max_size=2)), min_size=1, max_size=6)),
    st.booleans())
def test_store_view_agrees(tmp_path_factory, batches, ks, keep):
    prov = _store(tmp_path_factory.mktemp("s"), batches)
    try:
        doc = json.dumps({"default": RULES + ([] if keep else [["remove", "j"]])})
        ps = [{"_id": f"p{i}", "k": k} for i, k in enumerate(ks)]
        ref = dtl.compile(doc, backend="closure", provider=prov)
        try:
            expected = [dumps(r) for e in ps for r in ref.apply(e)]
        except DTLError:
            return
        vec = dtl.compile(doc, backend="vector", provider=prov)
        assert [dumps(r) for r in vec.apply_batch(ps)] == expected
    finally:
        prov.close()


def test_view_reads_columns_not_bodies(tmp_path, monkeypatch):
    """The T3 shape: the view comes from typed columns; no entity dict is built."""
    orders = [{"_id": f"o{i}", "person": f"p{i % 7}", "amount": i * 0.5} for i in range(50, 0, -1)]
    orders[3]["person"] = None
    del orders[4]["amount"]
    prov = _store(tmp_path, [orders[:20], orders[20:], [dict(orders[0], amount=99.0)]])
    try:
        doc = {"default": [["copy", "_id"],
                           ["add", "_o", ["hops", {"datasets": ["orders o"],
                                                   "where": ["eq", "_S._id", "o.person"]}]],
                           ["add", "n", ["count", "_T._o"]],
                           ["add", "t", ["plus", 0.0, ["sum", "_T._o.amount"]]],
                           ["add", "ids", "_T._o._id"],
                           ["remove", "_o"]]}
        ps = [{"_id": f"p{i}"} for i in range(9)]
        expected = [r for e in ps for r in dtl.compile(doc, backend="closure",
                                                        provider=prov).apply(e)]
        views = []
        real = joins.view

        def spy(p, d, probe=None):
            v = real(p, d, probe)
            views.append(v)
            return v
        monkeypatch.setattr(joins, "view", spy)
        vec = dtl.compile(doc, backend="vector", provider=prov)
        # the first probe's view holds only the orders its keys hit; the next batch joins
        # against the whole dataset's view, with the same results
        got = [r for part in (ps[:2], ps[2:])
               for r in vec.apply_batch(pa.RecordBatch.from_pylist(part))]
        assert got == expected
        assert views and all(isinstance(v, ArrowView) for v in views)
        assert all(v._ents is None for v in views)   # bodies never read
        assert expected[0]["n"] > 0
        assert views[0].src.n == 15 and views[-1].src.n == 50
    finally:
        prov.close()
