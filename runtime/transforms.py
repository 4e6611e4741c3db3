"""A pipe's transform chain as one function `entity -> list of entities`: add_namespaces,
the configured transforms in order (dtl, emit_children; conditional ones are resolved by the
configuration layer), then remove_namespaces (entities-and-datasets.md §3, pipes §13)."""

from __future__ import annotations

from dtl.values import NI


class EntityFailure(Exception):
    """One entity could not be transformed or stored; carries the entity and the cause."""

    def __init__(self, entity, message, cause=None):
        super().__init__(message)
        self.entity = entity
        self.cause = cause


def add_namespaces(e, identity, prop):
    """The identity namespace on `_id`, the property namespace on every other key not
    starting with `_`, nested dicts (in lists too) included: real configurations read
    `_S.p:profile.p:email` and test `"p:@id"` among a nested dict's keys."""
    out = {}
    for k, v in e.items():
        if k == "_id":
            out[k] = f"{identity}:{v}" if isinstance(v, str) else v
        elif k.startswith("_"):
            out[k] = v
        else:
            out[f"{prop}:{k}"] = _ns_nested(v, prop)
    return out


def _ns_nested(v, prop):
    t = type(v)
    if t is dict:
        return {k if k.startswith("_") else f"{prop}:{k}": _ns_nested(x, prop)
                for k, x in v.items()}
    if t is list:
        return [_ns_nested(x, prop) for x in v]
    return v


def _plain(v):
    """A value with the namespaces removed: from nested keys, and from references (which
    stay references)."""
    t = type(v)
    if t is NI:
        return NI(v.identifier)
    if t is list:
        return [_plain(x) for x in v]
    if t is dict:
        return {k if k.startswith("_") else k.rpartition(":")[2]: _plain(x)
                for k, x in v.items()}
    return v


def remove_namespaces(e):
    out = {}
    for k, v in e.items():
        if k == "_id":
            out[k] = v.partition(":")[2] or v if isinstance(v, str) else v
        elif k.startswith("_"):
            out[k] = v
        else:
            out[k.rpartition(":")[2]] = _plain(v)
    return out


def emit_children(entities):
    out = []
    for e in entities:
        kids = e.get("$children")
        if isinstance(kids, dict):
            kids = [kids]
        for c in kids or ():
            if isinstance(c, dict) and "_id" in c:
                out.append(c)
    return out


def _settle(e, out, id_required, done):
    """What follows one transform of entity `e` into `out`, in place: an output without an
    `_id` (unset or null) keeps the source entity's, as a node does; a deleted source stays
    deleted; filtered outputs leave the chain for `done` (the next transform does not see
    them, the sink deletes them). Returns the failure message, if any."""
    eid = e.get("_id")
    for o in out:
        if o.get("_id") is None and eid is not None:
            o["_id"] = eid
    if e.get("_deleted") and out and "_deleted" not in out[0]:
        out[0]["_deleted"] = True
    if id_required and any(not isinstance(o.get("_id"), str) for o in out):
        return "transform produced an entity without a string _id (id_required is true)"
    if any(o.get("_filtered") for o in out):
        done.extend(o for o in out if o.get("_filtered"))
        out[:] = [o for o in out if not o.get("_filtered")]
    return None


