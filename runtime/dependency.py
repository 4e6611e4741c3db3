"""Dependency tracking (pipes-and-pumps.md §9, dependency-tracking.rst).

At setup, every `hops`/`apply-hops` in a pipe's `default` rules (unless `track-dependencies` is
false) is inverted link by link: a join `["eq", <bound side>, "<alias>.<path>"]` reads dataset D
through an index on `path`; when an entity of D changes, the values at `path` of its new and its
previous version are the join keys that may now match differently. Walking the chain back
(`bound side` is `_S.<path>` or `<earlier alias>.<path>`) ends at the pipe's source, which says
which of its entities to re-read (`Source.dependents`). The pipe keeps a tracking offset per
hopped dataset in its state, committed with the writes of the run that processed the queue.

Joins are inverted branch by branch (an `or` join has one branch per alternative, and a change
that any branch could match differently re-queues): the dataset side is a plain path (its
values, as the index holds them) or an expression of the alias (evaluated on both versions);
the bound side a plain path (an index lookup) or an expression of one variable (evaluated on
every live entity of that dataset; for the pipe's source only a `dataset` source can be
scanned so). Filters and `and`-extras are not inverted: a re-queue may be superfluous, never
missing. Joins on enclosing hops' aliases are reported by `Tracker.untracked`;
`lookup-entity` is never tracked (as in Sesam).
"""

from __future__ import annotations

from dataclasses import dataclass

from dtl.backends.closure.compiler import Compiler
from dtl.backends.closure.env import Context, Env, Options
from dtl.errors import DTLCompileError
from dtl.functions.hops import SOURCE, index_path, is_plain_path, join_keys, new_keys, plan_hops
from dtl.ir.nodes import HopsSpec, Path, walk
from dtl.paths import path_values
from dtl.values import value_key


@dataclass(frozen=True)
class Branch:
    path: tuple | None     # join path in the step's dataset (None: `new_fn`)
    new_fn: object         # the dataset side as a closure (alias bound to the entity)
    bound_path: tuple | None   # join path on the bound side (None: `bound_fn`)
    bound_fn: object       # the bound side as a closure
    back: int | None       # index of the earlier step (None: the source)
    new_plain: bool = False    # `new_fn` reads a (namespace-aware) plain path
    bound_plain: bool = False  # `bound_fn` reads a (namespace-aware) plain path

    def keys(self, alias, e):
        if self.path is not None:
            return path_values(e, self.path)
        return new_keys(self.new_fn(Env(None, {}, _CTX, aliases={alias: e})), self.new_plain)


@dataclass(frozen=True)
class Step:
    dataset: str
    alias: str
    branches: tuple


_CTX = Context()
CHUNK = 50_000   # changed versions walked back together (one scan per expression side)


class Tracker:
    def __init__(self, hub, chains, untracked):
        self.hub = hub
        self.chains = chains          # list of lists of Step
        self.untracked = untracked    # human-readable reasons

    @property
    def datasets(self):
        return sorted({s.dataset for ch in self.chains for s in ch})

    def ends(self):
        out = {}
        for d in self.datasets:
            ds = self._open(d)
            out[d] = -1 if ds is None else ds.last_offset
            if ds is not None:
                ds.close()
        return out

    def _open(self, name):
        st = self.hub.store
        return st.open(name) if st.exists(name) else None

    def queue(self, source, offsets):
        """(source keys to re-read, new offsets) for the changes since `offsets`."""
        keys, new = set(), dict(offsets)
        handles = {}
        try:
            for d in self.datasets:
                ds = handles[d] = self._open(d)
                if ds is None:
                    continue
                since = offsets.get(d)
                if since is None:
                    new[d] = ds.last_offset
                    continue
                steps = [(ch, k) for ch in self.chains for k, s in enumerate(ch) if s.dataset == d]
                cache: dict = {}
                changed = []   # both versions of each change, walked back in chunks: an
                for e in ds.entities(since=since, history=True):   # expression side scans
                    new[d] = e["_updated"]
                    prev = ds.version_at(e["_previous"], cache) if e["_previous"] is not None else None
                    changed.append(e)
                    if prev is not None:
                        changed.append(prev)
                    if len(changed) >= CHUNK:
                        for ch, k in steps:
                            keys |= self._back(source, ch, k, changed, handles)
                        changed = []
                if changed:
                    for ch, k in steps:
                        keys |= self._back(source, ch, k, changed, handles)
                if d not in new or new[d] is None:
                    new[d] = ds.last_offset
        finally:
            for ds in handles.values():
                if ds is not None:
                    ds.close()
        return keys, new

    def _back(self, source, chain, k, ents, handles):
        """Source keys whose join chain may reach `ents` (entities of step k's dataset)."""
        s = chain[k]
        out = set()
        for b in s.branches:
            vals = list({value_key(v): v for e in ents for v in b.keys(s.alias, e)
                         if v is not None}.values())
            if not vals:
                continue
            if b.bound_path is not None:
                # a plain path's index holds the elements of stored composite keys
                vals = vals + [x for v in vals if type(v) is list for x in v if x is not None]
            if b.back is None:
                if b.bound_path is not None:
                    out |= set(source.dependents(b.bound_path, vals))
                else:
                    out |= {e["_id"] for e in _matching(source._open(), b.bound_fn, vals, None,
                                                        b.bound_plain)}
                continue
            prev = chain[b.back]
            ds = handles.get(prev.dataset) or self._open(prev.dataset)
            handles.setdefault(prev.dataset, ds)
            if ds is None:
                continue
            found = ds.lookup(b.bound_path, vals) if b.bound_path is not None else \
                _matching(ds, b.bound_fn, vals, prev.alias, b.bound_plain)
            if found:
                out |= self._back(source, chain, b.back, found, handles)
        return out


