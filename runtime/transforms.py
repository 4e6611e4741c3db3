"""A pipe's transform chain (`Chain`): add_namespaces, the configured transforms in order
(dtl, emit_children; conditional ones are resolved by the configuration layer), then
remove_namespaces (entities-and-datasets.md §3, pipes §13)."""

from __future__ import annotations

from typing import NamedTuple

from dtl.values import NI


class EntityFailure(Exception):
    """One entity could not be transformed or stored; carries the entity and the cause."""

    def __init__(self, entity, message, cause=None):
        super().__init__(message)
        self.entity = entity
        self.cause = cause


def add_namespaces(e, identity, prop, nested=False):
    """The identity namespace on `_id`, the property namespace on every other key not
    starting with `_`, nested dicts (in lists too) included: real configurations read
    `_S.p:profile.p:email` and test `"p:@id"` among a nested dict's keys. A nested dict
    with an `_id` is an entity (`create` emits it): its `_id` gets the identity namespace
    unless already qualified, as a real node's created entities carry it once."""
    out = {}
    for k, v in e.items():
        if k == "_id":
            out[k] = f"{identity}:{v}" if isinstance(v, str) and not (nested and ":" in v) \
                else v
        elif k.startswith("_"):
            out[k] = v
        else:
            out[f"{prop}:{k}"] = _ns_nested(v, identity, prop)
    return out


def _ns_nested(v, identity, prop):
    t = type(v)
    if t is dict:
        return add_namespaces(v, identity, prop, nested=True)
    if t is list:
        return [_ns_nested(x, identity, prop) for x in v]
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
        return {k if k.startswith("_") else k.rpartition(":")[2]:
                _plain_id(x) if k == "_id" else _plain(x) for k, x in v.items()}
    return v


def _plain_id(v):
    return v.partition(":")[2] or v if isinstance(v, str) else v


def remove_namespaces(e):
    out = {}
    for k, v in e.items():
        if k == "_id":
            out[k] = _plain_id(v)
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


def _settle(e, out, id_required, done, i):
    """What follows one transform of entity `e` into `out`, in place: an output without an
    `_id` (unset or null) keeps the source entity's, as a node does; a deleted source stays
    deleted; filtered outputs leave the chain for `done[i]` (the next transform does not see
    them, the sink deletes them). Returns the failure message, if any."""
    eid = e.get("_id")
    filtered = False
    for o in out:
        oid = o.get("_id")
        if oid is None and eid is not None:
            o["_id"] = oid = eid
        if id_required and not isinstance(oid, str):
            return "transform produced an entity without a string _id (id_required is true)"
        if "_filtered" in o and o["_filtered"]:
            filtered = True
    if out and e.get("_deleted") and "_deleted" not in out[0]:
        out[0]["_deleted"] = True
    if filtered:
        done.setdefault(i, []).extend(o for o in out if o.get("_filtered"))
        out[:] = [o for o in out if not o.get("_filtered")]
    return None


class Stage(NamedTuple):
    """One transform of a chain: `kind` "dtl" (a compiled dtl.Transform) or "children"
    (emit_children). `pipe`: the outputs follow a pipe's rules (`_settle`); `dtl transform`
    runs a bare Transform without them."""

    kind: str
    transform: object = None
    id_required: bool = True
    pipe: bool = True


