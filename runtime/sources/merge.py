"""`merge` source, version 2 (configuration-sources-merge.rst): entities of several datasets
joined by transitive equality into one entity each. Incremental: each dataset's changes since
its offset (a composite offset {dataset: offset}) re-merge the clusters they touch.

Equality rules come from `equality` (`["eq", side, side]`) and `equality_sets` (each set's
sides chained pairwise, as the docs say Sesam does). A side is a property path
(`alias.path`, looked up through the dataset's secondary index) or a DTL expression reading one
alias (`["first", "ad.x"]`, evaluated per entity; each dataset it matches against is indexed
by its values once per run). With namespaced identifiers a path with an unqualified element is
evaluated as DTL does it (namespace aware: `au.x` matches `ad-user:x`). Null and empty values
never merge. Clusters are found breadth first, at most `max_merged` members. Strategy `default`
combines same-named properties into lists, `compact` dedups, unwraps single values and drops
null and empty properties, `list`
puts the members under `$merged`. A member that now belongs to a cluster named by another id
is also emitted as a `$replaced` delete of its own id, which the pump writes only where that id
is live (this retires the ids of clusters that merged; a composite id of several members that
later split is not retired)."""

from __future__ import annotations

from dataclasses import dataclass

from dtl.provider import path_values
from dtl.values import NI
from runtime.config.model import thaw
from runtime.sources.base import Batch, Source, chunks, inputs_populated
from storage.index import value_key

INTERNAL = ("_updated", "_ts", "_hash", "_previous", "_deleted")


