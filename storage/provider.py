"""The DTL dataset-provider protocol over a Store: `hops`, `apply-hops` and `lookup-entity`
read latest non-deleted versions through the primary and secondary indexes.

`derived(dataset)` is a cache for views that backends build from a dataset's content (the
vector backend's columnar copy for hops joins): it is emptied whenever the dataset's index has
applied a new commit (checked per call: one LMDB read of the commit sequence number). With a
`SharedViews`, the cache outlives the provider: the providers of a worker's tasks share the
views of a dataset content (runtime/executor/task.py).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from itertools import chain

from storage.errors import NoSuchDataset
from storage.index import MAX_KEY
from storage.store import Store

_RESERVED = ("_updated", "_ts", "_hash", "_previous")


def _generation(ds):
    """What tells a dataset from one deleted and created again under its name."""
    shards = getattr(ds, "shards", None)
    if shards is not None:
        return tuple(_generation(s) for s in shards)
    return ds.state().props.get("generation")


class SharedViews:
    """Derived-view caches kept across providers of one store: per dataset its own read
    handle (views read entities through it lazily, after the provider that asked is closed),
    the generation and commit sequence number the views were built at, and the cache. Close
    it before its datasets may be deleted: a process keeping a dataset open keeps its index
    for a new dataset made under the same path (storage.index shares one environment per
    path and process)."""

    def __init__(self):
        self._d: dict = {}

    def entry(self, store, dataset, ds) -> tuple:
        """(handle, cache) for the content `ds` (a provider's current handle) has."""
        gen, seq = _generation(ds), ds.index.seq()
        got = self._d.get(dataset)
        if got is None or got[1] != gen or got[2] != seq:
            if got is not None:
                got[0].close()
            got = self._d[dataset] = (store.open(dataset), gen, seq, {})
        return got[0], got[3]

    def close(self):
        for h, *_ in self._d.values():
            h.close()
        self._d.clear()


class _Layered(MutableMapping):
    """A provider's derived cache over a shared one: string keys in `shared`, others here."""

    def __init__(self, shared):
        self.shared, self.own = shared, {}

    def _of(self, key):
        return self.shared if type(key) is str else self.own

    def __getitem__(self, key):
        return self._of(key)[key]

    def __setitem__(self, key, value):
        self._of(key)[key] = value

    def __delitem__(self, key):
        del self._of(key)[key]

    def __iter__(self):
        return chain(self.shared, self.own)

    def __len__(self):
        return len(self.shared) + len(self.own)


class StoreProvider:
    def __init__(self, store: Store | str | None = None, declared=None, views=None):
        """`declared(name)`: whether a dataset not stored yet exists all the same (a hub's
        sink datasets exist once their pipes are loaded: hops into them find nothing).
        `views`: a SharedViews of the same store that `derived` keeps its caches in."""
        self.store = store if isinstance(store, Store) else Store(store)
        self.declared = declared
        self.views = views
        self._open: dict = {}
        self._derived: dict = {}   # dataset -> (Dataset handle, index commit seq, cache)

    def _ds(self, name):
        ds = self._open.get(name)
        if ds is None:
            try:
                ds = self._open[name] = self.store.open(name)
            except NoSuchDataset:
                return None
        return ds

    def close(self):
        for ds in self._open.values():
            ds.close()
        self._open.clear()
        self._derived.clear()

    def derived(self, dataset) -> dict:
        """A per-dataset cache for views derived from its content, emptied when the content
        changes (a commit applied to the dataset's index; compactions count too). String keys
        are views of the content alone (with `views`, shared beyond this provider); other keys
        are a caller's own (keyed by its objects) and live as long as this provider."""
        ds = self._ds(dataset)
        if ds is None:
            self._derived.pop(dataset, None)
            return {}
        seq = ds.index.seq()
        got = self._derived.get(dataset)
        if got is None or got[0] is not ds or got[1] != seq:
            cache = {} if self.views is None else \
                _Layered(self.views.entry(self.store, dataset, ds)[1])
            got = self._derived[dataset] = (ds, seq, cache)
        return got[2]

    def latest_columns(self, dataset, where=None):
        """The latest live versions of `dataset` as Arrow columns (storage.latest), or None
        for an unknown dataset; with `where` [(property, keys)] only the versions whose
        property holds a key, or None when the typed columns cannot tell. The segments are
        read once per dataset content (kept in `derived`)."""
        ds = self._ds(dataset)
        if ds is None:
            return None
        if self.views is not None:     # views outlive this provider: read through theirs
            ds = self.views.entry(self.store, dataset, ds)[0]
        from storage.latest import LatestColumns, NotFilterable, read_parts
        try:
            if getattr(ds, "partitioned", False):
                from storage.partitioned import LatestColumnsAll
                return LatestColumnsAll(ds, where)
            cache = self.derived(dataset)
            parts = cache.get("latest-parts")
            if parts is None:
                parts = cache["latest-parts"] = read_parts(ds)
            return LatestColumns(ds, parts, where)
        except NotFilterable:
            return None

    def has_dataset(self, dataset):
        return self.store.exists(dataset) or (self.declared is not None
                                              and self.declared(dataset))

    def get(self, dataset, entity_id):
        ds = self._ds(dataset)
        if ds is None:
            return None
        e = ds.get(entity_id)
        return None if e is None or e["_deleted"] else e

    def lookup(self, dataset, path, values):
        ds = self._ds(dataset)
        if ds is None:
            return []
        return ds.lookup(tuple(path), values)

    def scan(self, dataset):
        """Latest non-deleted entities in `_id` order: the order of `lookup`, so positions in
        a view built from a scan agree with lookup results."""
        ds = self._ds(dataset)
        if ds is None:
            return iter(())
        return _id_order(ds.index.scan())


def _low_key(eid) -> bool:
    """Whether the index key of `eid` starts with a zero byte: a hashed long id (placed first
    in id-key order, not where its `_id` sorts; "" is hashed too) or an id starting with NUL."""
    return not eid or eid[:1] == "\x00" or (len(eid) * 4 > MAX_KEY and len(eid.encode()) > MAX_KEY)


def _id_order(entities):
    """Index scans are in id-key order, which is `_id` order (UTF-8 byte order is code point
    order) except for the keys starting with a zero byte, which all come first: sort those and
    merge them into the rest."""
    it = iter(entities)
    head, first = [], None
    for e in it:
        if not _low_key(e["_id"]):
            first = e
            break
        head.append(e)
    if not head:
        if first is not None:
            yield first
            yield from it
        return
    head.sort(key=_by_id)
    h, nh = 0, len(head)
    rest = it if first is None else chain((first,), it)
    for x in rest:
        xid = x["_id"]
        while h < nh and head[h]["_id"] < xid:
            yield head[h]
            h += 1
        yield x
        if h == nh:
            yield from rest
            return
    yield from head[h:]


def _by_id(e):
    return e["_id"]
