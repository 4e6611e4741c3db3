"""Columnar `hops` for one eq join between a source path and a dataset alias path, or an `or`
of such joins (the union of their results per row, `union`).

The joined dataset gets a columnar copy once per provider and dataset content (kept in the
provider's `derived` cache): its live entities in `_id` order, per-property columns, and per
join path a CSR index (distinct key -> entity positions). A batch's join result is then
(row -> positions) and `count` / paths through it work on gathered columns instead of lists
of dicts. Only keys whose equality is exact in Arrow are matched this way: strings, and ints
when the index holds no floats or decimals (1 == 1.0 in DTL); anything else returns None and
the caller uses the provider lookups as before.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import chain

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dtl.backends.vector import numba_kernels as NB
from dtl.backends.vector.columns import Col, from_dicts
from dtl.provider import path_values

_KIND = {pa.string(): str, pa.int64(): int}


class DatasetView:
    """A dataset's live entities as columns (built lazily, property by property)."""

    def __init__(self, ents: list):
        self.ents = ents
        self._fields = {}
        self._indexes = {}

    def field(self, name) -> Col:
        c = self._fields.get(name)
        if c is None:
            c = self._fields[name] = from_dicts(self.ents, name)
        return c

    def index(self, path, kind):
        """(KeyTable, entry offsets, positions) of `kind` keys at `path`, or None
        when another key type could equal one of them."""
        key = (path, kind)
        if key not in self._indexes:
            self._indexes[key] = _build_index(self.ents, path, kind)
        return self._indexes[key]


def view(provider, dataset, probe=None) -> DatasetView | None:
    """The dataset's view for joins. `probe` [(path, keys Col)] are the batch's joins: the
    first probe of a dataset's content gets a view of only the entities those keys hit
    (a run of one batch, as incremental runs are, builds no index of the whole dataset);
    later probes share the whole view."""
    cache = provider.derived(dataset)
    v = cache.get("vector")
    cols = getattr(provider, "latest_columns", None)
    if v is None and probe and cols is not None and not cache.get("probed"):
        cache["probed"] = True
        where = _where(probe)
        src = None if where is None else cols(dataset, where=where)
        if src is not None:
            from dtl.backends.vector.views import ArrowView
            return ArrowView(src)
    if v is None:
        src = cols(dataset) if cols is not None else None
        if src is not None:
            from dtl.backends.vector.views import ArrowView
            v = cache["vector"] = ArrowView(src)
        else:
            v = cache["vector"] = DatasetView(list(provider.scan(dataset)))
    return v


def _where(probe):
    """[(property, distinct keys)] of one-property join paths keyed by Arrow strings or
    int64s (the keys a view's typed columns match exactly), or None."""
    from dtl.backends.vector.arrow_kernels import no_tilde
    out = []
    for path, keys in probe:
        arr = keys.arr
        if len(path) != 1 or keys.is_const or arr is None or keys.py is not None or \
                keys.ints is not None:
            return None
        flat = pc.list_flatten(arr) if pa.types.is_list(arr.type) else arr
        if flat.type not in _KIND or not no_tilde(flat):
            return None
        out.append((path[0], pc.unique(flat.drop_null())))
    return out


def _build_index(ents, path, kind):
    groups = {}
    for pos, e in enumerate(ents):
        for v in path_values(e, path):
            t = type(v)
            if t is kind:
                g = groups.get(v)
                if g is None:
                    groups[v] = [pos]
                elif g[-1] != pos:  # a list holding the key twice: the entity once
                    g.append(pos)
            elif kind is int and (t is float or t is Decimal):
                return None  # would equal an int key: not exact in Arrow
    counts = np.fromiter((len(g) for g in groups.values()), np.int64, len(groups))
    offs = np.zeros(len(groups) + 1, np.int64)
    np.cumsum(counts, out=offs[1:])
    pos = np.fromiter(chain.from_iterable(groups.values()), np.int64, int(offs[-1]))
    try:
        table = KeyTable(pa.array(list(groups), pa.string() if kind is str else pa.int64()))
    except (OverflowError, pa.ArrowException):
        return None  # ints beyond int64 / keys beyond 2 GB of text: the lookups stay exact
    return table, offs, pos


