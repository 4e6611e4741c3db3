"""Joins across datasets: `hops`, `apply-hops`, `lookup-entity` (dtl-functions-hops.rst,
joins.rst), and `apply` (dtl-functions-dictionaries.rst), which runs a named rule.

A hops spec is planned at compile time: starting from the bound variables (``_S`` and the
aliases of enclosing hops), each step binds one new alias through a join: an `eq` whose one
side refers to exactly one bound alias and whose other side refers to exactly the new alias
(joins.rst), or an `or` whose every branch holds such an `eq` (an entity joins when any branch
matches; the union of the branches' matches, each entity once, in `_id` order like a single
lookup). A plain alias path on the new side is an index lookup through the dataset provider;
any other expression there is evaluated once per entity of the dataset into an expression
index (kept in the provider's `derived` cache while the dataset is unchanged). Filters run as
soon as their aliases are bound; plain `eq` joins are tried before `or` joins.

Join values: a side's value coerced to a list, nulls dropped; joins succeed when any values
overlap (joins.rst). Any expression but a plain path gives its list elements as they are, so
that a list element is one composite key: ``["tuples", "_S.a", "_S.b"]`` matches
``["tuples", "d.a", "d.b"]`` only where both elements agree (dtl-functions-misc.rst `tuples`).
A plain property path gives the values its index holds (nested lists flattened once,
`dtl.paths.path_values`); on the bound side also each nested list whole, so that composite
keys stored by an upstream pipe (``"_S.key"`` holding ``[["1", "2"]]``) join a `tuples`
expression.
"""

from __future__ import annotations

from dataclasses import dataclass

from dtl.backends.closure.compiler import run_rule
from dtl.backends.closure.env import Env
from dtl.errors import Diagnostic, DTLCompileError, DTLError, DTLRuntimeError
from dtl.functions._common import as_list, is_true
from dtl.functions.registry import expression
from dtl.ir.nodes import Call, HopsSpec, Literal, Path, walk
from dtl.provider import path_values
from dtl.values import order_key, value_key

SOURCE = "_S"


def aliases_in(node, declared: set) -> set:
    """The hop aliases a where-expression refers to; _S and the aliases of enclosing hops
    (bound before this spec runs) count as SOURCE."""
    out = set()
    for n in walk(node):
        if isinstance(n, Path):
            if n.is_alias:
                out.add(n.head if n.head in declared else SOURCE)
            elif n.head == "_S":
                out.add(SOURCE)
    return out


def is_plain_path(node) -> bool:
    return isinstance(node, Path) and bool(node.elements)


@dataclass(frozen=True)
class Branch:
    """One way for an entity of the new alias to join: `bound_side` (evaluated in the current
    row) overlaps `new_side` (evaluated on the candidate); `extra` are the branch's other
    conjuncts, checked on each candidate row."""

    bound_side: object
    new_side: object
    path: tuple | None  # the new side as an index path (a plain alias path), else None
    bound_alias: str = SOURCE  # the one alias (or SOURCE) the bound side refers to
    extra: tuple = ()


@dataclass(frozen=True)
class JoinStep:
    """Bind `alias` (dataset `dataset`) from the entities that any of `branches` joins."""

    alias: str
    dataset: str
    branches: tuple

    @property
    def simple(self) -> Branch | None:
        """The one branch of a plain `eq` join (no `or`), else None."""
        b = self.branches
        return b[0] if len(b) == 1 and not b[0].extra else None


def _conjuncts(node) -> list:
    if isinstance(node, Call) and node.name == "and" and node.kind == "expression":
        out = []
        for a in node.args:
            out.extend(_conjuncts(a))
        return out
    return [node]


def join_aliases(w, declared: set):
    """(left alias, right alias) when `w` is a join `eq`: one alias on each side, not the
    same one (joins.rst); else None."""
    if isinstance(w, Call) and w.name == "eq" and len(w.args) == 2:
        left, right = (aliases_in(a, declared) for a in w.args)
        if len(left) == 1 and len(right) == 1 and left != right:
            return next(iter(left)), next(iter(right))
    return None


