"""Canonical bytes, hashes, and body round trips through segments for every value type."""

import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dtl.values import NI, URI, DateTime, deep_equal
from storage import hashing, segments
from storage.errors import EntityError
from storage.hashing import canonical, decode_body, entity_hash

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.text(), st.text().map(lambda s: "~" + s), st.sampled_from(["~:a", "~t2015", "~~x", "~f1"]),
    st.text(min_size=1).map(NI), st.text(min_size=1).map(URI), st.uuids(), st.binary(),
    st.integers(min_value=-62135596800 * 10**9, max_value=253402300799 * 10**9).map(DateTime),
)
values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4),
                                                   st.dictionaries(st.text(max_size=5), c, max_size=4)),
                      max_leaves=12)
entities = st.builds(lambda i, d: {"_id": i, **d}, st.text(),
                     st.dictionaries(st.text(max_size=6).filter(lambda k: not k.startswith("_")), values,
                                     max_size=6))


@settings(max_examples=300, deadline=None)
@given(entities)
def test_fast_path_equals_exact_path(e):
    assert canonical(e) == hashing._exact(e)


@settings(max_examples=150, deadline=None)
@given(st.lists(entities, min_size=1, max_size=8))
def test_bodies_round_trip_through_segments(tmp_path_factory, ents):
    rows = hashing.check_batch(ents)
    n = len(rows)
    t = segments.build_table(list(range(n)), [r[0] for r in rows], [r[3] for r in rows], 1,
                             [r[2] for r in rows], [None] * n, [r[1] for r in rows],
                             *segments.typed_columns([r[4] for r in rows]))
    d = tmp_path_factory.mktemp("seg")
    segments.write(t, str(d), "s.parquet", fsync=False)
    back = segments.read(str(d / "s.parquet"))
    for e, body in zip(ents, back.column("body").to_pylist()):
        got = decode_body(body)
        assert deep_equal(got, e) and hashing.canonical(got) == canonical(e)
        for k, v in got.items():  # types survive exactly, not just DTL-equal
            assert type(v) is type(e[k])
    for name in back.column_names:
        if name.startswith("p:"):
            vals = back.column(name).to_pylist()
            for e, v in zip(ents, vals):
                assert v == e.get(name[2:]) and (v is None or type(v) is type(e[name[2:]]))
                if v is not None:   # nested columns too: exactly the value (1 is not 1.0)
                    assert canonical({"v": v}) == canonical({"v": e[name[2:]]})


def test_type_tags_keep_numbers_and_booleans_apart():
    hs = {entity_hash({"_id": "a", "v": v}) for v in (1, 1.0, Decimal("1.0"), Decimal("1"), True, "1")}
    assert len(hs) == 6


def test_hash_ignores_writer_properties_and_key_order():
    a = {"_id": "a", "x": 1, "y": [1, {"_z": 2}]}
    b = {"y": [1, {"_z": 2}], "_updated": 9, "_ts": 5, "_hash": "zz", "_previous": 3, "x": 1,
         "_id": "a", "_deleted": False, "_filtered": False, "_other": 1}
    assert entity_hash(a) == entity_hash(b)
    assert entity_hash(a) != entity_hash({**a, "_deleted": True})
    assert entity_hash(a) == entity_hash({**a, "_deleted": "yes"})  # only literal true deletes
    assert entity_hash(a) != entity_hash({**a, "y": [{"_z": 2}, 1]})  # lists keep order
    assert len(entity_hash(a)) == 32


def test_tagged_lookalikes_hash_apart():
    u = uuid.UUID(int=7)
    assert entity_hash({"_id": "a", "v": u}) != entity_hash({"_id": "a", "v": str(u)})
    assert entity_hash({"_id": "a", "v": NI("x")}) != entity_hash({"_id": "a", "v": "~:x"})
    assert entity_hash({"_id": "a", "v": URI("x")}) != entity_hash({"_id": "a", "v": NI("x")})


@pytest.mark.parametrize("bad, why", [
    ({"x": 1}, "missing _id"), ([1], "not an object"), ({"_id": 1}, "_id must be a string"),
    ({"_id": "a", "v": float("nan")}, "non-finite"), ({"_id": "a", "v": {1: 2}}, "non-string key"),
    ({"_id": "a", "v": {1, 2}}, "unencodable set"), ({"_id": "a", "v": [float("inf")]}, "non-finite"),
])
def test_bad_entities_are_named(bad, why):
    with pytest.raises(EntityError) as ei:
        hashing.check_batch([{"_id": "ok"}, bad])
    assert why in str(ei.value) and "entity #1" in str(ei.value)
    assert ei.value.problems[0][0] == 1