def _str_parts(arr):
    """(offsets, UTF-8 bytes) of a string array, as numpy, honouring its slice offset."""
    _, ob, db = arr.buffers()
    offs = np.frombuffer(ob, np.int32)[arr.offset:arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(db, np.uint8) if db is not None else np.zeros(0, np.uint8)
    return offs, data


class KeyTable:
    """Distinct join keys (string or int64) -> entry number, as a numba hash table built
    once and probed per batch (from the second probe on, see find)."""

    def __init__(self, keys: pa.Array):
        self.keys = keys
        self.table = None
        self.probed = False

    def _build(self):
        keys = self.keys
        size = 1 << max(4, (2 * len(keys)).bit_length())
        self.table = np.full(size, -1, np.int64)
        if keys.type == pa.string():
            self.parts = _str_parts(keys)
            NB.str_table(*self.parts, self.table)
        else:
            self.parts = np.asarray(keys)
            NB.int_table(self.parts, self.table)

    def find(self, vals: pa.Array):
        """Entry number of each value, -1 for nulls and values not present. The first probe
        is pyarrow's index_in (a run with one batch, as incremental runs are, needs neither
        the table nor numba); later ones build the table once and probe it."""
        if self.table is None:
            if not self.probed:
                self.probed = True
                got = pc.index_in(vals, value_set=self.keys, skip_nulls=True)
                return np.asarray(got.fill_null(-1), np.int64)
            self._build()
        out = np.empty(len(vals), np.int64)
        valid = np.asarray(vals.is_valid()) if vals.null_count else np.ones(len(vals), bool)
        if vals.type == pa.string():
            NB.str_probe(self.table, *self.parts, *_str_parts(vals), valid, out)
        else:
            NB.int_probe(self.table, self.parts, np.asarray(vals.fill_null(0)), valid, out)
        return out


def join(v: DatasetView, path, keys: Col, n):
    """(offsets, positions) of the entities each row joins, or None (not columnar)."""
    arr = keys.arr
    if keys.is_const or arr is None or keys.py is not None or keys.ints is not None:
        return None
    t = arr.type
    if t == pa.null():
        return np.zeros(n + 1, np.int64), np.zeros(0, np.int64)
    if pa.types.is_list(t):
        flat, row_offs = arr.values, np.asarray(arr.offsets).astype(np.int64)
        t = t.value_type
    else:
        flat, row_offs = arr, np.arange(n + 1, dtype=np.int64)
    kind = _KIND.get(t)
    if kind is None:
        return None
    idx = v.index(tuple(path), kind)
    if idx is None:
        return None
    table, koffs, kpos = idx
    kidx = table.find(flat)
    valid = np.asarray(arr.is_valid()) if arr.null_count else np.ones(n, bool)
    counts = np.diff(koffs)
    bound = int(counts[kidx[kidx >= 0]].sum())
    out_offs = np.empty(n + 1, np.int64)
    out = np.empty(bound, np.int64)
    NB.join_gather(row_offs, valid, kidx, koffs, kpos, out_offs, out)
    return out_offs, out[:out_offs[-1]]


def union(parts, n):
    """(offsets, positions) per row: the union of several joins' (offsets, positions), each
    position once, ascending (view positions are in `_id` order, the order of an or-join)."""
    rows, pos = [], []
    for offs, p in parts:
        rows.append(np.repeat(np.arange(n, dtype=np.int64), np.diff(offs)))
        pos.append(p)
    rows, pos = np.concatenate(rows), np.concatenate(pos)
    m = int(pos.max()) + 1 if len(pos) else 1
    key = np.unique(rows * m + pos)
    out_offs = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(key // m, minlength=n), out=out_offs[1:])
    return out_offs, key % m


class Joined:
    """A hops result held as (row -> positions into a DatasetView)."""

    __slots__ = ("view", "offs", "pos")

    def __init__(self, view, offs, pos):
        self.view, self.offs, self.pos = view, offs, pos

    def rows(self) -> list:
        """The lists of entities (the provider's own dicts, as lookups return them)."""
        ents = self.view.ents
        got = [ents[p] for p in self.pos.tolist()]
        o = self.offs.tolist()
        return [got[a:b] for a, b in zip(o, o[1:])]

    def count(self, n) -> Col:
        return Col(n, arr=pa.array(np.diff(self.offs)))

    def step(self, el, n) -> Col | None:
        """Path `el` through every joined entity: walk_path over a list of dicts gathers the
        non-null values of scalar properties; other shapes are left to the per-row path."""
        f = self.view.field(el)
        if f.arr is None or f.py is not None or f.ints is not None or f.is_const:
            return None
        if f.arr.type not in (pa.int64(), pa.float64(), pa.string(), pa.bool_(), pa.null()):
            return None
        if len(self.pos) >= 2 ** 31:
            return None
        got = f.arr.take(pa.array(self.pos))
        ok = np.asarray(got.is_valid()) if got.null_count else None
        offs = self.offs
        if ok is not None:
            kept = np.zeros(len(ok) + 1, np.int64)
            np.cumsum(ok, out=kept[1:])
            offs, got = kept[offs], got.filter(pa.array(ok))
        t = got.type if got.type != pa.null() else pa.int64()
        return Col(n, arr=pa.ListArray.from_arrays(pa.array(offs.astype(np.int32)),
                                                   got.cast(t)))