class Chain:
    """A pipe's transforms as one object: `run_many(entities)` runs a batch through every
    stage (each DTL transform over the whole batch with `Transform.apply_each`: columnar
    where the transform says it pays) and gives per input entity its outputs or an
    EntityFailure; `chain(entity)` is the same for one entity (raising the failure). The
    pump, receivers, endpoints, `dtl transform` and the service's preview all run this."""

    def __init__(self, stages, namespaces=None, remove_ns=False):
        self.stages = tuple(stages)
        self.add_ns = namespaces          # (identity, property) for add_namespaces, or None
        self.remove_ns = remove_ns
        # what the columnar pipe path (runtime/columnar.py) needs to know of the chain
        self.namespaces = (namespaces is not None, remove_ns)
        self.batched = any(st.kind == "dtl" and st.transform.batched for st in self.stages)

    @classmethod
    def of(cls, transform):
        """A bare compiled Transform as a chain (`dtl transform`: no pipe rules)."""
        return cls([Stage("dtl", transform, False, False)])

    def __call__(self, entity, bindings=None, trace=None):
        got = self.run_many([entity], bindings, trace)[0]
        if isinstance(got, EntityFailure):
            raise got
        return got

    def run_many(self, entities, bindings=None, trace=None) -> list:
        """Per input entity its output entities or the EntityFailure that stopped it (at its
        first failing stage). `trace` (a list; for one entity) receives the entities after
        add_namespaces and after each transform (the Studio's preview shows every stage)."""
        if not isinstance(entities, list):
            entities = list(entities)
        n = len(entities)
        failed, done = {}, {}   # by input index: its failure; its filtered outputs
        # the live entities in order, with the index of the input each comes from
        if self.add_ns is not None:
            ident, prop = self.add_ns
            flat = [add_namespaces(e, ident, prop) for e in entities]
        else:
            flat = entities
        owner = start = range(n)
        if trace is not None:
            trace.append(list(flat))
        for st in self.stages:
            if failed:
                live = [(e, i) for e, i in zip(flat, owner) if i not in failed]
                flat, owner = [e for e, _ in live], [i for _, i in live]
            if st.kind == "children":
                flat, owner = _children(flat, owner)
            else:
                flat, owner = self._dtl(st, entities, flat, owner, failed, done, bindings)
            if trace is not None and not failed:
                trace.append(done.get(0, []) + flat if st.kind == "dtl" else list(flat))
        if owner is start or (len(flat) == n and owner == list(start)):
            out = [[e] for e in flat]
        else:
            out = [[] for _ in range(n)]
            for e, i in zip(flat, owner):
                out[i].append(e)
        for i, d in done.items():
            out[i] = d + out[i]
        if self.remove_ns:
            out = [[remove_namespaces(e) for e in b] for b in out]
        for i, f in failed.items():
            out[i] = f
        return out

    @staticmethod
    def _dtl(st, entities, flat, owner, failed, done, bindings):
        """One DTL stage over the live entities: the next (flat, owner)."""
        nf, no = [], []
        for e, i, out in zip(flat, owner, st.transform.apply_each(flat, bindings=bindings)):
            if i in failed:
                continue  # an entity stops at its first failure
            if isinstance(out, Exception):
                f = EntityFailure(entities[i], f"{type(out).__name__}: {out}", out)
                f.__cause__ = out
                failed[i] = f
                continue
            if st.pipe:
                bad = _settle(e, out, st.id_required, done, i)
                if bad:
                    failed[i] = EntityFailure(entities[i], bad)
                    continue
            if len(out) == 1:
                nf.append(out[0])
                no.append(i)
            else:
                nf.extend(out)
                no.extend([i] * len(out))
        return nf, no


def _children(flat, owner):
    nf, no = [], []
    for e, i in zip(flat, owner):
        kids = emit_children([e])
        nf.extend(kids)
        no.extend([i] * len(kids))
    return nf, no


def build_chain(pipe, provider, services, *, backend="auto", mark_filtered=True) -> Chain:
    """The Chain of a pipe's transforms (raises ValueError for a transform type that does
    not run offline). `backend`: the DTL backend they compile with (`Hub(backend=)`)."""
    eff = pipe.effective
    opts = {"namespaced_identifiers": eff.get("namespaced_identifiers", False),
            "namespaces": dict(eff.get("namespaces") or {})}
    stages = []
    for t in pipe.transforms:
        if t.type == "dtl":
            tr = t.compile(provider=provider, options=opts, mark_filtered=mark_filtered,
                           services=services, backend=backend)
            stages.append(Stage("dtl", tr, bool(t.get("id_required", True))))
        elif t.type == "emit_children":
            stages.append(Stage("children"))
        else:
            raise ValueError(f"pipe {pipe.id!r}: transform type {t.type!r} is not supported offline")
    ns = eff.get("namespaces") or {}
    add = (ns.get("identity", pipe.id), ns.get("property", pipe.id)) \
        if eff.get("add_namespaces") else None
    return Chain(stages, add, bool(eff.get("remove_namespaces")))
