"""The vector backend: a rule's columnar transforms run once per batch over columns.

Expressions compile to `fn(batch) -> Col`. A function with a kernel runs it when its argument
columns have types where the kernel provably matches DTL; otherwise (and for functions without
a kernel) the registry function runs per row over the argument columns' values, and special
forms run as closures per row with a materialized Env. Any error raised inside a batch makes
the caller rerun that batch entity by entity on the closure path, so errors (and their
positions) are exactly the closure backend's.
"""

from __future__ import annotations

import numpy as np

from dtl.backends.closure.compiler import Compiler, reorder
from dtl.backends.closure.env import Env
from dtl.backends.vector import analysis
from dtl.backends.vector import arrow_kernels as K
from dtl.backends.vector import joins
from dtl.backends.vector import numba_kernels as NB
from dtl.backends.vector import string_kernels as SK
from dtl.backends.vector.columns import Col, MISSING, from_values
from dtl.functions.hops import _union, is_plain_path, join_keys, plan_hops
from dtl.functions.nulls import is_nullish
from dtl.ir.nodes import Call, Literal, Path
from dtl.paths import walk_path
from dtl.values import is_true


class Batch:
    """One batch being transformed: source columns (built on demand), target slots."""

    def __init__(self, n, source_col, source_rows, ctx, bindings=None):
        self.n = self.n0 = n
        self._source_col = source_col  # name -> Col | None
        self._source_rows = source_rows  # () -> list of source dicts
        self.cols = {}
        self.slots = []  # [key, Col] in target key order; a key may have several (see assign)
        self.ctx = ctx
        self.bindings = bindings
        self.rows_cache = None
        self.index = np.arange(n)  # original row positions of the rows still alive

    def source(self, name) -> Col:
        c = self.cols.get(name)
        if c is None:
            c = self._source_col(name)
            if c is None:
                c = Col(self.n0, arr=None, py=[None] * self.n0, missing=[True] * self.n0)
            if self.n != self.n0:  # built after a filter dropped rows
                c = _take(c, self.index)
            self.cols[name] = c
        return c

    def source_rows(self):
        if self.rows_cache is None:
            rows = self._source_rows()
            self.rows_cache = rows if self.n == self.n0 else [rows[i] for i in self.index]
        return self.rows_cache

    def target(self, key) -> Col | None:
        ss = [c for k, c in self.slots if k == key]
        if not ss:
            return None
        if len(ss) == 1:
            return ss[0]
        vals = [None] * self.n
        for c in ss:
            for i, (v, m) in enumerate(zip(c.values(), c.missing or [False] * self.n)):
                if not m:
                    vals[i] = v
        return from_values(vals)

    def target_rows(self, idx=None) -> list[dict]:
        """The target dicts of every row, or of the rows at positions `idx` only."""
        if idx is not None and len(idx) < self.n:
            return self._target_rows_at(idx)
        rows = [{} for _ in range(self.n)]
        for k, c in self.slots:
            _put(rows, k, c.values(), c.missing)
        return rows

    def _target_rows_at(self, idx) -> list[dict]:
        ix = [int(i) for i in idx]
        rows = [{} for _ in ix]
        for k, c in self.slots:
            if c.is_const:
                vals = Col.constant(len(ix), c.const).values()
            elif c.arr is not None and c.py is None and c.join is None:
                vals = _take(c, np.asarray(ix, np.int64)).values()
            else:
                allv = c.values()
                vals = [allv[i] for i in ix]
            _put(rows, k, vals, None if c.missing is None else [c.missing[i] for i in ix])
        return rows

    def assign(self, key, col: Col, where=None):
        """T[key] = value on the rows of `where` (all rows if None), keeping Python dict key
        order: rows that already had the key keep its position, the others get it last."""
        old = [s for s in self.slots if s[0] == key]
        if where is None and all(s[1].missing is None for s in old):
            if old:
                old[0][1] = col
                for s in old[1:]:
                    self.slots.remove(s)
            else:
                self.slots.append([key, col])
            return
        n = self.n
        w = [True] * n if where is None else where
        had = [False] * n
        vals = col.values()
        for s in old:
            c = s[1]
            miss = c.missing or [False] * n
            cv = c.values()
            s[1] = Col(n, py=[vals[i] if w[i] and not miss[i] else cv[i] for i in range(n)],
                       missing=miss if c.missing is not None else None)
            for i in range(n):
                if not miss[i]:
                    had[i] = True
        rest = [not (w[i] and not had[i]) for i in range(n)]
        if not all(rest):
            self.slots.append([key, Col(n, py=vals, missing=rest)])

    def remove(self, key):
        self.slots = [s for s in self.slots if s[0] != key]

    def keep(self, mask):
        """Drop the rows where `mask` (numpy bool) is false from every column."""
        idx = np.nonzero(mask)[0]
        self.n = len(idx)
        self.index = self.index[idx]
        self.cols = {k: _take(c, idx) for k, c in self.cols.items()}
        self.slots = [[k, _take(c, idx)] for k, c in self.slots]
        if self.rows_cache is not None:
            self.rows_cache = [self.rows_cache[i] for i in idx]


