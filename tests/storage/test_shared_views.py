"""SharedViews (storage/provider.py): derived views outlive the provider that built them, for
the same dataset content only."""

import pytest

from storage import Store, StoreProvider
from storage.provider import SharedViews


def _put(st, name, rows, shards=None):
    if shards and not st.exists(name):
        st.create_partitioned(name, shards)
    ds = st.open(name, writer=True, create=True)
    try:
        ds.append(rows)
    finally:
        ds.close()


@pytest.mark.parametrize("shards", [None, 3])
def test_views_are_shared_for_the_same_content(tmp_path, shards):
    st = Store(str(tmp_path))
    _put(st, "d", [{"_id": f"x{i}", "k": i} for i in range(20)], shards)
    views = SharedViews()
    a = StoreProvider(st, views=views)
    a.derived("d")["vector"] = "built by a"
    a.derived("d")[("mine", 1)] = "a's own"
    cols = a.latest_columns("d")
    a.close()                       # the views stay readable after the provider is closed
    assert sorted(e["_id"] for e in cols.entities()) == sorted(f"x{i}" for i in range(20))
    b = StoreProvider(st, views=views)
    assert b.derived("d").get("vector") == "built by a"
    assert ("mine", 1) not in b.derived("d")         # keys of a caller's objects stay its own
    _put(st, "d", [{"_id": "x1", "k": 100}], shards)   # new content: new views
    assert b.derived("d").get("vector") is None
    b.derived("d")["vector"] = "built by b"
    b.close()
    # closed, the views hold no handle: the dataset can be deleted and made again (a handle
    # kept open would keep its index for the new dataset of the same path)
    views.close()
    st.delete("d")
    _put(st, "d", [{"_id": "y", "k": 1}], shards)
    c = StoreProvider(st, views=views)
    assert c.derived("d").get("vector") is None
    assert [e["_id"] for e in c.latest_columns("d").entities()] == ["y"]
    c.close()
    views.close()


def test_without_shared_views_nothing_outlives_the_provider(tmp_path):
    st = Store(str(tmp_path))
    _put(st, "d", [{"_id": "x", "k": 1}])
    a = StoreProvider(st)
    a.derived("d")["vector"] = 1
    a.close()
    b = StoreProvider(st)
    assert b.derived("d").get("vector") is None
    b.close()