def index_path(elements, opts=None) -> tuple | None:
    """The stored keys an index on a plain path reads, or None when the path is namespace
    aware and must be read like the DTL path (an expression key): with namespaced identifiers
    on, an unqualified element (no ':') matches that identifier in every namespace
    (`dictionaries._ns_getter`); '::x' reads "x", ':x' the property namespace's "ns:x", and a
    qualified 'ns:x' itself. System properties (`_id`, `$ids`: a leading '_' or '$') are never
    namespaced (add_namespaces skips them), so they stay keys as written and joins on them stay
    index lookups. `opts` is the compile options (`closure.env.Options`) or None."""
    if opts is None or not opts.namespaced_identifiers:
        return tuple(elements)
    from dtl.functions.dictionaries import _ns_getter
    keys = tuple(e if e[:1] in ("_", "$") else _ns_getter(e, opts) for e in elements)
    return None if any(callable(k) for k in keys) else keys


def _branch(w, pair, alias, extra=(), opts=None) -> Branch:
    la, ra = pair
    if ra == alias:
        bound_side, new_side, bound_alias = w.args[0], w.args[1], la
    else:
        bound_side, new_side, bound_alias = w.args[1], w.args[0], ra
    path = index_path(new_side.elements, opts) \
        if is_plain_path(new_side) and new_side.is_alias else None
    return Branch(bound_side, new_side, path, bound_alias, tuple(extra))


def _alternatives(w) -> list:
    """The branches of an `or`, nested `or`s flattened."""
    out = []
    for a in w.args:
        if isinstance(a, Call) and a.name == "or" and a.kind == "expression" and a.args:
            out.extend(_alternatives(a))
        else:
            out.append(a)
    return out


def _or_step(w, declared, bound, opts=None):
    """(alias, branches) when the `or` `w` can bind one new alias from `bound`, else None."""
    if not (isinstance(w, Call) and w.name == "or" and w.kind == "expression" and w.args):
        return None
    alts = _alternatives(w)
    for alias in sorted(aliases_in(w, declared) - bound, key=lambda a: str(a)):
        branches = []
        for arg in alts:
            cs = _conjuncts(arg)
            pick = None
            for c in cs:
                pair = join_aliases(c, declared)
                if pair and alias in pair and (set(pair) - {alias}) <= bound:
                    pick = (c, pair)
                    break
            if pick is None or not aliases_in(arg, declared) <= bound | {alias}:
                branches = None
                break
            branches.append(_branch(pick[0], pick[1], alias,
                                    [c for c in cs if c is not pick[0]], opts))
        if branches:
            return alias, tuple(branches)
    return None


def plan_hops(spec: HopsSpec, opts=None):
    """Order the joins of a hops spec; returns (steps, filters) or raises DTLCompileError.
    `filters` are (expression, aliases it needs) pairs. `opts` (the compile options, or None)
    decides which plain alias paths are index paths (see `index_path`)."""
    declared = {a for _, a in spec.datasets}
    ds_of = {a: d for d, a in spec.datasets}
    joins, ors, filters = [], [], []
    for top in spec.where:
        for w in _conjuncts(top):
            pair = join_aliases(w, declared)
            if pair is not None:
                joins.append((w, pair))
            elif isinstance(w, Call) and w.name == "or" and w.kind == "expression":
                ors.append(w)
            else:
                filters.append((w, aliases_in(w, declared)))
    bound = {SOURCE}
    steps = []
    while len(bound) < len(declared) + 1:
        for j in joins:
            w, (la, ra) = j
            if (la in bound) != (ra in bound):
                alias = ra if la in bound else la
                steps.append(JoinStep(alias, ds_of[alias],
                                      (_branch(w, (la, ra), alias, (), opts),)))
                bound.add(alias)
                joins.remove(j)
                break
        else:
            for w in ors:
                got = _or_step(w, declared, bound, opts)
                if got is not None:
                    alias, branches = got
                    steps.append(JoinStep(alias, ds_of[alias], branches))
                    bound.add(alias)
                    ors.remove(w)
                    break
            else:
                missing = sorted(declared - bound)
                raise DTLCompileError([Diagnostic(
                    "hops: dataset alias(es) " + ", ".join(repr(m) for m in missing)
                    + " cannot be reached from _S by an eq join", spec.span, "hops-join",
                    'add a join such as ["eq", "_S.<property>", "' + missing[0]
                    + '.<property>"] (an "or" joins when each of its branches has one)')])
    # joins between two already-bound aliases, and the other ors, act as filters
    for w, pair in joins:
        filters.append((w, set(pair)))
    for w in ors:
        filters.append((w, aliases_in(w, declared)))
    return steps, filters


