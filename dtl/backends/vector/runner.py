"""Running one compiled program over a batch: input adapters (list of dicts, Arrow record
batch, storage segment batch with `p:<name>` columns and a body decoder) and output rows."""

from __future__ import annotations

import pyarrow as pa

from dtl.backends.closure.compiler import Compiler
from dtl.backends.vector import arrow_kernels as K
from dtl.backends.vector.columns import from_arrow, from_dicts
from dtl.backends.vector.compiler import Batch, VectorCompiler
from dtl.transit import decode

STRICT = False  # tests: let an exception inside a batch surface instead of rerunning per entity


class VectorStage:
    """The default rule of one program, columnar when all its transforms are (else None:
    the caller runs it entity by entity)."""

    def __init__(self, program, closures: Compiler):
        self.ctx = closures.ctx
        rule = program.rule("default")
        self.run = VectorCompiler(closures).rule(rule.transforms if rule else ())

    def each(self, batch, mark_filtered: bool) -> list[list]:
        """Transform a prepared Batch; returns per input row its outputs: [target], a
        `_filtered` target when filtered and marked, else []."""
        filtered = {} if mark_filtered else None
        self.run(batch, filtered)
        out = [[] for _ in range(batch.n0)]
        for i, r in zip(batch.index.tolist(), batch.target_rows()):
            out[i] = [r]
        for i, r in (filtered or {}).items():
            r["_filtered"] = True
            out[i] = [r]
        return out

    def rows(self, batch, mark_filtered: bool, bindings=None):
        """Transform a prepared Batch; returns the output rows in input order."""
        return [r for rs in self.each(batch, mark_filtered) for r in rs]


def columnar_stage(transform):
    """The VectorStage that runs a transform's Arrow batches (one program whose default rule
    is columnar), or None. backend="auto" builds one for any columnar rule, joins or not:
    over Arrow batches no dict is converted either way, so columns pay for plain maps too
    (a list of dicts still runs row at a time on auto, see analysis.pays_in_batches)."""
    if len(transform.stages) != 1 or transform.backend not in ("auto", "vector"):
        return None
    st = transform.vector[0] if transform.vector else None
    if st is None and transform.backend == "auto":
        st = VectorStage(transform.programs[0], Compiler(transform.stages[0][0]))
    return st if st is not None and st.run is not None else None


def raw_col(arr, n: int) -> Col:
    """A source column from an Arrow array of DTL values as they are (storage's typed
    columns: no transit text; lists and structs only where they hold the values exactly, see
    storage.segments), kept as Arrow where Col may hold it (no '~' strings)."""
    from dtl.backends.vector.columns import Col, _supported
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if _supported(arr.type) and K.no_tilde(arr):
        return Col(n, arr=arr)
    return Col(n, py=arr.to_pylist())


def batch_from_columns(n: int, column, rows, ctx, bindings=None) -> Batch:
    """A batch whose property `name` is `column(name)` (an Arrow array of DTL values, see
    raw_col) where that gives one, else read from `rows()` (the source entities, built once
    and only if needed: closures and properties without a column read them)."""
    cache = []

    def all_rows():
        if not cache:
            cache.append(rows())
        return cache[0]

    def col(name):
        arr = column(name)
        if arr is not None:
            return raw_col(arr, n)
        return from_dicts(all_rows(), name)
    return Batch(n, col, all_rows, ctx, bindings)


def batch_from_dicts(rows: list, ctx, bindings=None) -> Batch:
    return Batch(len(rows), lambda name: from_dicts(rows, name), lambda: rows, ctx, bindings)


def batch_from_arrow(rb, ctx, *, prefix: str = "", decode_body=None, bindings=None) -> Batch:
    """An Arrow batch of JSON-level values: column `<prefix><name>` is property `name`.

    With `decode_body` (a storage batch): properties without a typed column, and typed
    columns with nulls (a null there may be an absent property), are read from the decoded
    bodies, which also serve the rows that closures need."""
    n = rb.num_rows
    names = {c[len(prefix):]: c for c in rb.schema.names if c.startswith(prefix)}
    cache = {}

    def rows():
        if "rows" not in cache:
            if decode_body is not None:
                cache["rows"] = decode_body(rb)
            else:
                cache["rows"] = [decode(r) for r in rb.select(list(names.values())).to_pylist()]
                cache["rows"] = [{k[len(prefix):]: v for k, v in r.items()}
                                 for r in cache["rows"]] if prefix else cache["rows"]
        return cache["rows"]

    def col(name):
        c = names.get(name)
        if c is not None:
            arr = rb.column(c)
            if decode_body is None or arr.null_count == 0:
                return from_arrow(arr, n)
        if decode_body is None:
            return None
        return from_dicts(rows(), name)
    return Batch(n, col, rows, ctx, bindings)


def to_table(batch: Batch):
    """The target columns of a transformed batch as a pyarrow.Table, without building rows:
    typed columns pass through; others become transit-JSON text."""
    import pyarrow as pa
    from dtl.backends.vector.columns import from_values
    from dtl.transit import dumps
    cols = {}
    for k, _ in batch.slots:
        if k in cols:
            continue
        c = batch.target(k)
        if c.is_const:
            c = from_values([c.const] * batch.n) if type(c.const) not in (list, dict) else \
                from_values(c.values())
        if c.arr is None or c.ints is not None:
            c = from_values(c.values())
        if c.arr is None:
            from dtl.transit import encode
            try:  # nested values of one shape become list/struct columns
                c.arr = pa.array([encode(v) for v in c.values()])
            except (pa.ArrowException, TypeError, OverflowError):
                c.arr = pa.array([dumps(v) for v in c.values()])
        cols[k] = c.arr
    return pa.table(cols)