def _put(rows, key, vals, miss):
    """rows[i][key] = vals[i], except where miss[i] (the value is missing: no key)."""
    if miss is None:
        for r, v in zip(rows, vals):
            r[key] = v
    else:
        for r, v, m in zip(rows, vals, miss):
            if not m:
                r[key] = v


def _take(c: Col, idx) -> Col:
    n = len(idx)
    if c.is_const:
        return Col.constant(n, c.const)
    miss = None if c.missing is None else [c.missing[i] for i in idx]
    if c.arr is not None and c.py is None:
        out = Col(n, arr=K.take(c.arr, idx), missing=miss)
        if c.ints is not None:
            out.ints = c.ints[idx]
        return out
    vals = c.values()
    return Col(n, py=[vals[i] for i in idx], missing=miss)


class VectorCompiler:
    def __init__(self, closures: Compiler):
        self.c = closures
        self.ns = closures.ctx.options.namespaced_identifiers

    # -- expressions ----------------------------------------------------------------------

    def expr(self, node):
        if analysis.expr_reason(node, self.ns) is not None:
            return self.per_row(node)
        if isinstance(node, Literal):
            v = node.value
            return lambda b: Col.constant(b.n, v)
        if isinstance(node, Path):
            if self.ns and node.elements:   # namespace-aware lookups: per row
                return self.per_row(node)
            return self.path(node)
        if node.name == "hops":
            return self.hops(node)
        if node.name == "if":
            return self.if_(node)
        if node.name == "if-null":
            return self.if_null(node)
        spec = node.spec
        if spec.pure and all(isinstance(a, Literal) for a in node.args):
            v = self.fold(node)
            if v is not _NO_VALUE:
                return lambda b: Col.constant(b.n, v)
        fused = self.fused(node)
        if fused is not None:
            return fused
        args = [self.expr(a) for a in node.args]
        call = self.call(node)
        return lambda b: call(b, [f(b) for f in args])

    def fold(self, node):
        """A pure call on literals, evaluated once; lists and dicts too (unlike the closure
        compiler's fold): a constant column hands every row its own copy (Col.values)."""
        try:
            return self.c.constant(node, node.spec)
        except Exception:  # noqa: BLE001 - the error belongs to run time, per row
            return _NO_VALUE

    def fused(self, node):
        """A kernel for a call together with its argument call, where the pair is one pass
        over the data and the two apart are not: ["first", ["split", SEP, X]] is the part of
        X before its first SEP. Other column types take the two calls' usual paths."""
        inner = node.args[0] if node.name == "first" and len(node.args) == 1 else None
        if not (isinstance(inner, Call) and inner.name == "split" and len(inner.args) == 2):
            return None
        names = [p.pyname for p in inner.params]
        if names != ["separator", "values"]:
            return None
        sep, x = inner.args
        if not (isinstance(sep, Literal) and type(sep.value) is str and sep.value):
            return None
        values = self.expr(x)
        split, first = self.call(inner), self.call(node)

        def ev(b):
            c = values(b)
            if c.arr is not None and c.py is None and c.ints is None and c.arr.type == K.STR:
                return Col(b.n, arr=SK.before_first(c.arr, sep.value))
            return first(b, [split(b, [Col.constant(b.n, sep.value), c])])
        return ev

    def call(self, node):
        """`fn(batch, argument columns) -> Col`: the kernel where it applies, else the
        registry function per row."""
        kernel = KERNELS.get(node.name)
        if kernel is not None and not _takes(kernel, 1 + len(node.args)):
            kernel = None  # e.g. ["split", X]: the kernel wants the separator given
        row = self.row_call(node)

        def fn(b, cols):
            if kernel is not None:
                r = kernel(b.n, *cols)
                if r is not None:
                    return r
            return row(b, cols)
        return fn

    def row_call(self, node):
        """The registry function applied per row to argument columns."""
        spec = node.spec
        if spec.impl is None or spec.needs_env or spec.compiler:
            return lambda b, cols, _f=self.per_row(node): _f(b)
        impl, names = spec.impl, [p.pyname for p in node.params]
        if not self.c._positional(spec, names):
            order = None if spec.spread else reorder(spec, names)
            if order is None:
                def kw_call(b, cols):
                    vals = [c.values() for c in cols]
                    return from_values([impl(**dict(zip(names, row))) for row in zip(*vals)])
                return kw_call
            perm = [names.index(n) for n in order]
        else:
            perm = list(range(len(names)))

        def pos_call(b, cols):
            vals = [cols[i].values() for i in perm]
            if not vals:
                return from_values([impl() for _ in range(b.n)])
            if len(vals) == 1:
                return from_values([impl(v) for v in vals[0]])
            return from_values([impl(*row) for row in zip(*vals)])
        return pos_call

    def per_row(self, node):
        """A closure over materialized rows: for special forms and what kernels cannot see."""
        fn = self.c.expr(node)
        needs_t = any(isinstance(n, Path) and n.head != "_S" for n in _walk(node)) or \
            any(isinstance(n, Call) and (n.spec.needs_env or n.spec.compiler) for n in _walk(node))

        def ev(b):
            rows = b.source_rows()
            targets = b.target_rows() if needs_t else [{}] * b.n
            ctx, B = b.ctx, b.bindings
            return from_values([fn(Env(s, t, ctx, B=B)) for s, t in zip(rows, targets)])
        return ev

    def path(self, node: Path):
        els = node.elements
        head = node.head

        def ev(b):
            c = b.source(els[0]) if head == "_S" else b.target(els[0])
            if c is None:
                return Col.constant(b.n, None)
            for i, el in enumerate(els[1:], 1):
                c = _step(c, el, els[i:])
                if c.py is not None and c.arr is None and i < len(els) - 1:
                    vals = c.values()
                    rest = els[i + 1:]
                    return from_values([walk_path(v, rest) for v in vals])
            if c.missing is not None:
                j = c.join
                c = Col(c.n, arr=c.arr, py=c.py, const=c.const, is_const=c.is_const)
                c.join = j
            return c
        return ev

    def if_(self, node):
        a = node.args
        cond = self.expr(a[0])
        then = self.expr(a[1])
        other = self.expr(a[2]) if len(a) > 2 else (lambda b: Col.constant(b.n, None))

        def ev(b):
            cc = cond(b)
            x, y = then(b), other(b)
            mask = K.truth(cc)
            if mask is not None:
                r = K.select(b.n, mask, x, y)
                if r is not None:
                    return r
                m = mask.to_pylist()
            else:
                m = [is_true(v) for v in cc.values()]
            return from_values([p if t else q for t, p, q in zip(m, x.values(), y.values())])
        return ev

    def if_null(self, node):
        value, fallback = (self.expr(a) for a in node.args)

        def ev(b):
            v, f = value(b), fallback(b)
            if v.arr is not None and v.ints is None and v.py is None:
                if K.pa.types.is_list(v.arr.type):
                    r = K.list_if_null(b.n, v, f)
                else:
                    r = K.select(b.n, K.pc.is_null(v.arr), f, v)
                if r is not None:
                    return r
            return from_values([q if is_nullish(p) else p for p, q in zip(v.values(), f.values())])
        return ev

    def hops(self, node):
        """One eq join, or an `or` of eq joins, as batched index lookups: one probe of the
        dataset view per branch (where the view cannot join: a provider lookup per entity)."""
        spec = node.args[0]
        (step,), _ = plan_hops(spec, self.c.ctx.options)
        dataset = step.dataset
        branches = [(self.expr(br.bound_side), is_plain_path(br.bound_side), tuple(br.path))
                    for br in step.branches]

        def lookups(prov, keys, path):
            return [prov.lookup(dataset, path, list(k)) if k else [] for k in keys]

        def ev(b):
            prov = b.ctx.provider
            if not prov.has_dataset(dataset):
                raise LookupError(dataset)  # the closure rerun reports it properly
            kcs = [keys_of(b) for keys_of, _, _ in branches]
            v = joins.view(prov, dataset, [(path, kc) for kc, (_, _, path) in
                                           zip(kcs, branches)])
            got = []
            for kc, (_, _, path) in zip(kcs, branches):
                g = joins.join(v, path, kc, b.n)
                if g is None:
                    break
                got.append(g)
            if len(got) == len(branches):
                col = Col(b.n)
                col.join = joins.Joined(v, *(got[0] if len(got) == 1 else
                                             joins.union(got, b.n)))
                return col
            per = [lookups(prov, [join_keys(x, plain) for x in kc.values()], path)
                   for kc, (_, plain, path) in zip(kcs, branches)]
            if len(per) == 1:
                return Col(b.n, py=per[0])
            return Col(b.n, py=[_union(rows) for rows in zip(*per)])
        return ev

    # -- transforms -----------------------------------------------------------------------

    def rule(self, calls):
        """`run(batch)` for a rule whose transforms are all columnar, else None."""
        if any(analysis.transform_reason(c, self.ns) for c in calls):
            return None
        steps = [self.transform(c) for c in calls]

        def run(b, filtered):
            for st in steps:
                st(b, filtered)
                if b.n == 0:
                    break
        return run

    def transform(self, call: Call):
        name, a = call.name, call.args
        if name == "comment":
            return lambda b, f: None
        if name in ("add", "default"):
            key, value = a[0].value, self.expr(a[1])
            if name == "add":
                return lambda b, f: b.assign(key, value(b))

            def default(b, f):
                cur = b.target(key)
                if cur is None:
                    b.assign(key, value(b))
                elif cur.missing is not None:
                    b.assign(key, value(b), where=list(cur.missing))
            return default
        if name == "copy":
            key = a[0].value

            def copy(b, f):
                src = b.source(key)
                if src.missing is None:
                    b.assign(key, src)
                elif not all(src.missing):
                    b.assign(key, Col(b.n, py=src.values()), where=[not m for m in src.missing])
            return copy
        if name == "remove":
            key = a[0].value
            return lambda b, f: b.remove(key)
        # filter / discard
        cond = self.expr(a[0]) if a else None
        marks = name == "filter"

        def stop(b, filtered):
            if cond is None:
                mask = np.zeros(b.n, bool)
            else:
                c = cond(b)
                m = K.truth(c)
                mask = np.asarray(m, bool) if m is not None else \
                    np.fromiter((is_true(v) for v in c.values()), bool, b.n)
            if mask.all():
                return
            if marks and filtered is not None:
                gone = np.nonzero(~mask)[0]
                for i, r in zip(gone.tolist(), b.target_rows(gone)):
                    filtered[int(b.index[i])] = r
            b.keep(mask)
        return stop