def join_keys(v, plain: bool) -> list:
    """The join values of one side's value (see the module docstring)."""
    if plain:
        out = _flat(v)
        if type(v) is list:
            out.extend(x for x in v if type(x) is list and x)   # stored composite keys too
        return out
    if type(v) is list:
        return [x for x in v if x is not None]
    return [] if v is None else [v]


def new_keys(v, plain: bool) -> list:
    """The join values of the dataset side's value: a plain path's as its index holds them
    (`path_values`: nested lists flattened once), an expression's list elements as they are."""
    return _flat(v) if plain else join_keys(v, False)


def _flat(v) -> list:
    out = []
    for x in as_list(v):
        if type(x) is list:
            out.extend(y for y in x if y is not None)
        elif x is not None:
            out.append(x)
    return out


def _overlap(a, b, a_plain=True, b_plain=True) -> bool:
    keys = {value_key(x) for x in join_keys(a, a_plain)}
    return any(value_key(y) in keys for y in join_keys(b, b_plain))


def _pred(node, c, declared):
    """A filter as a predicate on an env: joins (also inside and/or) by overlap, anything
    else by truthiness."""
    if isinstance(node, Call) and node.kind == "expression" and node.name in ("and", "or"):
        parts = [_pred(a, c, declared) for a in node.args]
        if node.name == "and":
            return lambda env: all(p(env) for p in parts)
        return lambda env: any(p(env) for p in parts)
    if join_aliases(node, declared) is not None:
        a, b = node.args
        l, r = c.expr(a), c.expr(b)
        lp, rp = is_plain_path(a), is_plain_path(b)
        return lambda env: _overlap(l(env), r(env), lp, rp)
    g = c.expr(node)
    return lambda env: is_true(g(env))


def _indexable(node, alias) -> bool:
    """Whether the new side depends on the candidate alone (no other variable, no effects),
    so that it can be evaluated once per entity of the dataset."""
    for n in walk(node):
        if isinstance(n, Path) and not (n.is_alias and n.head == alias):
            return False
        if isinstance(n, Call) and not n.spec.pure:
            return False
    return True


class _BranchRunner:
    def __init__(self, step: JoinStep, b: Branch, c, declared):
        self.dataset, self.alias = step.dataset, step.alias
        self.path = b.path
        self.bound = c.expr(b.bound_side)
        self.bound_plain = is_plain_path(b.bound_side)
        self.new = c.expr(b.new_side)
        self.new_plain = is_plain_path(b.new_side)   # a namespace-aware path read
        self.indexable = b.path is None and _indexable(b.new_side, step.alias)
        self.extra = [_pred(x, c, declared) for x in b.extra]

    def _expr_index(self, env, provider):
        cache = provider.derived(self.dataset)
        key = ("hops-expr", id(self.new))
        got = cache.get(key)
        if got is not None and got[0] is self.new:
            return got[1], got[2]
        ents = list(provider.scan(self.dataset))
        idx: dict = {}
        for pos, cand in enumerate(ents):
            e = Env(None, {}, env.ctx, aliases={self.alias: cand})
            for k in new_keys(self.new(e), self.new_plain):
                g = idx.setdefault(value_key(k), [])
                if not g or g[-1] != pos:
                    g.append(pos)
        cache[key] = (self.new, ents, idx)
        return ents, idx

    def candidates(self, env, provider, row, source) -> list:
        e = env.with_aliases(row)
        e.S = source
        keys = join_keys(self.bound(e), self.bound_plain)
        if not keys:
            return []
        if self.path is not None:
            cands = provider.lookup(self.dataset, self.path, keys)
        elif self.indexable:
            ents, idx = self._expr_index(env, provider)
            hits = set()
            for k in keys:
                hits.update(idx.get(value_key(k), ()))
            cands = [ents[i] for i in sorted(hits)]
        else:
            kset = {value_key(k) for k in keys}
            cands = []
            for cand in provider.scan(self.dataset):
                r2 = dict(row)
                r2[self.alias] = cand
                e2 = env.with_aliases(r2)
                e2.S = source
                if any(value_key(v) in kset for v in new_keys(self.new(e2), self.new_plain)):
                    cands.append(cand)
        if self.extra:
            kept = []
            for cand in cands:
                r2 = dict(row)
                r2[self.alias] = cand
                e2 = env.with_aliases(r2)
                e2.S = source
                if all(f(e2) for f in self.extra):
                    kept.append(cand)
            cands = kept
        return cands


