"""Joins across datasets: `hops`, `apply-hops`, `lookup-entity` (dtl-functions-hops.rst,
joins.rst), and `apply` (dtl-functions-dictionaries.rst), which runs a named rule.

A hops spec is planned at compile time: starting from the bound variables (``_S`` and the
aliases of enclosing hops), each step picks an `eq` join whose one side is already bound and
whose other side names one new alias; a plain alias path on that side becomes an index lookup
through the dataset provider, anything else a scan. Filters run as soon as their aliases are
bound. Join `eq`s succeed when any values overlap (joins.rst); filters use normal truthiness.
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
from dtl.values import value_key

SOURCE = "_S"


def aliases_in(node, declared: set) -> set:
    """The hop aliases (and _S) a where-expression refers to."""
    out = set()
    for n in walk(node):
        if isinstance(n, Path):
            if n.is_alias and n.head in declared:
                out.add(n.head)
            elif n.head == "_S":
                out.add(SOURCE)
    return out


@dataclass(frozen=True)
class JoinStep:
    """Bind `alias` (dataset `dataset`) from entities whose `path` overlaps `bound_side`."""

    alias: str
    dataset: str
    bound_side: object  # IR node evaluated in the current row
    path: tuple | None  # index path on the new alias, or None for a scan
    new_side: object  # IR node evaluated on the candidate (scan) - or None


def plan_hops(spec: HopsSpec):
    """Order the joins of a hops spec; returns (steps, filters) or raises DTLCompileError."""
    declared = {a for _, a in spec.datasets}
    ds_of = {a: d for d, a in spec.datasets}
    joins, filters = [], []
    for w in spec.where:
        if isinstance(w, Call) and w.name == "eq" and len(w.args) == 2:
            left, right = (aliases_in(a, declared) for a in w.args)
            if len(left) == 1 and len(right) == 1 and left != right:
                joins.append((w, next(iter(left)), next(iter(right))))
                continue
        filters.append((w, aliases_in(w, declared)))
    bound = {SOURCE}
    steps, remaining = [], list(joins)
    while len(bound) < len(declared) + 1:
        for j in remaining:
            w, la, ra = j
            if (la in bound) != (ra in bound):
                if la in bound:
                    bound_side, new_side, alias = w.args[0], w.args[1], ra
                else:
                    bound_side, new_side, alias = w.args[1], w.args[0], la
                path = None
                if isinstance(new_side, Path) and new_side.is_alias and new_side.elements:
                    path = new_side.elements
                steps.append(JoinStep(alias, ds_of[alias], bound_side, path, new_side))
                bound.add(alias)
                remaining.remove(j)
                break
        else:
            missing = sorted(declared - bound)
            raise DTLCompileError([Diagnostic(
                "hops: dataset alias(es) " + ", ".join(repr(m) for m in missing)
                + " cannot be reached from _S by an eq join", spec.span, "hops-join",
                'add a join such as ["eq", "_S.<property>", "' + missing[0] + '.<property>"]')])
    # joins between two already-bound aliases act as filters (with overlap semantics)
    for w, la, ra in remaining:
        filters.append((w, {la, ra}))
    return steps, filters


def _flat(v) -> list:
    out = []
    for x in as_list(v):
        if type(x) is list:
            out.extend(y for y in x if y is not None)
        elif x is not None:
            out.append(x)
    return out


def _overlap(a, b) -> bool:
    keys = {value_key(x) for x in _flat(a)}
    return any(value_key(y) in keys for y in _flat(b))


class _HopsRunner:
    """One compiled HOPS_SPEC."""

    def __init__(self, spec: HopsSpec, c):
        self.spec = spec
        steps, filters = plan_hops(spec)
        self.steps = [(s, c.expr(s.bound_side), c.expr(s.new_side)) for s in steps]
        self.order = [s.alias for s in steps]
        staged = []  # filters grouped by the step after which all their aliases are bound
        for w, needs in filters:
            after = 0
            for i, s in enumerate(steps, 1):
                if needs - {SOURCE} <= set(self.order[:i]):
                    after = i
                    break
            is_join = isinstance(w, Call) and w.name == "eq" and len(needs - {SOURCE}) >= 1 \
                and len(w.args) == 2 and all(aliases_in(a, {x for _, x in spec.datasets})
                                             for a in w.args)
            if is_join:
                l, r = c.expr(w.args[0]), c.expr(w.args[1])
                fn = (lambda l, r: lambda env: _overlap(l(env), r(env)))(l, r)
            else:
                g = c.expr(w)
                fn = (lambda g: lambda env: is_true(g(env)))(g)
            staged.append((after, fn))
        self.filters_after = {}
        for after, fn in staged:
            self.filters_after.setdefault(after, []).append(fn)
        self.subsets = {a: c.expr(n) for a, n in spec.subsets}
        r = spec.returns
        self.return_aliases = r if isinstance(r, tuple) else None
        self.return_expr = None if r is None or isinstance(r, tuple) else c.expr(r)
        self.last_alias = spec.datasets[-1][1] if spec.datasets else None

    def rows(self, env: Env, source):
        provider = env.ctx.provider
        base = dict(env.aliases or {})
        scope = env.with_aliases(base)
        scope.S = source
        rows = [base]
        for pass_fn in self.filters_after.get(0, ()):
            if not pass_fn(scope):
                return []
        for i, (step, bound_fn, new_fn) in enumerate(self.steps, 1):
            if not provider.has_dataset(step.dataset):
                raise DTLRuntimeError(f"hops: dataset {step.dataset!r} does not exist",
                                      self.spec.span)
            nxt = []
            for row in rows:
                e = env.with_aliases(row)
                e.S = source
                keys = _flat(bound_fn(e))
                if not keys:
                    continue
                if step.path is not None:
                    cands = provider.lookup(step.dataset, step.path, keys)
                else:
                    kset = {value_key(k) for k in keys}
                    cands = []
                    for cand in provider.scan(step.dataset):
                        r2 = dict(row)
                        r2[step.alias] = cand
                        e2 = env.with_aliases(r2)
                        e2.S = source
                        if any(value_key(v) in kset for v in _flat(new_fn(e2))):
                            cands.append(cand)
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
        rows = self.rows(env, source)
        out = []
        if self.return_expr is not None:
            for row in rows:
                e = env.with_aliases(row)
                e.S = source
                v = self.return_expr(e)
                if type(v) is list:
                    out.extend(x for x in v if x is not None)
                elif v is not None:
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


def hops_joins(node) -> list[tuple[str, tuple]]:
    """(dataset, index path) pairs the hops under a node look up: the indexes storage builds."""
    out = []
    for n in walk(node):
        if isinstance(n, HopsSpec):
            try:
                steps, _ = plan_hops(n)
            except DTLCompileError:
                continue
            out.extend((s.dataset, s.path) for s in steps if s.path is not None)
    return out