class MergeSource(Source):
    def __init__(self, pipe, component, batch_size, store):
        self.component = component
        specs = [s.split() for s in component["datasets"]]
        super().__init__(pipe, batch_size, supports_since=True, is_chronological=True,
                         datasets=tuple(s[0] for s in specs))
        self.store = store
        self.names = [s[0] for s in specs]
        self.alias = {(s[1] if len(s) > 1 else s[0]): i for i, s in enumerate(specs)}
        self.identity = component.get("identity", "composite")
        self.strategy = component.get("strategy", "default")
        self.max_merged = int(component.get("max_merged", 50000) or 50000)
        self.ni = bool(pipe.get("namespaced_identifiers", False))
        # rules[i] = [(side in dataset i, j, side in dataset j)]
        self.rules = [[] for _ in self.names]
        for a, b in equality_pairs(component):
            a, b = self._side(a), self._side(b)
            self.rules[a.i].append((a, b.i, b))
            self.rules[b.i].append((b, a.i, a))
        self._ds = {}
        self._expr_index = {}   # (dataset, side) -> {value key: [_id]} for this run

    def _side(self, spec):
        if isinstance(spec, str):
            alias, _, path = spec.partition(".")
            if alias in self.alias and path:
                els = tuple(path.split("."))
                # system properties (`_id`, `$ids`) are never namespaced: they stay paths
                if not (self.ni and any(":" not in el and el[:1] not in ("_", "$")
                                        for el in els)):
                    return Side(self.alias[alias], els, None, self.ni)
        return self._expression_side(spec)

    def _expression_side(self, spec):
        import dtl
        used = set()
        rewritten = _as_source(spec, self.alias, used)
        if len(used) != 1:
            raise ValueError(f"merge equality side {_show(spec)}: expected a property path "
                             f"'<alias>.<path>' or an expression reading exactly one of the "
                             f"aliases {', '.join(self.alias)}")
        fn = dtl.compile_expression(rewritten, options={"namespaced_identifiers": self.ni})
        return Side(self.alias[used.pop()], None, fn)

    def _open(self, i):
        ds = self._ds.get(i)
        if ds is None and self.store.exists(self.names[i]):
            ds = self._ds[i] = self.store.open(self.names[i])
        return ds

    def populated(self):
        return inputs_populated(self.component, self.names, self._ds_populated,
                                self._ds_exists)

    def close(self):
        for ds in self._ds.values():
            ds.close()
        self._ds.clear()
        self._expr_index.clear()

    def end_since(self):
        return {n: (self._open(i).last_offset if self._open(i) else -1)
                for i, n in enumerate(self.names)}

    # -- reading ---------------------------------------------------------------------------
    def read(self, since):
        since = dict(since or {})
        full = not since
        for i, name in enumerate(self.names):
            ds = self._open(i)
            if ds is None:
                continue
            start = since.get(name)
            done = set()   # cluster ids emitted for this dataset's changes
            for ch in chunks(ds.entities(since=start, deleted=True), self.batch_size):
                out = []
                for e in ch:
                    if full and i > 0 and self._seen_earlier(i, e):
                        continue
                    out.extend(self._emit_for(i, e, done))
                since[name] = ch[-1]["_updated"]
                yield Batch(out, dict(since))
            if name not in since:
                since[name] = ds.last_offset

    def _seen_earlier(self, i, e):
        """In a full pass, a live entity merged with a member of an earlier dataset was
        already emitted with that cluster."""
        if e.get("_deleted"):
            return False
        for side, j, jside in self.rules[i]:
            if j < i and self._match(j, jside, side.values(e)):
                return True
        return False

    def _match(self, j, side, values):
        """Entities of dataset j whose `side` shares a value with `values`."""
        ds = self._open(j)
        vals = [v for v in values if v is not None]
        if ds is None or not vals:
            return []
        if side.path == ("$ids",):
            # an entity without `$ids` has its own `_id` as its one identity (`own_ids`)
            found = {x["_id"]: x for x in ds.lookup(side.path, vals)}
            for v in vals:
                x = ds.get(v.value if isinstance(v, NI) else v)
                if x is not None and not x.get("_deleted") and "$ids" not in x:
                    found.setdefault(x["_id"], x)
            return list(found.values())
        if side.path is not None:
            return ds.lookup(side.path, vals)
        index = self._expr_index.get((j, side))
        if index is None:
            index = self._expr_index[(j, side)] = {}
            for x in ds.entities(deleted=False):
                for v in side.values(x):
                    k = value_key(v)
                    if k is not None:
                        index.setdefault(k, []).append(x["_id"])
        ids = dict.fromkeys(i for v in vals for i in index.get(value_key(v), ()))
        return [x for x in (ds.get(i) for i in ids) if x is not None]

    def _emit_for(self, i, e, done):
        out = self._old_mates(i, e, done)
        if e.get("_deleted"):
            out.append(self._alone_deleted(i, e))
        else:
            members = self._cluster(i, e)
            m = self._merged(members)
            if m["_id"] not in done:
                done.add(m["_id"])
                out.append(m)
            for j, x in members:
                own = self._id_of([(j, x)])
                if own != m["_id"]:
                    out.append({"_id": own, "_deleted": True, "$replaced": True})
        return out

    def _old_mates(self, i, e, done):
        """Clusters of the entities the previous version of `e` matched (they may split)."""
        prev = e.get("_previous")
        if prev is None:
            return []
        old = self._open(i).version_at(prev)
        if old is None or old.get("_deleted"):
            return []
        out = []
        for side, j, jside in self.rules[i]:
            for y in self._match(j, jside, side.values(old)):
                if y["_id"] == e["_id"] and j == i:
                    continue
                m = self._merged(self._cluster(j, y))
                if m["_id"] not in done:
                    done.add(m["_id"])
                    out.append(m)
        return out

    def _cluster(self, i, e):
        seen = {(i, e["_id"])}
        members, todo = [(i, e)], [(i, e)]
        while todo and len(members) < self.max_merged:
            k, x = todo.pop()
            for side, j, jside in self.rules[k]:
                for y in self._match(j, jside, side.values(x)):
                    key = (j, y["_id"])
                    if key not in seen:
                        seen.add(key)
                        members.append((j, y))
                        todo.append((j, y))
        members.sort(key=lambda m: (m[0], m[1]["_id"]))
        return members

    def _id_of(self, members):
        if self.identity == "first":
            return members[0][1]["_id"]
        return "|".join(f"{j}|{x['_id']}" for j, x in members)

    def _ids(self, members):
        ids = []
        for _, x in members:
            for v in own_ids(x, self.ni):
                if v not in ids:
                    ids.append(v)
        return ids

    def _merged(self, members):
        out = {"_id": self._id_of(members), "$ids": self._ids(members)}
        if self.strategy == "list":
            out["$merged"] = [{k: v for k, v in x.items() if k not in INTERNAL}
                              for _, x in members]
            return out
        props: dict = {}
        for _, x in members:
            for k, v in x.items():
                if k.startswith("_") or k == "$ids":
                    continue
                props.setdefault(k, []).append(v)
        compact = self.strategy == "compact"
        for k, vs in props.items():
            if len(vs) == 1:
                # compact drops empty properties, of one member too (a real node's global
                # dataset of one input has no null or [] properties); a lone list stays a list
                if not (compact and (vs[0] is None or vs[0] == [])):
                    out[k] = vs[0]
                continue
            flat = []
            for v in vs:
                flat.extend(v if isinstance(v, list) else [v])
            if compact:
                uniq = []
                for v in flat:
                    if v is not None and v not in uniq:
                        uniq.append(v)
                if not uniq:
                    continue
                flat = uniq[0] if len(uniq) == 1 else uniq
            out[k] = flat
        return out

    def _alone_deleted(self, i, e):
        d = {k: v for k, v in e.items() if k not in INTERNAL or k == "_deleted"}
        d["_id"] = self._id_of([(i, e)])
        d["$ids"] = self._ids([(i, e)])
        d["_deleted"] = True
        return d

    # -- dependency tracking -----------------------------------------------------------------
    def dependents(self, path, values):
        """Member keys (dataset index, _id) whose merged entity has `path` overlapping values."""
        keys = set()
        if tuple(path) == ("$ids",):
            for v in values:
                vid = v.value if isinstance(v, NI) else v
                for i in range(len(self.names)):
                    ds = self._open(i)
                    if ds is not None and isinstance(vid, str) and ds.get(vid) is not None:
                        keys.add((i, vid))
        for i in range(len(self.names)):
            for x in self._match(i, Side(i, tuple(path), None, self.ni), values):
                keys.add((i, x["_id"]))
        return keys

    def refetch(self, keys, limit):
        done = set()
        for ch in chunks(sorted(keys), self.batch_size):
            out = []
            for i, eid in ch:
                ds = self._open(i)
                e = ds.get(eid) if ds is not None else None
                if e is None or (limit and e["_updated"] > limit.get(self.names[i], -1)):
                    continue
                out.extend(x for x in self._emit_for(i, e, done) if not x.get("$replaced"))
            yield out