def _union(lists) -> list:
    """The entities of several `_id`-ordered lists, each `_id` once, in `_id` order."""
    seen, out = set(), []
    for lst in lists:
        for e in lst:
            k = value_key(e.get("_id")) if type(e) is dict else ("obj", id(e))
            if k not in seen:
                seen.add(k)
                out.append(e)
    out.sort(key=lambda e: order_key(e.get("_id")) if type(e) is dict else (99,))
    return out


class _HopsRunner:
    """One compiled HOPS_SPEC."""

    def __init__(self, spec: HopsSpec, c):
        self.spec = spec
        steps, filters = plan_hops(spec, c.ctx.options)
        declared = {a for _, a in spec.datasets}
        self.steps = [(s, [_BranchRunner(s, b, c, declared) for b in s.branches])
                      for s in steps]
        self.order = [s.alias for s in steps]
        self.filters_after = {}  # filters by the step after which all their aliases are bound
        for w, needs in filters:
            after = 0
            for i in range(1, len(steps) + 1):
                if needs - {SOURCE} <= set(self.order[:i]):
                    after = i
                    break
            self.filters_after.setdefault(after, []).append(_pred(w, c, declared))
        self.subsets = {a: c.expr(n) for a, n in spec.subsets}
        r = spec.returns
        self.return_aliases = r if isinstance(r, tuple) else None
        self.return_expr = None if r is None or isinstance(r, tuple) else c.expr(r)
        self.last_alias = spec.datasets[-1][1] if spec.datasets else None
        # one join step returning its own entities: no rows to build (the common shape)
        self.direct = len(self.steps) == 1 and not self.filters_after.get(1) and \
            not self.subsets and self.return_expr is None and \
            (self.return_aliases or (self.last_alias,)) == (self.steps[0][0].alias,)

    def _direct(self, env: Env, source) -> list:
        provider = env.ctx.provider
        base = dict(env.aliases or {})
        if self.filters_after.get(0):
            scope = env.with_aliases(base)
            scope.S = source
            if not all(f(scope) for f in self.filters_after[0]):
                return []
        step, branches = self.steps[0]
        if not provider.has_dataset(step.dataset):
            raise DTLRuntimeError(f"hops: dataset {step.dataset!r} does not exist",
                                  self.spec.span)
        if len(branches) == 1:
            return list(branches[0].candidates(env, provider, base, source))
        return _union(b.candidates(env, provider, base, source) for b in branches)

    def rows(self, env: Env, source):
        provider = env.ctx.provider
        base = dict(env.aliases or {})
        scope = env.with_aliases(base)
        scope.S = source
        rows = [base]
        for pass_fn in self.filters_after.get(0, ()):
            if not pass_fn(scope):
                return []
        for i, (step, branches) in enumerate(self.steps, 1):
            if not provider.has_dataset(step.dataset):
                raise DTLRuntimeError(f"hops: dataset {step.dataset!r} does not exist",
                                      self.spec.span)
            nxt = []
            for row in rows:
                if len(branches) == 1:
                    cands = branches[0].candidates(env, provider, row, source)
                else:
                    cands = _union(b.candidates(env, provider, row, source) for b in branches)
                sub = self.subsets.get(step.alias)
                for cand in cands:
                    if sub is not None:
                        se = Env(cand, {}, env.ctx)
                        if not is_true(sub(se)):
                            continue
                    r2 = dict(row)
                    r2[step.alias] = cand
                    nxt.append(r2)
            fl = self.filters_after.get(i, ())
            if fl:
                kept = []
                for row in nxt:
                    e = env.with_aliases(row)
                    e.S = source
                    if all(f(e) for f in fl):
                        kept.append(row)
                nxt = kept
            rows = nxt
            if not rows:
                break
        return rows

    def results(self, env: Env, source) -> list:
        if self.direct:
            return self._direct(env, source)
        rows = self.rows(env, source)
        out = []
        if self.return_expr is not None:
            for row in rows:
                e = env.with_aliases(row)
                e.S = source
                v = self.return_expr(e)
                # one value per row, a list value kept whole: a real node's
                # ["first", ["hops", {..., "return": "gd.list-property"}]] is the whole list
                if v is not None:
                    out.append(v)
            return out
        names = self.return_aliases or (self.last_alias,)
        seen = set()
        for row in rows:
            for n in names:
                v = row.get(n)
                if v is not None and id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    def run(self, env: Env, inputs: list) -> list:
        spec = self.spec
        if not spec.option("recurse", False):
            out = []
            for s in inputs:
                out.extend(self.results(env, s))
            return out
        max_depth = spec.option("max_depth", 10)
        seen = {_identity(s) for s in inputs}
        out = [] if spec.option("exclude_root", False) else list(inputs)
        frontier, depth = list(inputs), 0
        while frontier and (max_depth is None or depth < max_depth):
            new = []
            for s in frontier:
                for r in self.results(env, s):
                    k = _identity(r)
                    if k not in seen:
                        seen.add(k)
                        new.append(r)
            out.extend(new)
            frontier = new
            depth += 1
        return out


