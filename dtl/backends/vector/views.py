"""A joined dataset's columnar view built from Arrow columns (a provider's `latest_columns`,
e.g. storage's typed segment columns) instead of entity dicts: the interface of
joins.DatasetView (`field`, `index`, `ents`), with dicts built only when something needs them
(a property without an exact column, a join path deeper than one property, a hops result
used as a whole).

`src` gives `n`, `column(name)` (the property's values in view order as an Arrow array of
exact DTL values, or None) and `entities()` (the same versions as dicts, in view order)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dtl.backends.vector import arrow_kernels as K
from dtl.backends.vector.columns import Col, from_dicts
from dtl.backends.vector.joins import KeyTable, _build_index

_KEY = {str: pa.string(), int: pa.int64()}
_SCALAR = (pa.string(), pa.int64(), pa.float64(), pa.bool_())
_NONE = object()


class ArrowView:
    def __init__(self, src):
        self.src = src
        self._ents = None
        self._fields = {}
        self._indexes = {}

    @property
    def ents(self) -> list:
        if self._ents is None:
            self._ents = self.src.entities()
        return self._ents

    def _column(self, name):
        arr = self.src.ids if name == "_id" else self.src.column(name)
        if arr is None or arr.type not in _SCALAR or not K.no_tilde(arr):
            return None
        return arr

    def field(self, name) -> Col:
        c = self._fields.get(name)
        if c is None:
            arr = self._column(name)
            c = Col(len(arr), arr=arr) if arr is not None else from_dicts(self.ents, name)
            self._fields[name] = c
        return c

    def index(self, path, kind):
        key = (path, kind)
        if key not in self._indexes:
            got = self._arrow_index(path[0], kind) if len(path) == 1 else _NONE
            self._indexes[key] = _build_index(self.ents, path, kind) if got is _NONE else got
        return self._indexes[key]

    def _arrow_index(self, name, kind):
        """joins._build_index from a typed column: distinct keys -> positions (ascending)."""
        arr = self._column(name)
        if arr is None:
            return _NONE
        want = _KEY[kind]
        if arr.type != want:
            if kind is int and arr.type == pa.float64():
                return None   # floats would equal int keys: not exact in Arrow
            arr = pa.nulls(len(arr), want)   # no value of the key's type: nothing joins
        enc = pc.dictionary_encode(arr)
        keys = enc.dictionary
        codes = np.asarray(enc.indices.fill_null(-1), np.int64)
        sel = np.flatnonzero(codes >= 0)
        pos = sel[np.argsort(codes[sel], kind="stable")]
        counts = np.bincount(codes[sel], minlength=len(keys))
        offs = np.zeros(len(keys) + 1, np.int64)
        np.cumsum(counts, out=offs[1:])
        return KeyTable(keys), offs, pos.astype(np.int64)