def _walk(node):
    from dtl.ir.nodes import walk
    return walk(node)


def _step(c: Col, el, rest) -> Col:
    """One path element over a column: struct fields and lists of structs in Arrow, the rest
    per row with walk_path's semantics."""
    if c.join is not None and c.py is None:
        r = c.join.step(el, c.n)
        if r is not None:
            return r
    arr = c.arr
    if arr is not None and c.ints is None and c.py is None:
        t = arr.type
        if K.pa.types.is_struct(t):
            return Col(c.n, arr=K.struct_field(arr, el))
        if K.pa.types.is_list(t) and K.pa.types.is_struct(t.value_type):
            r = K.list_struct_field(arr, el)
            if r is not None:
                return Col(c.n, arr=r)
        if t in (K.INT, K.FLOAT, K.STR, K.BOOL, K.NULL):
            return Col.constant(c.n, None)  # a scalar has no properties
    if c.is_const:
        return Col.constant(c.n, walk_path(c.const, (el,)))
    return from_values([walk_path(v, (el,)) for v in c.values()])


# -- list kernels that need numba ----------------------------------------------------------

def _sum(n, values):
    arr = values.arr
    if arr is None or values.ints is not None or not K.pa.types.is_list(arr.type):
        return None
    vt = arr.type.value_type
    if vt not in (K.INT, K.FLOAT):
        return None
    offs, vals, ok = K.list_parts(arr)
    valid = K.valid_mask(arr)
    if vt == K.FLOAT:
        out = np.empty(n, np.float64)
        seen = np.empty(n, np.int64)
        NB.segment_sum_float(offs, vals.astype(np.float64), ok, out, seen)
        col = Col(n, arr=K.from_numpy(out))
        ints = (seen == 0) | ~valid
        if ints.any():
            out[ints] = 0.0
            col = Col(n, arr=K.from_numpy(out))
            col.ints = ints  # the sum of no numbers is the integer 0
        return col
    out = np.empty(n, np.int64)
    big = np.empty(n, bool)
    NB.segment_sum_int(offs, vals.astype(np.int64), ok, out, big)
    if big.any():
        return None
    out[~valid] = 0
    return Col(n, arr=K.from_numpy(out))


