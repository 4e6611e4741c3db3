"""The DTL dataset-provider protocol over a Store: `hops`, `apply-hops` and `lookup-entity`
read latest non-deleted versions through the primary and secondary indexes."""

from __future__ import annotations

from storage.errors import NoSuchDataset
from storage.store import Store

_RESERVED = ("_updated", "_ts", "_hash", "_previous")


class StoreProvider:
    def __init__(self, store: Store | str | None = None):
        self.store = store if isinstance(store, Store) else Store(store)
        self._open: dict = {}

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

    def has_dataset(self, dataset):
        return self.store.exists(dataset)

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
        ds = self._ds(dataset)
        if ds is None:
            return iter(())
        return (e for e in ds.index.scan() )
