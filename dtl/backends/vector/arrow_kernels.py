"""Every pyarrow.compute use of the vector backend. A kernel gets argument columns and returns
a result Col, or None when the argument types are not ones where it provably matches the DTL
implementation (the caller then runs the registry function per row instead)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dtl.backends.vector import string_kernels as SK
from dtl.backends.vector.columns import Col

INT, FLOAT, STR, BOOL, NULL = pa.int64(), pa.float64(), pa.string(), pa.bool_(), pa.null()
_PYTYPE = {int: INT, float: FLOAT, str: STR, bool: BOOL}


def no_tilde(arr) -> bool:
    t = arr.type
    if t == STR:
        return not SK.any_starts_with_tilde(arr)
    if pa.types.is_list(t):
        return no_tilde(pc.list_flatten(arr))
    if pa.types.is_struct(t):
        return all(no_tilde(pc.struct_field(arr, [i])) for i in range(t.num_fields))
    return True


def _typed(c: Col, want=None):
    """(arrow type, array or scalar) of a scalar column or constant; None if neither."""
    if c.is_const:
        v = c.const
        t = _PYTYPE.get(type(v)) if v is not None else NULL
        if t is None or (want is not None and t != want and t != NULL):
            return None
        return t, pa.scalar(v, want if v is None and want is not None else t)
    if c.arr is not None and c.ints is None and c.arr.type in (INT, FLOAT, STR, BOOL, NULL):
        return c.arr.type, c.arr
    return None


def _col(n, a) -> Col:
    if isinstance(a, pa.Scalar):
        return Col.constant(n, a.as_py())
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    return Col(n, arr=a)


# -- strings --------------------------------------------------------------------------------

def _case(fn):
    def k(n, values):
        x = _typed(values)
        if x is None or x[0] != STR or values.is_const:
            return None
        # Python's str.upper/lower change some non-ASCII letters into several; ASCII only
        if SK.is_ascii(x[1]):
            return _col(n, fn(x[1]))
        return None
    return k


def concat(n, *args):
    parts = []
    for c in args:
        x = _typed(c)
        if x is None:
            return None  # a list argument is spliced in: per row
        if x[0] == STR:
            parts.append(x[1])
        # numbers, booleans and nulls add nothing
    if not parts:
        return Col.constant(n, "")
    if all(isinstance(p, pa.Scalar) for p in parts):
        return None  # constants are folded at compile time
    out = SK.concat(n, [p.as_py() if isinstance(p, pa.Scalar) else p for p in parts])
    return None if out is None else _col(n, out)


def split(n, separator, values):
    if not separator.is_const or type(separator.const) is not str or not separator.const:
        return None
    x = _typed(values)
    if x is None or x[0] != STR or values.is_const:
        return None
    return _col(n, pc.split_pattern(x[1], separator.const))


def first(n, values):
    if values.arr is not None and pa.types.is_list(values.arr.type) and values.ints is None:
        arr = values.arr
        offs = np.asarray(arr.offsets)
        lens = np.diff(offs)
        valid = lens > 0
        if arr.null_count:
            valid &= np.asarray(arr.is_valid())
        idx = pa.array(offs[:-1].astype(np.int64), mask=~valid)
        return _col(n, pc.take(arr.values, idx))
    x = _typed(values)
    if x is not None and not values.is_const:
        return values  # a non-list is returned as it is
    return None


# -- numbers ---------------------------------------------------------------------------------

_CHECKED = {"add": pc.add_checked, "sub": pc.subtract_checked, "mul": pc.multiply_checked}
_FLOAT = {"add": pc.add, "sub": pc.subtract, "mul": pc.multiply}


def arith(n, op, a, b):
    """a op b for two numeric scalar columns/constants with DTL results: ints stay exact
    (overflow -> per row), floats that leave the finite range become null."""
    a, b = _as_float(a, b), _as_float(b, a)
    xa, xb = _typed(a), _typed(b)
    if xa is None or xb is None or (a.is_const and b.is_const):
        return None
    ta, tb = xa[0], xb[0]
    if ta not in (INT, FLOAT) or tb not in (INT, FLOAT):
        if ta in (NULL, STR, BOOL) or tb in (NULL, STR, BOOL):
            return Col.constant(n, None)  # not numbers on one side: null
        return None
    if ta == INT and tb == INT:
        try:
            return _col(n, _CHECKED[op](xa[1], xb[1]))
        except pa.ArrowInvalid:  # overflow: Python ints grow
            return None
    fa = xa[1] if ta == FLOAT else xa[1].cast(FLOAT, safe=False)
    fb = xb[1] if tb == FLOAT else xb[1].cast(FLOAT, safe=False)
    r = _FLOAT[op](fa, fb)
    if isinstance(r, pa.Scalar):
        return None
    if pc.all(pc.is_finite(r)).as_py() is not False:
        return _col(n, r)
    return _col(n, pc.if_else(pc.is_finite(r), r, pa.scalar(None, FLOAT)))


def _as_float(c: Col, other: Col) -> Col:
    """A sum column whose int rows (the int 0 of an empty sum) may read as 0.0 when the other
    operand is a float: Python turns the int into a float first, so the result is the same."""
    if c.ints is None or c.arr is None or c.arr.type != FLOAT:
        return c
    x = _typed(other)
    if x is None or x[0] != FLOAT or (other.is_const and type(other.const) is not float):
        return c
    return Col(c.n, arr=c.arr)


def word(op):
    """plus/minus/multiply: VALUES (each) op OPERAND; a list argument goes per row."""
    def k(n, operand, values):
        if not operand.is_const or type(operand.const) not in (int, float):
            return None
        return arith(n, op, values, operand)
    return k


def symbolic(op):
    def k(n, a, b):
        return arith(n, op, a, b)
    return k


# -- comparisons ----------------------------------------------------------------------------

_CMP = {"eq": pc.equal, "neq": pc.not_equal, "gt": pc.greater, "gte": pc.greater_equal,
        "lt": pc.less, "lte": pc.less_equal}


def compare(op):
    """Same-type scalar comparisons; null sorts before every value (and equals null)."""
    fn = _CMP[op]

    def k(n, left, right):
        xl, xr = _typed(left), _typed(right)
        if xl is None or xr is None or (left.is_const and right.is_const):
            return None
        tl, tr = xl[0], xr[0]
        t = tl if tl != NULL else tr
        if (tl != NULL and tr != NULL and tl != tr) or t == NULL:
            return None
        a = xl[1] if tl != NULL else pa.scalar(None, t) if left.is_const else xl[1].cast(t)
        b = xr[1] if tr != NULL else pa.scalar(None, t) if right.is_const else xr[1].cast(t)
        r = fn(a, b)
        if r.null_count == 0:
            return _col(n, r)
        if op not in ("eq", "neq"):   # an ordering with a null side is false (registry)
            return _col(n, pc.fill_null(r, False))
        # where a side is null, compare "is there a value" ranks with the same operator
        ra = pc.is_valid(a) if not isinstance(a, pa.Scalar) else pa.scalar(a.is_valid)
        rb = pc.is_valid(b) if not isinstance(b, pa.Scalar) else pa.scalar(b.is_valid)
        return _col(n, pc.coalesce(r, fn(pc.cast(ra, pa.int8()), pc.cast(rb, pa.int8()))))
    return k


# -- nulls, truth, lists --------------------------------------------------------------------

def is_null(n, values, negate=False):
    x = _typed(values)
    if x is None or values.is_const:
        return None
    return _col(n, pc.is_valid(x[1]) if negate else pc.is_null(x[1]))


def truth(c: Col):
    """A boolean mask of DTL truth (not null, not false, not []) or None."""
    if c.arr is None or c.ints is not None:
        return None
    t = c.arr.type
    if t == BOOL:
        return pc.fill_null(c.arr, False)
    if t in (INT, FLOAT, STR, NULL) or pa.types.is_struct(t):
        return pc.is_valid(c.arr)
    if pa.types.is_list(t):
        return pc.fill_null(pc.greater(pc.list_value_length(c.arr), 0), False)
    return None


def select(n, mask, a: Col, b: Col):
    """if_else over two columns of one Arrow type (constants and nulls adapt)."""
    xa, xb = _typed(a), _typed(b)
    if xa is None or xb is None:
        return None
    t = xa[0] if xa[0] != NULL else xb[0]
    if xa[0] not in (t, NULL) or xb[0] not in (t, NULL):
        return None
    if t == NULL:
        return Col.constant(n, None)
    va = xa[1] if xa[0] == t else (pa.scalar(None, t) if a.is_const else xa[1].cast(t))
    vb = xb[1] if xb[0] == t else (pa.scalar(None, t) if b.is_const else xb[1].cast(t))
    return _col(n, pc.if_else(mask, va, vb))


def list_if_null(n, values: Col, fallback: Col):
    """if-null over a list column with the constant [] as fallback: DTL's nullish rows (null,
    [] or a null first element) become [], so only null lists change (to empty ones). Rows
    whose first element is null, and other fallbacks, go per row."""
    if not (fallback.is_const and type(fallback.const) is list and not fallback.const):
        return None
    arr = values.arr
    offs = np.asarray(arr.offsets)
    lens = np.diff(offs)
    valid = np.asarray(arr.is_valid()) if arr.null_count else None
    if arr.values.null_count:
        inner_ok = np.asarray(arr.values.is_valid())
        starts = offs[:-1][lens > 0] if valid is None else offs[:-1][(lens > 0) & valid]
        if not inner_ok[starts].all():
            return None
    if valid is None:
        return values
    lens = np.where(valid, lens, 0)
    new = np.zeros(n + 1, np.int32)
    np.cumsum(lens, out=new[1:])
    return Col(n, arr=pa.ListArray.from_arrays(pa.array(new), pc.list_flatten(arr)))


def count(n, values):
    if values.arr is None or values.ints is not None:
        return None
    t = values.arr.type
    if pa.types.is_list(t):
        return _col(n, pc.fill_null(pc.list_value_length(values.arr).cast(INT), 0))
    if t in (INT, FLOAT, STR, BOOL, NULL) or pa.types.is_struct(t):
        return _col(n, pc.if_else(pc.is_valid(values.arr), 1, 0).cast(INT))
    return None


def mask_filter(arr, mask):
    return pc.filter(arr, mask)


def invert(mask):
    return pc.invert(mask)


def struct_field(arr, name):
    """Field `name` of a struct column (null where the struct is null or has no such field)."""
    t = arr.type
    if t.get_field_index(name) < 0:
        return pa.nulls(len(arr))
    return pc.struct_field(arr, name)


def list_struct_field(arr, name):
    """walk_path through a list of structs: each list's non-null values of field `name`
    (a null list stays null). Only scalar fields; None when the field is nested."""
    st = arr.type.value_type
    i = st.get_field_index(name)
    offs = np.asarray(arr.offsets)
    valid = np.asarray(arr.is_valid()) if arr.null_count else None
    if i < 0:
        vals = pa.array([], INT)
        counts = np.zeros(len(arr), np.int64)
    else:
        ft = st.field(i).type
        if pa.types.is_list(ft) or pa.types.is_struct(ft):
            return None
        inner = arr.values.slice(offs[0], offs[-1] - offs[0])
        f = pc.struct_field(inner, name)
        keep = pc.is_valid(f)
        vals = pc.filter(f, keep)
        k = np.asarray(keep.cast(pa.int8()).fill_null(0), dtype=np.int64)
        cs = np.concatenate(([0], np.cumsum(k)))
        counts = cs[offs[1:] - offs[0]] - cs[offs[:-1] - offs[0]]
    new = np.zeros(len(arr) + 1, np.int32)
    np.cumsum(counts, out=new[1:])
    mask = None if valid is None else pa.array(~valid)
    return pa.ListArray.from_arrays(pa.array(new), vals, mask=mask)


def list_parts(arr):
    """(offsets, values as numpy, value validity) of a list<number> column."""
    offs = np.asarray(arr.offsets).astype(np.int64)
    vals = arr.values
    ok = np.asarray(vals.is_valid()) if vals.null_count else np.ones(len(vals), bool)
    return offs, np.asarray(vals.fill_null(0)), ok


def from_numpy(a, mask=None):
    return pa.array(a, mask=mask)


def list_from(offsets, values):
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values))


def valid_mask(arr):
    return np.asarray(arr.is_valid())


def take(arr, idx):
    return pc.take(arr, idx)


def concat_arrays(arrs):
    return pa.concat_arrays(arrs)


def py_case(method):
    return _case(getattr(pc, method))