def _matching(ds, fn, vals, alias, plain=False):
    """Live entities of `ds` whose bound-side expression `fn` overlaps `vals` (a scan)."""
    if ds is None:
        return []
    want = {value_key(v) for v in vals}
    out = []
    for e in ds.entities(deleted=False):
        env = Env(e, {}, _CTX) if alias is None else Env(None, {}, _CTX, aliases={alias: e})
        if any(value_key(v) in want for v in join_keys(fn(env), plain)):
            out.append(e)
    return out


def tracker_for(hub, pipe):
    if pipe.source is None or pipe.source.type not in ("dataset", "merge", "union_datasets",
                                                       "merge_datasets"):
        return None
    eff = pipe.effective
    comp = Compiler(Context(options=Options.from_dict(
        {"namespaced_identifiers": eff.get("namespaced_identifiers", False),
         "namespaces": dict(eff.get("namespaces") or {})})))
    chains, untracked = [], []
    for t in pipe.transforms:
        prog = getattr(t, "program", None)
        if prog is None:
            continue
        default = prog.rule("default")
        if default is None:
            continue
        for node in walk(default):
            if not isinstance(node, HopsSpec) or node.option("track-dependencies", True) is False:
                continue
            ch = _invert(node, untracked, comp, pipe.source.type == "dataset")
            if ch:
                chains.append(ch)
    if not chains:
        return None
    return Tracker(hub, chains, untracked)


def _invert(spec, untracked, comp, scannable_source):
    opts = comp.ctx.options
    try:
        steps, _ = plan_hops(spec, opts)
    except DTLCompileError:
        return None
    declared = {a for _, a in spec.datasets}
    alias_step = {}
    out = []
    for i, s in enumerate(steps):
        branches = []
        for b in s.branches:
            bound = b.bound_side
            heads = {n.head for n in walk(bound) if isinstance(n, Path) and n.is_alias}
            if b.bound_alias == SOURCE:
                if heads - declared:
                    untracked.append(f"join into {s.dataset!r} at {spec.span}: bound side "
                                     "refers to an enclosing hops' alias")
                    return None
                back = None
            else:
                back = alias_step[b.bound_alias]
            path_like = is_plain_path(bound) and (bound.head == "_S" or bound.is_alias)
            # with namespaced identifiers an unqualified element is read in every namespace:
            # no index path, the bound side is evaluated (a scan) like an expression
            bound_path = index_path(bound.elements, opts) if path_like else None
            plain = bound_path is not None
            if back is None and not plain and not scannable_source:
                untracked.append(f"join into {s.dataset!r} at {spec.span}: an expression on "
                                 "the source side needs a dataset source"
                                 + (" (a namespace-aware path with an unqualified element)"
                                    if path_like else ""))
                return None
            if any(isinstance(n, Path) and not n.is_alias and n.head != "_S"
                   for n in walk(bound)):
                untracked.append(f"join into {s.dataset!r} at {spec.span}: bound side reads "
                                 "a variable other than _S")
                return None
            branches.append(Branch(
                tuple(b.path) if b.path is not None else None,
                None if b.path is not None else comp.expr(b.new_side),
                bound_path,
                None if plain else comp.expr(bound), back,
                is_plain_path(b.new_side), path_like))
        out.append(Step(s.dataset, s.alias, tuple(branches)))
        alias_step[s.alias] = i
    return out
