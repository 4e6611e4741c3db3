"""`dataset`: a dataset's latest versions (or every version with `include_previous_versions`)
in offset order; `since` is the last `_updated` read."""

from __future__ import annotations

from runtime.sources.base import Batch, Source, chunks


class DatasetSource(Source):
    def __init__(self, pipe, component, batch_size, store):
        super().__init__(pipe, batch_size, supports_since=True, is_chronological=True,
                         datasets=(component["dataset"],))
        self.name = component["dataset"]
        self.history = bool(component.get("include_previous_versions", False))
        self.store = store
        self._ds = None

    def _open(self):
        if self._ds is None and self.store.exists(self.name):
            self._ds = self.store.open(self.name)
        return self._ds

    def read(self, since):
        ds = self._open()
        if ds is None:
            return
        for b in chunks(ds.entities(since=since, history=self.history, deleted=True,
                                    batch_size=max(self.batch_size, 1024)), self.batch_size):
            yield Batch(b, b[-1]["_updated"])

    def last_offset(self):
        ds = self._open()
        return -1 if ds is None else ds.last_offset

    def get(self, entity_id):
        ds = self._open()
        return None if ds is None else ds.get(entity_id)

    def lookup(self, path, values):
        ds = self._open()
        return [] if ds is None else ds.lookup(tuple(path), values)

    def populated(self):
        return self._ds_populated(self.name)

    def close(self):
        if self._ds is not None:
            self._ds.close()
            self._ds = None

    def end_since(self):
        return self.last_offset()