def _identity(e):
    if type(e) is dict and "_id" in e:
        return ("id", value_key(e["_id"]))
    return ("obj", id(e))


def _compile_chain(specs: list, c):
    runners = [_HopsRunner(s, c) for s in specs]

    def run(env):
        cur = [env.S]
        for r in runners:
            cur = r.run(env, cur)
        return cur
    return run


@expression("hops", "HOPS_SPEC(dict{>=1})", category="hops", compiler=True, pure=False,
            summary="Join the source entity with entities in other datasets.")
def compile_hops(call, c):
    return _compile_chain(list(call.args), c)


def _apply_rule(env: Env, rule: str, values, span):
    fns = env.ctx.rules.get(rule)
    if fns is None:
        raise DTLRuntimeError(f"apply: no rule named {rule!r}", span)
    fast = env.ctx.fast_rules.get(rule)

    def one(v):
        child = env.child(v, {})
        if fast is not None:
            mark = len(env.out)
            try:
                return None if fast(child.S, child.T, child) is not None else child.T
            except Exception as e:
                if isinstance(e, DTLError) and getattr(e, "span", True) is not None:
                    raise
                del env.out[mark:]  # rerun with the closures for a positioned error
                child = env.child(v, {})
        return None if run_rule(fns, child) is not None else child.T
    if type(values) is list:
        return [t for t in (one(v) for v in values) if t is not None]
    if values is None:
        return None
    return one(values)


@expression("apply", "RULE_ID(string{1}), VALUES(value-expression{1})", category="dictionaries",
            compiler=True, pure=False,
            summary="Run a named rule on each value (as _S); returns the targets.")
def compile_apply(call, c):
    rule_fn, values = c.expr(call.args[0]), c.expr(call.args[1])
    span = call.span

    def apply(env):
        return _apply_rule(env, rule_fn(env), values(env), span)
    return apply


@expression("apply-hops", "RULE_ID(string{1}), HOPS_SPEC(dict{>=1})", category="dictionaries",
            compiler=True, pure=False,
            summary="Run hops, then a named rule on each entity found.")
def compile_apply_hops(call, c):
    rule_fn = c.expr(call.args[0])
    chain = _compile_chain(list(call.args[1:]), c)
    span = call.span

    def apply_hops(env):
        return _apply_rule(env, rule_fn(env), chain(env), span)
    return apply_hops


@expression("lookup-entity", "DATASET_ID(string{1}), ENTITY_ID(value-expression{1})",
            category="hops", needs_env=True,
            summary="The entity with a given _id in a dataset, or null.")
def lookup_entity(env, dataset_id, entity_id):
    p = env.ctx.provider
    if not isinstance(dataset_id, str) or not p.has_dataset(dataset_id):
        return None
    if type(entity_id) is list:
        return [e for e in (p.get(dataset_id, i) for i in entity_id if i is not None)
                if e is not None]
    if entity_id is None:
        return None
    return p.get(dataset_id, entity_id)


def hops_datasets(node) -> list[tuple[str, str]]:
    """Every (dataset, alias) referenced by hops specs under a node (for explain/runtime)."""
    out = []
    for n in walk(node):
        if isinstance(n, HopsSpec):
            out.extend(n.datasets)
        elif isinstance(n, Call) and n.name == "lookup-entity" and n.args and \
                isinstance(n.args[0], Literal):
            out.append((n.args[0].value, None))
    return out


def hops_joins(node, opts=None) -> list[tuple[str, tuple]]:
    """(dataset, index path) pairs the hops under a node look up: the indexes storage builds."""
    out = []
    for n in walk(node):
        if isinstance(n, HopsSpec):
            try:
                steps, _ = plan_hops(n, opts)
            except DTLCompileError:
                continue
            out.extend((s.dataset, b.path) for s in steps for b in s.branches
                       if b.path is not None)
    return out