@dataclass(frozen=True, eq=False)
class Side:
    """One side of an equality rule: dataset `i`, read by property `path` or by a compiled
    expression `expr` (with `_S` the entity). Compared by identity (an index cache key)."""

    i: int
    path: tuple | None
    expr: object
    ni: bool = False

    def values(self, e) -> list:
        if self.path == ("$ids",):
            return own_ids(e, self.ni)
        if self.path is not None:
            return path_values(e, self.path)
        v = self.expr(e)
        return [x for x in (v if isinstance(v, list) else [v]) if x is not None]


def own_ids(e, ni: bool) -> list:
    """An entity's identities: its `$ids`, or (configuration-sources-merge.rst: "an entity id
    will not be added to this list if the original entity has the `$ids` property") its own
    `_id`, an NI with namespaced identifiers. Equality on `a.$ids` matches them so: a real
    node merges entities of a dataset without `$ids` through `["eq", "a.$ids", "b.x-ni"]`."""
    own = e.get("$ids")
    if own is None:
        return [NI(e["_id"]) if ni else e["_id"]]
    return [v for v in (own if isinstance(own, list) else [own]) if v is not None]


def equality_pairs(component):
    """The equality rules as (side, side) pairs: `equality`'s `eq`s, then each equality set's
    sides chained pairwise (configuration-sources-merge.rst: the sets are sugar for those)."""
    pairs = []
    for eq in thaw(component.get("equality") or ()):
        if not (isinstance(eq, list) and len(eq) == 3 and eq[0] == "eq"):
            raise ValueError(f"merge equality rule {_show(eq)}: expected [\"eq\", side, side]")
        pairs.append((eq[1], eq[2]))
    for group in thaw(component.get("equality_sets") or ()):
        if not isinstance(group, list):
            raise ValueError(f"merge equality set {_show(group)}: expected a list of sides")
        pairs.extend(zip(group, group[1:]))
    return pairs


def _as_source(node, aliases, used):
    """The expression with `alias.path` strings rewritten to `_S.path` (aliases seen go in
    `used`)."""
    if isinstance(node, str):
        alias, dot, rest = node.partition(".")
        if dot and alias in aliases:
            used.add(alias)
            return "_S." + rest
        return node
    if isinstance(node, list):
        return [_as_source(x, aliases, used) for x in node]
    if isinstance(node, dict):
        return {k: _as_source(v, aliases, used) for k, v in node.items()}
    return node


def _show(x):
    import json
    try:
        return json.dumps(x)[:200]
    except (TypeError, ValueError):
        return repr(x)[:200]
