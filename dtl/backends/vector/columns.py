"""Columns of a batch: one DTL value per row, held as an Arrow array when every value has one
exact scalar (or nested) type, else as a Python list of DTL values.

An Arrow column is only ever built where reading it back gives the very DTL values the closure
backend would see: int64 -> int, float64 -> float, string -> str (no transit-prefixed text),
bool -> bool, list/struct of those -> list/dict. `missing` marks rows where the property is
absent (copy then skips it), which Arrow nulls cannot express.
"""

from __future__ import annotations

import pyarrow as pa

from dtl.transit import decode

_SCALAR = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
MISSING = object()


class Col:
    __slots__ = ("n", "arr", "py", "const", "is_const", "missing", "ints", "join")

    def __init__(self, n, *, arr=None, py=None, const=None, is_const=False, missing=None):
        self.n = n
        self.arr = arr  # pa.Array (exact DTL meaning, see module doc)
        self.py = py  # list of DTL values
        self.const = const
        self.is_const = is_const
        self.missing = missing  # list[bool] or None
        self.ints = None  # float64 arr whose rows marked here are really ints (sum of nothing)
        self.join = None  # joins.Joined: a hops result as positions into a dataset view

    @classmethod
    def constant(cls, n, v):
        return cls(n, const=v, is_const=True)

    @property
    def type(self):
        return None if self.arr is None else self.arr.type

    def values(self) -> list:
        """The column as DTL values, one per row (missing rows read as null)."""
        if self.py is not None:
            return self.py
        if self.join is not None:
            self.py = self.join.rows()
            return self.py
        if self.is_const:
            v = self.const
            if type(v) in (list, dict):
                from dtl.backends.closure.compiler import copy_value
                return [copy_value(v) for _ in range(self.n)]
            return [v] * self.n
        vals = self.arr.to_pylist()
        if self.ints is not None:
            vals = [int(v) if i else v for v, i in zip(vals, self.ints)]
        self.py = vals
        return vals


def _tilde_free(arr: pa.Array) -> bool:
    """Whether no string anywhere in the array is transit-encoded (starts with '~')."""
    import dtl.backends.vector.arrow_kernels as K
    return K.no_tilde(arr)


def from_arrow(arr, n: int) -> Col:
    """A source column from an Arrow array of JSON-level values (transit strings decoded)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if _supported(arr.type):
        if _tilde_free(arr):
            return Col(n, arr=arr)
        return Col(n, py=[decode(v) for v in arr.to_pylist()])
    return Col(n, py=[_plain(v) for v in arr.to_pylist()])


def _supported(t) -> bool:
    if t in (pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.null()):
        return True
    if pa.types.is_list(t):
        return _supported(t.value_type)
    if pa.types.is_struct(t):
        return all(_supported(f.type) for f in t)
    return False


def _plain(v):
    """Other Arrow types (large_string, int32, decimal128, ...) read as JSON-level values."""
    from decimal import Decimal
    t = type(v)
    if t is str:
        return decode(v)
    if t is dict:
        return {k: _plain(x) for k, x in v.items()}
    if t is list:
        return [_plain(x) for x in v]
    if v is None or t in (int, float, bool, Decimal):
        return v
    raise TypeError(f"the vector backend cannot read Arrow values of type {t.__name__}")


def from_values(vals: list, missing=None) -> Col:
    """A column from DTL values: Arrow when all non-null values share one scalar type."""
    n = len(vals)
    types = set(map(type, vals))
    types.discard(type(None))
    if len(types) == 1:
        t = _SCALAR.get(types.pop())
        if t is not None:
            try:
                return Col(n, arr=pa.array(vals, t), missing=missing)
            except (OverflowError, pa.ArrowException):
                pass  # integers beyond int64 stay Python ints
    elif not types:
        return Col(n, arr=pa.nulls(n), missing=missing)
    return Col(n, py=vals, missing=missing)


def from_dicts(rows: list, name: str) -> Col:
    """Property `name` of every source entity (entities that are not dicts read as null)."""
    vals = [r.get(name, MISSING) if type(r) is dict else MISSING for r in rows]
    missing = None
    if any(v is MISSING for v in vals):
        missing = [v is MISSING for v in vals]
        vals = [None if v is MISSING else v for v in vals]
    return from_values(vals, missing)
