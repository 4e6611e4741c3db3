"""Dependency tracking (pipes-and-pumps.md §9, dependency-tracking.rst).

At setup, every `hops`/`apply-hops` in a pipe's `default` rules (unless `track-dependencies` is
false) is inverted link by link: a join `["eq", <bound side>, "<alias>.<path>"]` reads dataset D
through an index on `path`; when an entity of D changes, the values at `path` of its new and its
previous version are the join keys that may now match differently. Walking the chain back
(`bound side` is `_S.<path>` or `<earlier alias>.<path>`) ends at the pipe's source, which says
which of its entities to re-read (`Source.dependents`). The pipe keeps a tracking offset per
hopped dataset in its state, committed with the writes of the run that processed the queue.

Ours: only joins whose both sides are plain paths are inverted (others are reported by
`Tracker.untracked`); `lookup-entity` is never tracked (as in Sesam).
"""

from __future__ import annotations

from dataclasses import dataclass

from dtl.errors import DTLCompileError
from dtl.functions.hops import plan_hops
from dtl.ir.nodes import HopsSpec, Path, walk
from dtl.paths import path_values


@dataclass(frozen=True)
class Step:
    dataset: str
    path: tuple            # join path in `dataset`
    bound_head: str        # "_S" or the alias of an earlier step
    bound_path: tuple      # join path on the bound side
    back: int | None       # index of the earlier step (None: the source)


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
                for e in ds.entities(since=since, history=True):
                    new[d] = e["_updated"]
                    prev = ds.version_at(e["_previous"], cache) if e["_previous"] is not None else None
                    for ch, k in steps:
                        vals = path_values(e, ch[k].path)
                        if prev is not None:
                            vals += path_values(prev, ch[k].path)
                        keys |= self._back(source, ch, k, vals, handles)
                if d not in new or new[d] is None:
                    new[d] = ds.last_offset
        finally:
            for ds in handles.values():
                if ds is not None:
                    ds.close()
        return keys, new

    def _back(self, source, chain, k, vals, handles):
        while True:
            vals = [v for v in vals if v is not None]
            if not vals:
                return set()
            s = chain[k]
            if s.back is None:
                return set(source.dependents(s.bound_path, vals))
            prev = chain[s.back]
            ds = handles.get(prev.dataset) or self._open(prev.dataset)
            handles.setdefault(prev.dataset, ds)
            if ds is None:
                return set()
            found = ds.lookup(s.bound_path, vals)
            vals = [v for e in found for v in path_values(e, prev.path)]
            k = s.back


def tracker_for(hub, pipe):
    if pipe.source is None or pipe.source.type not in ("dataset", "merge", "union_datasets",
                                                       "merge_datasets"):
        return None
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
            ch = _invert(node, untracked)
            if ch:
                chains.append(ch)
    if not chains:
        return None
    return Tracker(hub, chains, untracked)


def _invert(spec, untracked):
    try:
        steps, _ = plan_hops(spec)
    except DTLCompileError:
        return None
    alias_step = {}
    out = []
    for i, s in enumerate(steps):
        b = s.bound_side
        if s.path is None or not isinstance(b, Path) or not b.elements:
            untracked.append(f"join into {s.dataset!r} at {spec.span}: not a plain path on both sides")
            return None
        if b.head == "_S" and not b.is_alias:
            back = None
        elif b.is_alias and b.head in alias_step:
            back = alias_step[b.head]
        else:
            untracked.append(f"join into {s.dataset!r}: bound side {b.head!r} not invertible")
            return None
        out.append(Step(s.dataset, tuple(s.path), b.head, tuple(b.elements), back))
        alias_step[s.alias] = i
    return out