def _sorted_desc(n, values):
    arr = values.arr
    if arr is None or values.ints is not None or not K.pa.types.is_list(arr.type) or \
            arr.type.value_type not in (K.INT, K.FLOAT):
        return None
    offs, vals, ok = K.list_parts(arr)
    if not ok.all():
        return None  # nulls sort by the mixed-type order: per row
    valid = K.valid_mask(arr)
    out = np.empty_like(vals)
    NB.segment_sort_desc(offs, vals, out)
    lst = K.list_from(offs - offs[0], out[offs[0]:offs[-1]])
    if not valid.all():
        lst = K.pa.ListArray.from_arrays(lst.offsets, lst.values, mask=K.pa.array(~valid))
    return Col(n, arr=lst)


def _round(n, *args):
    digits, values = (args[0], args[1]) if len(args) == 2 else (Col.constant(n, 0), args[0])
    if not digits.is_const or type(digits.const) is not int:
        return None
    d = digits.const
    arr = values.arr
    if arr is None or values.ints is not None or values.is_const:
        return None
    if arr.type == K.INT and d >= 0:
        return values  # an integer has no fraction to round
    if arr.type != K.FLOAT or not 0 < d < 10:
        return None
    x = np.asarray(arr.fill_null(0.0))
    out = np.empty_like(x)
    ok = np.empty(len(x), bool)
    NB.round_fast(x, 10.0 ** d, out, ok)
    valid = K.valid_mask(arr) if arr.null_count else None
    if valid is not None:
        ok |= ~valid
    if not ok.all():  # near a tie: the registry function decides those rows
        from dtl.functions.math import round_
        for i in np.nonzero(~ok)[0]:
            out[i] = round_(float(x[i]), d)
    return Col(n, arr=K.from_numpy(out, None if valid is None else ~valid))


def _takes(fn, n: int) -> bool:
    """Whether `fn` can be called with n positional arguments."""
    import inspect
    try:
        inspect.signature(fn).bind(*range(n))
        return True
    except TypeError:
        return False


KERNELS = {
    "upper": K.py_case("ascii_upper"),
    "lower": K.py_case("ascii_lower"),
    "concat": K.concat,
    "split": K.split,
    "first": K.first,
    "plus": K.word("add"), "minus": K.word("sub"), "multiply": K.word("mul"),
    "+": K.symbolic("add"), "-": K.symbolic("sub"), "*": K.symbolic("mul"),
    "round": _round,
    "eq": K.compare("eq"), "neq": K.compare("neq"), "gt": K.compare("gt"),
    "gte": K.compare("gte"), "lt": K.compare("lt"), "lte": K.compare("lte"),
    "is-null": K.is_null,
    "is-not-null": lambda n, v: K.is_null(n, v, negate=True),
    "count": lambda n, v: v.join.count(n) if v.join is not None else K.count(n, v),
    "sum": _sum,
    "sorted-descending": _sorted_desc,
}

_ = MISSING
_NO_VALUE = object()
