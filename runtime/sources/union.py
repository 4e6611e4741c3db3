"""`union_datasets` and `merge_datasets`: several datasets read as one, with a composite offset
{dataset: offset}. Union prefixes ids `<dataset>:<_id>` unless `prefix_ids` is false;
merge_datasets keeps ids (strategy `latest`: the latest version across datasets by `_ts` wins).

Ours: datasets are read one after the other (not interleaved by `_ts`); for merge_datasets the
sink's hash check makes repeated ids harmless, and the later dataset's version wins in a pass."""

from __future__ import annotations

from runtime.sources.base import Batch, Source, chunks, inputs_populated


class UnionSource(Source):
    def __init__(self, pipe, component, batch_size, store, merge=False):
        self.component = component
        names = tuple(str(d).split()[0] for d in component["datasets"])
        super().__init__(pipe, batch_size, supports_since=True, is_chronological=True,
                         datasets=names)
        self.store = store
        self.merge = merge
        self.prefix = (not merge) and bool(component.get("prefix_ids", True))
        self.history = bool(component.get("include_previous_versions", False))
        self._ds = {}

    def _open(self, n):
        if n not in self._ds and self.store.exists(n):
            self._ds[n] = self.store.open(n)
        return self._ds.get(n)

    def _out(self, n, e):
        if self.prefix:
            e = dict(e)
            e["_id"] = f"{n}:{e['_id']}"
        return e

    def read(self, since):
        since = dict(since or {})
        for n in self.datasets:
            ds = self._open(n)
            if ds is None:
                continue
            for ch in chunks(ds.entities(since=since.get(n), history=self.history),
                             self.batch_size):
                since[n] = ch[-1]["_updated"]
                yield Batch([self._out(n, e) for e in ch], dict(since))

    def end_since(self):
        return {n: (self._open(n).last_offset if self._open(n) else -1) for n in self.datasets}

    def populated(self):
        return inputs_populated(self.component, self.datasets, self._ds_populated,
                                self._ds_exists)

    def dependents(self, path, values):
        keys = set()
        for n in self.datasets:
            ds = self._open(n)
            if ds is not None:
                keys.update((n, e["_id"]) for e in ds.lookup(tuple(path), values))
        return keys

    def refetch(self, keys, limit):
        for ch in chunks(sorted(keys), self.batch_size):
            out = []
            for n, eid in ch:
                e = self._open(n).get(eid)
                if e is not None and not (limit and e["_updated"] > limit.get(n, -1)):
                    out.append(self._out(n, e))
            yield out

    def close(self):
        for ds in self._ds.values():
            ds.close()
        self._ds.clear()
