"""The source protocol: `read(since)` yields `Batch`es; each carries the continuation value to
save once the batch has been written. Connectors (SQL, HTTP, CSV) implement the same shape."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Batch:
    entities: list
    since: object = None           # continuation value after this batch (None: not continuable)
    errors: list = field(default_factory=list)   # [(entity or stub, message)]: bad rows/lines


@dataclass
class Source:
    """Base class. `supports_since` + `is_chronological`: offsets are saved per batch; a source
    without since support is read whole on every run (a full run)."""

    pipe: object = None
    batch_size: int = 100
    supports_since: bool = False
    is_chronological: bool = False
    datasets: tuple = field(default_factory=tuple)   # datasets read (for populated checks)
    on_event = None   # set by the pump: on_event(kind, message, **fields) (connector retries)
    # set by make_source: how the hub sees a dataset (name -> bool)
    dataset_populated = None
    dataset_exists = None

    def _ds_populated(self, name) -> bool:
        if self.dataset_populated is not None:
            return self.dataset_populated(name)
        store = getattr(self, "store", None)
        if store is None or not store.exists(name):
            return False
        ds = store.open(name)
        try:
            return ds.populated
        finally:
            ds.close()

    def _ds_exists(self, name) -> bool:
        if self.dataset_exists is not None:
            return self.dataset_exists(name)
        store = getattr(self, "store", None)
        return store is not None and store.exists(name)

    def read(self, since):  # pragma: no cover - interface
        raise NotImplementedError

    def get(self, entity_id):
        """The current source entity with `_id` (dependency tracking re-reads); None if absent."""
        return None

    def lookup(self, path, values) -> list[dict]:
        """Source entities whose `path` overlaps `values` (inverse of a hop's source side)."""
        return []

    def dependents(self, path, values):
        """Keys of source entities to re-read when a hopped-to entity with these join values
        changed (default: `_id`s through `lookup`)."""
        return {e["_id"] for e in self.lookup(path, values)}

    def refetch(self, keys, limit):
        """Batches of the source entities for `keys`, skipping any newer than `limit` (the
        continuation value: the normal read covers those)."""
        for ch in chunks(sorted(keys), self.batch_size):
            out = []
            for k in ch:
                e = self.get(k)
                if e is not None and not (limit is not None and e.get("_updated", -1) > limit):
                    out.append(e)
            yield out

    def populated(self) -> bool:
        return True

    def close(self):
        pass


def inputs_populated(component, names, populated, exists) -> bool:
    """Populated rule of the multi-dataset sources (merge, merge_datasets, union_datasets):
    every dataset of `initial_datasets` (default: `datasets`) is populated; one that does not
    exist (no pipe writes it, nothing stored) is skipped unless `ignore_non_existent_datasets`
    is false (configuration-sources-merge.rst)."""
    initial = [str(d).split()[0] for d in (component.get("initial_datasets") or names)]
    ignore = component.get("ignore_non_existent_datasets", True) is not False
    for n in initial:
        if ignore and not exists(n):
            continue
        if not populated(n):
            return False
    return True


def chunks(iterable, size):
    buf = []
    for e in iterable:
        buf.append(e)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf
