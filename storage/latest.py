"""A dataset's latest live versions as Arrow columns, for views that join against it (the
vector backend's columnar `hops`): read once from the segments' typed `p:<name>` columns,
without bodies, in `_id` order (the order of `StoreProvider.scan` and of lookup results).

`where` restricts the view to the versions whose typed column of a property holds one of a
set of keys (a join probe of few keys reads no index over the whole dataset); a segment
without that column of the keys' type cannot be filtered: NotFilterable. `parts` are the
latest live batches as read before (`read_parts`), so a provider reads them once.

`column(name)` is the typed column of a property when every segment holding latest versions
has one of the same type (its values are then exactly the DTL values: see segments), else
None. `entities()` builds the version dicts `scan` would give, for the same versions, from
the bodies (only for what columns cannot serve).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storage import segments
from storage.dataset import batch_entities
from storage.errors import StorageError

_READ = 65_536


class NotFilterable(Exception):
    """A `where` the typed columns cannot decide exactly."""


def read_parts(ds) -> list:
    """The latest live versions of a dataset: batches of `_updated`, `_id` and typed columns."""
    return [b for b in ds.batches(deleted=False, columns=["_updated", "_id", "p:*"],
                                  batch_size=_READ) if b.num_rows]


def _filter(parts, where) -> list:
    """The rows of `parts` whose `p:<name>` is in `keys` for some (name, keys) of `where`."""
    out = []
    for b in parts:
        mask = None
        for name, keys in where:
            i = b.schema.get_field_index(segments.PROP + name)
            if i < 0 or b.column(i).type != keys.type:
                raise NotFilterable(name)
            m = pc.is_in(b.column(i), value_set=keys, skip_nulls=True)
            mask = m if mask is None else pc.or_(mask, m)
        if mask is not None and pc.any(mask).as_py():
            out.append(b.filter(mask))
    return out


class LatestColumns:
    def __init__(self, ds, parts=None, where=None):
        self.ds = ds
        self.parts = read_parts(ds) if parts is None else parts
        if where:
            self.parts = _filter(self.parts, where)
        ids = pa.chunked_array([b.column("_id") for b in self.parts], pa.string())
        ids = ids.combine_chunks()
        self.n = len(ids)
        self.order = None
        if self.n > 1 and pc.any(pc.less(ids.slice(1), ids.slice(0, self.n - 1))).as_py():
            self.order = pc.sort_indices(ids)   # UTF-8 byte order is code point order
            ids = ids.take(self.order)
        self.ids = ids
        offs = pa.chunked_array([b.column("_updated") for b in self.parts], pa.int64())
        offs = offs.combine_chunks()
        self.offsets = np.asarray(offs if self.order is None else offs.take(self.order))

    def column(self, name: str) -> pa.Array | None:
        """Property `name` of every version, in view order, or None when a segment has no
        typed column for it (absent everywhere there, or of mixed types) or types differ."""
        if not self.parts:
            return None
        k = segments.PROP + name
        arrs = []
        for b in self.parts:
            i = b.schema.get_field_index(k)
            if i < 0:
                return None
            arrs.append(b.column(i))
        if len({a.type for a in arrs}) != 1:
            return None
        arr = pa.concat_arrays(arrs)
        return arr if self.order is None else arr.take(self.order)

    def entities(self) -> list[dict]:
        """The versions of the view as entity dicts (with bodies), in view order."""
        if not self.n:
            return []
        want = np.sort(self.offsets)
        got = {}
        for b in self.ds.batches(since=int(want[0]) - 1, history=True):
            offs = b.column("_updated").to_numpy()
            m = np.isin(offs, want)
            if not m.any():
                continue
            if not m.all():
                b = b.filter(pa.array(m))
            for e in batch_entities(b):
                got[e["_updated"]] = e
            if len(got) == self.n:
                break
        if len(got) != self.n:
            raise StorageError(f"dataset {self.ds.name!r} changed while a view was read")
        return [got[o] for o in self.offsets.tolist()]