def build_chain(pipe, provider, services, *, backend="auto", mark_filtered=True):
    """Return `run(entity) -> list[dict]` for the pipe (raises EntityFailure); its attribute
    `run_many(entities)` runs a whole batch (per entity: outputs or an EntityFailure).
    `backend`: the DTL backend the pipe's transforms compile with (`Hub(backend=)`)."""
    eff = pipe.effective
    opts = {"namespaced_identifiers": eff.get("namespaced_identifiers", False),
            "namespaces": dict(eff.get("namespaces") or {})}
    stages = []
    for t in pipe.transforms:
        if t.type == "dtl":
            tr = t.compile(provider=provider, options=opts, mark_filtered=mark_filtered,
                           services=services, backend=backend)
            stages.append(("dtl", tr, bool(t.get("id_required", True))))
        elif t.type == "emit_children":
            stages.append(("children", None, True))
        else:
            raise ValueError(f"pipe {pipe.id!r}: transform type {t.type!r} is not supported offline")
    add_ns = bool(eff.get("add_namespaces"))
    rm_ns = bool(eff.get("remove_namespaces"))
    ns = eff.get("namespaces") or {}
    ident, prop = ns.get("identity", pipe.id), ns.get("property", pipe.id)

    def run(entity, bindings=None, trace=None):
        """`trace` (a list) receives the entities after add_namespaces and after each
        transform (the Studio's preview shows every stage)."""
        src = entity
        done = []   # filtered entities: out of the chain, on to the sink (as deletes)
        batch = [add_namespaces(entity, ident, prop) if add_ns else entity]
        if trace is not None:
            trace.append(list(batch))
        for kind, tr, id_required in stages:
            if kind == "children":
                batch = emit_children(batch)
                if trace is not None:
                    trace.append(list(batch))
                continue
            nxt = []
            for e in batch:
                try:
                    out = tr.apply(e, bindings=bindings)
                except Exception as ex:  # noqa: BLE001 - any DTL failure is an entity error
                    raise EntityFailure(src, f"{type(ex).__name__}: {ex}", ex) from ex
                bad = _settle(e, out, id_required, done)
                if bad:
                    raise EntityFailure(src, bad)
                nxt.extend(out)
            batch = nxt
            if trace is not None:
                trace.append(done + batch)
        batch = done + batch
        if rm_ns:
            batch = [remove_namespaces(e) for e in batch]
        return batch

    batched = any(kind == "dtl" and tr.batched for kind, tr, _ in stages)

    def run_many(entities, bindings=None):
        """`run` over a list of entities, each DTL transform running the whole list as one
        batch (`Transform.apply_each`: columnar on the vector backend). Returns per input
        entity its output entities or the EntityFailure `run` would raise for it."""
        if not batched:  # nothing gains from a batch: `run` per entity, no extra bookkeeping
            out = []
            for e in entities:
                try:
                    out.append(run(e, bindings))
                except EntityFailure as f:
                    out.append(f)
            return out
        if not isinstance(entities, list):
            entities = list(entities)
        n = len(entities)
        failed: list = [None] * n
        done = [[] for _ in range(n)]
        cur = [[add_namespaces(e, ident, prop)] if add_ns else [e] for e in entities]
        for kind, tr, id_required in stages:
            if kind == "children":
                cur = [emit_children(b) if failed[i] is None else [] for i, b in enumerate(cur)]
                continue
            flat, owner = [], []
            for i, b in enumerate(cur):
                if failed[i] is None:
                    flat.extend(b)
                    owner.extend([i] * len(b))
            results = tr.apply_each(flat, bindings=bindings)
            nxt = [[] for _ in range(n)]
            for e, i, out in zip(flat, owner, results):
                if failed[i] is not None:
                    continue  # `run` stops at the first failure of an entity
                src = entities[i]
                if isinstance(out, Exception):
                    f = EntityFailure(src, f"{type(out).__name__}: {out}", out)
                    f.__cause__ = out
                    failed[i] = f
                    continue
                bad = _settle(e, out, id_required, done[i])
                if bad:
                    failed[i] = EntityFailure(src, bad)
                    continue
                nxt[i].extend(out)
            cur = nxt
        cur = [d + b for d, b in zip(done, cur)]
        if rm_ns:
            cur = [[remove_namespaces(e) for e in b] for b in cur]
        return [failed[i] if failed[i] is not None else cur[i] for i in range(n)]

    run.run_many = run_many
    # what the columnar pipe path (runtime/columnar.py) needs to know of the chain
    run.stages = tuple(stages)
    run.namespaces = (add_ns, rm_ns)
    return run
